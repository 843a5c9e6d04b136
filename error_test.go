package crossbill_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/crossbill/crossbill"
)

func TestErrorCodeAndExit(t *testing.T) {
	t.Parallel()
	cause := errors.New("disk full")
	cases := []struct {
		name string
		err  error
		code crossbill.Code
		exit int
	}{
		{"nil", nil, "", 0},
		{"plain", cause, crossbill.CodeInternal, 1},
		{"invalid", crossbill.Errorf(crossbill.CodeInvalid, "op", "bad %q", "x"), crossbill.CodeInvalid, 2},
		{"wrapped not found", fmt.Errorf("outer: %w", crossbill.Errorf(crossbill.CodeNotFound, "op", "no tenant")), crossbill.CodeNotFound, 3},
		{"conflict", &crossbill.Error{Code: crossbill.CodeConflict}, crossbill.CodeConflict, 4},
		{"denied", &crossbill.Error{Code: crossbill.CodeAccessDenied}, crossbill.CodeAccessDenied, 5},
		{"throttled", &crossbill.Error{Code: crossbill.CodeThrottled}, crossbill.CodeThrottled, 6},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := crossbill.ErrorCode(tc.err); got != tc.code {
				t.Errorf("ErrorCode = %q, want %q", got, tc.code)
			}
			if got := crossbill.ExitCode(tc.err); got != tc.exit {
				t.Errorf("ExitCode = %d, want %d", got, tc.exit)
			}
		})
	}
}

func TestErrorfWrapsCause(t *testing.T) {
	t.Parallel()
	cause := errors.New("boom")
	err := crossbill.Errorf(crossbill.CodeUnavailable, "store open", "opening %s: %w", "db", cause)
	if !errors.Is(err, cause) {
		t.Fatalf("cause lost: %v", err)
	}
	if got, want := err.Error(), "store open: opening db: boom"; got != want {
		t.Fatalf("message = %q", got)
	}
}

func TestAccountIDValid(t *testing.T) {
	t.Parallel()
	for in, want := range map[crossbill.AccountID]bool{"123456789012": true, "12345678901": false, "12345678901a": false, "": false} {
		if got := in.Valid(); got != want {
			t.Errorf("%q.Valid() = %v, want %v", in, got, want)
		}
	}
}
