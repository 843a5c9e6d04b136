package automation_test

import (
	"context"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/automation"
	"github.com/crossbill/crossbill/internal/store"
)

// TestApplyAndRunDue: a bad file is refused and nothing is kept; an
// applied file's policies run when due by their schedule, the events
// policy also on each event; another tenant has none.
func TestApplyAndRunDue(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	st.SetClock(func() time.Time { return now })
	acme, _ := st.CreateTenant(ctx, "acme")
	beta, _ := st.CreateTenant(ctx, "beta")
	if _, err := automation.Apply(ctx, st, acme.ID, []byte("policies: 3\n"), "t"); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Fatalf("bad file: %v", err)
	}
	if _, _, err := automation.Applied(ctx, st, acme.ID); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("a refused file was kept: %v", err)
	}
	if _, err := automation.Apply(ctx, st, acme.ID, example(t), "t"); err != nil {
		t.Fatal(err)
	}
	names := func(rep automation.Report) (out []string) {
		for _, p := range rep.Policies {
			out = append(out, p.Name)
		}
		return out
	}
	first, err := automation.RunDue(ctx, st, acme.ID, automation.Sources{}, false)
	if err != nil || len(first.Policies) != 3 {
		t.Fatalf("first run %v %v", names(first), err)
	}
	if again, _ := automation.RunDue(ctx, st, acme.ID, automation.Sources{}, false); len(again.Policies) != 0 {
		t.Fatalf("ran again at once: %v", names(again))
	}
	if ev, _ := automation.RunDue(ctx, st, acme.ID, automation.Sources{}, true); len(ev.Policies) != 1 || ev.Policies[0].Name != "new-admins" {
		t.Fatalf("on an event: %v", names(ev))
	}
	now = now.Add(2 * time.Hour)
	if later, _ := automation.RunDue(ctx, st, acme.ID, automation.Sources{}, false); len(later.Policies) != 1 || later.Policies[0].Name != "admin-findings" {
		t.Fatalf("two hours later (the hourly one): %v", names(later))
	}
	if _, err := automation.RunDue(ctx, st, beta.ID, automation.Sources{}, false); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("beta: %v", err)
	}
}
