// Package e2e holds the browser end-to-end test of the web UI: a Go test
// builds crossbill and runs the Node test script (playwright-core driving
// headless Debian chromium) against `crossbill demo`.
package e2e
