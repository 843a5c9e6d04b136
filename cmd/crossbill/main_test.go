package main

import (
	"os"
	"testing"

	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/pgtest"
)

// TestMain stops the package's shared emulator and PostgreSQL after the
// tests.
func TestMain(m *testing.M) {
	os.Exit(emulator.RunTests(m, pgtest.Stop))
}
