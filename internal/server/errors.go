package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/crossbill/crossbill"
)

// statusOf is the one map from crossbill's error codes to HTTP statuses.
func statusOf(err error) int {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return http.StatusRequestEntityTooLarge
	}
	switch crossbill.ErrorCode(err) {
	case crossbill.CodeInvalid:
		return http.StatusBadRequest
	case crossbill.CodeUnauthorized:
		return http.StatusUnauthorized
	case crossbill.CodeAccessDenied:
		return http.StatusForbidden
	case crossbill.CodeNotFound:
		return http.StatusNotFound
	case crossbill.CodeConflict:
		return http.StatusConflict
	case crossbill.CodeThrottled:
		return http.StatusTooManyRequests
	case crossbill.CodeUnavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// errorBody is every error response's JSON.
type errorBody struct {
	Error     string         `json:"error"`
	Code      crossbill.Code `json:"code"`
	RequestID string         `json:"request_id,omitempty"`
}

// writeError answers with err's status and message. Internal errors are
// logged in full and answered with a generic message: their text may hold
// details (paths, SQL) a caller has no use for.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	code := crossbill.ErrorCode(err)
	msg := err.Error()
	if status == http.StatusRequestEntityTooLarge {
		code, msg = crossbill.CodeInvalid, "request body too large"
	}
	rid := requestID(r.Context())
	if status >= 500 {
		logger(r.Context()).Error("request failed", "err", err, "code", code)
		if code == crossbill.CodeInternal {
			msg = "internal error; the server log has the details under request_id " + rid
		}
	}
	if status == http.StatusTooManyRequests && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "2")
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="crossbill"`)
	}
	writeJSON(w, r, status, errorBody{Error: msg, Code: code, RequestID: rid})
}

// writeJSON encodes v before sending the status, so that a value that
// cannot be encoded (an infinite or NaN float) is answered with a 500 and an
// error body rather than a 200 with an empty or truncated one.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		if _, isErr := v.(errorBody); isErr {
			panic(err) // an errorBody holds only strings: cannot fail
		}
		writeError(w, r, crossbill.Errorf(crossbill.CodeInternal, "response", "encoding the response: %w", err))
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if _, err := w.Write(buf.Bytes()); err != nil {
		// The status is sent; all that is left is to note the broken write.
		logger(r.Context()).Debug("writing response", "err", err)
	}
}
