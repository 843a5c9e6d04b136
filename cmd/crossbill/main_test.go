package main

import (
	"os"
	"testing"

	"github.com/crossbill/crossbill/internal/emulator"
)

// TestMain stops the package's shared emulator after the tests.
func TestMain(m *testing.M) { os.Exit(emulator.RunTests(m)) }
