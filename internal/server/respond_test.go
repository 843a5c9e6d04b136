package server

import (
	"encoding/json"
	"math"
	"net/http/httptest"
	"testing"
)

// TestUnencodableResponseIs500: a value JSON cannot carry (+Inf) gets a
// 500 with an error body, not a 200 with an empty one.
func TestUnencodableResponseIs500(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	writeJSON(rec, httptest.NewRequest("GET", "/api/v1/x", nil), 200, map[string]float64{"savings": math.Inf(1)})
	var body errorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &body); rec.Code != 500 || err != nil || body.Code != "internal" || body.Error == "" {
		t.Fatalf("%d %q (%v), want 500 with an error body", rec.Code, rec.Body.String(), err)
	}
}
