package jit_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/crossbill/crossbill/internal/jit"
)

// FuzzPolicy: any JSON either fails to decode or to check with an error,
// or checks into a policy whose limits hold; never a panic.
func FuzzPolicy(f *testing.F) {
	for _, s := range []string{
		`{"name":"oncall","people":["ann@example.com"],"targets":[{"permission_set":"Ops","accounts":["111122223333"]}],"max_duration":"4h"}`,
		`{"name":"g","groups":["platform"],"targets":[{"group":"db","account":"111122223333"}],"max_duration":"1m","two_person":true,"approvers":["a@b.c","d@e.f"]}`,
		`{"name":"bh","people":["a@b.c"],"targets":[{"group":"db","account":"111122223333"}],"max_duration":"1h","auto_approve":{"business_hours":{"from":9,"to":18,"time_zone":"Europe/Paris"},"low_risk":["db"]}}`,
		`{"name":"x","people":["a@b.c"],"targets":[{"group":"db","account":"1"}],"max_duration":"-1h"}`,
		`{"max_duration":"bogus"}`, `[]`, `{"name":"\u202e"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var p jit.Policy
		if json.Unmarshal([]byte(s), &p) != nil {
			return
		}
		if err := p.Check(); err != nil {
			if err.Error() == "" {
				t.Fatal("an empty error")
			}
			return
		}
		d := time.Duration(p.MaxDuration)
		if d < time.Minute || d > jit.MaxLease || len(p.Targets) == 0 || len(p.People)+len(p.Groups) == 0 || p.DecideWithin <= 0 {
			t.Fatalf("checked policy out of bounds: %+v", p)
		}
		for _, e := range p.People {
			if !strings.Contains(e, "@") {
				t.Fatalf("person %q passed", e)
			}
		}
	})
}
