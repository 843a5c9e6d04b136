package inventory_test

import (
	"os"
	"testing"

	"github.com/crossbill/crossbill/internal/emulator"
)

func TestMain(m *testing.M) { os.Exit(emulator.RunTests(m)) }
