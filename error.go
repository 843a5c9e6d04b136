package crossbill

import (
	"errors"
	"fmt"
)

// Code classifies an error so that the CLI and the API can map it once to an
// exit code or an HTTP status.
type Code string

// Error codes.
const (
	CodeInvalid      Code = "invalid"       // the caller's input is wrong
	CodeNotFound     Code = "not_found"     // the thing asked for does not exist
	CodeConflict     Code = "conflict"      // the thing exists or belongs to someone else
	CodeAccessDenied Code = "access_denied" // AWS or crossbill refused the call
	CodeUnauthorized Code = "unauthorized"  // no or bad credentials
	CodeThrottled    Code = "throttled"     // retry later
	CodeUnavailable  Code = "unavailable"   // a dependency is down or missing
	CodeInternal     Code = "internal"      // a bug or an unexpected failure
)

// Error is crossbill's error: a code, the operation that failed, a message a
// person can act on, and the underlying cause.
type Error struct {
	Code    Code
	Op      string // what was being done, e.g. "tenant create"
	Message string // what happened and what to do about it
	Err     error  // cause, may be nil
}

func (e *Error) Error() string {
	// Message is complete on its own (Errorf folds the cause into it); the
	// cause is shown only when there is no message.
	msg := e.Message
	if msg == "" && e.Err != nil {
		msg = e.Err.Error()
	}
	if e.Op != "" {
		return e.Op + ": " + msg
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
// A %w verb in format wraps the cause as usual.
func Errorf(code Code, op, format string, args ...any) error {
	wrapped := fmt.Errorf(format, args...)
	return &Error{Code: code, Op: op, Message: wrapped.Error(), Err: errors.Unwrap(wrapped)}
}

// ErrorCode returns the code of the first *Error in err's chain, CodeInternal
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ExitCode maps an error to the process exit code the CLI documents.
func ExitCode(err error) int {
	switch ErrorCode(err) {
	case "":
		return 0
	case CodeInvalid:
		return 2
	case CodeNotFound:
		return 3
	case CodeConflict:
		return 4
	case CodeAccessDenied, CodeUnauthorized:
		return 5
	case CodeThrottled, CodeUnavailable:
		return 6
	default:
		return 1
	}
}
