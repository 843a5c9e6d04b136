// Package e2e holds the browser end-to-end test of the web UI: a Go test
// builds crossbill and runs the Node test script (playwright-core driving
// headless Debian chromium) against `crossbill demo` (ui.test.js), `crossbill serve` with single
// sign-on (signin.test.js) and `crossbill serve` with a JIT connection on
// moto (jit.test.js).
package e2e
