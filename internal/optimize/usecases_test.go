package optimize

import (
	"bytes"
	"context"
	"encoding/csv"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/inventory"
	"github.com/crossbill/crossbill/internal/store"
)

func openStore(t *testing.T) (*store.Store, store.Tenant, store.Tenant) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	st.SetClock(func() time.Time { return now })
	a, err := st.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.CreateTenant(ctx, "beta")
	if err != nil {
		t.Fatal(err)
	}
	return st, a, b
}

// TestEvaluateListGet: an evaluation over a Memory source is stored,
// listed with filters and totals, read by ID, resolved when the resource
// is fixed, scoped to its tenant, and follows the tenant's thresholds.
func TestEvaluateListGet(t *testing.T) {
	ctx := context.Background()
	st, acme, beta := openStore(t)
	idle := instance("i-idle", "m7g.xlarge") // Graviton already
	vol := volume("vol-old", "gp3", 50, 3000, "available")
	vol.AccountID = "444455556666"
	eip := res("ec2/elastic-ip", "eipalloc-free", nil)
	src := &Memory{}
	u := idleUtil(idle, 3)[idle.ARN]
	src.Save(acme.ID, []inventory.Resource{idle, vol, eip}, []inventory.Utilization{u})

	if _, err := Evaluate(ctx, st, acme.ID, nil); crossbill.ErrorCode(err) != crossbill.CodeUnavailable {
		t.Fatalf("no source: %v", err)
	}
	if _, err := List(ctx, st, acme.ID, Filter{}); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("before any evaluation: %v", err)
	}
	e, err := Evaluate(ctx, st, acme.ID, src)
	if err != nil || e.Resources != 3 || e.Summary.Count != 2 {
		t.Fatalf("evaluate: %+v, %v", e, err)
	}
	l, err := List(ctx, st, acme.ID, Filter{})
	if err != nil || len(l.Recommendations) != 2 || l.EvaluationID != e.ID || l.Summary.Total != round2(50*gp3PerGB+3.65) {
		t.Fatalf("list: %+v, %v", l, err)
	}
	if l, _ := List(ctx, st, acme.ID, Filter{Account: "444455556666"}); len(l.Recommendations) != 1 || l.Recommendations[0].Rule != "ebs-unattached" {
		t.Fatalf("by account: %+v", l.Recommendations)
	}
	if l, _ := List(ctx, st, acme.ID, Filter{Rule: "eip-unassociated"}); len(l.Recommendations) != 1 || l.Recommendations[0].State != store.RecommendationOpen {
		t.Fatalf("by rule: %+v", l.Recommendations)
	}
	for _, f := range []Filter{{Rule: "nope"}, {Account: "12"}, {State: "maybe"}} {
		if _, err := List(ctx, st, acme.ID, f); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
			t.Errorf("%+v: %v", f, err)
		}
	}
	id := RecommendationID("eip-unassociated", eip.ARN)
	got, err := Get(ctx, st, acme.ID, id)
	if err != nil || got.Savings.Monthly != 3.65 || got.Evidence.Test == "" || got.EvaluationID != e.ID {
		t.Fatalf("get: %+v, %v", got, err)
	}
	if _, err := Get(ctx, st, beta.ID, id); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("beta reads acme's recommendation: %v", err)
	}

	// The tenant lowers the idle rule's bar: the instance's 3 low days now count.
	by := store.AuditEntry{Actor: "token:tok_1"}
	v, err := SetThresholds(ctx, st, acme.ID, "ec2-idle", map[string]float64{"min_low_days": 3}, false, by)
	if err != nil || v.Values["min_low_days"] != 3 || len(v.Customized) != 1 {
		t.Fatalf("set: %+v, %v", v, err)
	}
	for _, bad := range []map[string]float64{{"min_low_days": 0}, {"nope": 1}} {
		if _, err := SetThresholds(ctx, st, acme.ID, "ec2-idle", bad, false, by); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
			t.Errorf("%v: %v", bad, err)
		}
	}
	// The address is released.
	src.Save(acme.ID, []inventory.Resource{idle, vol}, []inventory.Utilization{u})
	if _, err := Evaluate(ctx, st, acme.ID, src); err != nil {
		t.Fatal(err)
	}
	l, _ = List(ctx, st, acme.ID, Filter{})
	if len(l.Recommendations) != 2 || l.Recommendations[0].Rule != "ec2-idle" {
		t.Fatalf("after the change: %+v", l.Recommendations)
	}
	got, err = Get(ctx, st, acme.ID, id)
	if err != nil || got.State != store.RecommendationResolved || got.ResolvedAt == nil {
		t.Fatalf("the released address's recommendation: %+v, %v", got, err)
	}
	if views, _ := RuleSettings(ctx, st, beta.ID); views[0].Values["min_low_days"] != 4 {
		t.Fatalf("beta got acme's threshold: %+v", views[0].Values)
	}
	if v, err := SetThresholds(ctx, st, acme.ID, "ec2-idle", nil, true, by); err != nil || v.Values["min_low_days"] != 4 || len(v.Customized) != 0 {
		t.Fatalf("reset: %+v, %v", v, err)
	}

	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(CSVHeader)
	for _, r := range l.Recommendations {
		_ = w.Write(CSVRow(r))
	}
	w.Flush()
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(rows) != 3 || len(rows[1]) != len(CSVHeader) || rows[1][1] != "ec2-idle" {
		t.Fatalf("csv: %v, %v", rows, err)
	}
}
