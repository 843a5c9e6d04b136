package automation_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/automation"
	"github.com/crossbill/crossbill/internal/notify"
	"github.com/crossbill/crossbill/internal/store"
)

func example(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseExample: the documented example parses with its defaults.
func TestParseExample(t *testing.T) {
	ps, err := automation.Parse(example(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 3 || ps[0].Line != 3 || ps[0].Schedule != "daily" || len(ps[0].Filters) != 2 || ps[0].Filters[0].Values[2] != "PutBucketPolicy" ||
		ps[1].Filters[1].Op != ">=" || ps[1].Filters[1].Number != 20 || ps[1].MarkDays != 7 || ps[1].MaxResources != 2 || ps[2].Schedule != "hourly" {
		t.Fatalf("%+v", ps)
	}
}

// TestParseErrorsHaveLines: each mistake is reported with its line, all
// of them in one error.
func TestParseErrorsHaveLines(t *testing.T) {
	src := `policies:
  - name: Bad Name
    resource: events
    action: remediate
  - name: ok
    resource: recommendations
    filters:
      - colour: blue
      - monthly_savings: "about 20"
    action: notify
    schedule: fortnightly
  - name: ok
    resource: findings
    action: notify
    mark_days: 3
`
	_, err := automation.Parse([]byte(src))
	if crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Fatalf("%v", err)
	}
	for _, want := range []string{
		`line 2: name "Bad Name"`,
		`line 4: action "remediate" on events: use notify`,
		`line 8: unknown filter "colour"`,
		`line 9: monthly_savings: "about 20" is not a comparison`,
		`line 11: schedule "fortnightly"`,
		`line 15: mark_days is for action mark`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	for _, bad := range []string{"", "policies: []", "[1, 2]", "policies:\n  - 3\n", "other: 1\n", "policies:\n  - name: x\n    name: y\n    resource: events\n    action: notify\n"} {
		if _, err := automation.Parse([]byte(bad)); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// FuzzParse: any input is refused with line-numbered errors or parsed
// into policies that keep their invariants; never a panic.
func FuzzParse(f *testing.F) {
	f.Add(example(f))
	f.Add([]byte("policies:\n  - name: a\n    resource: events\n    action: notify\n"))
	f.Add([]byte("policies:\n  - {name: x, resource: recommendations, action: mark, filters: [{monthly_savings: '<5'}]}\n"))
	f.Add([]byte("policies: &a [*a]\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		ps, err := automation.Parse(src)
		if err != nil {
			if crossbill.ErrorCode(err) != crossbill.CodeInvalid {
				t.Fatalf("code %s: %v", crossbill.ErrorCode(err), err)
			}
			return
		}
		for _, p := range ps {
			if p.Name == "" || p.Action == "" || p.Resource == "" || p.Line < 1 {
				t.Fatalf("parsed an incomplete policy %+v", p)
			}
		}
	})
}

type recs []automation.Recommendation

func (r recs) Recommendations(context.Context, crossbill.TenantID) ([]automation.Recommendation, error) {
	return r, nil
}

// remediator records what the policies asked of the remediation engine
// (internal/remediation, another branch, implements the interface).
type remediator struct{ calls []string }

func (r *remediator) Mark(_ context.Context, _ crossbill.TenantID, policy string, items []automation.Item, days int, dry bool) (string, error) {
	r.calls = append(r.calls, policy+" mark "+items[0].Key)
	return "marked", nil
}
func (r *remediator) Remediate(context.Context, crossbill.TenantID, string, []automation.Item, bool) (string, error) {
	return "", nil
}

// TestRun: an events policy selects by name and account wildcard and
// notifies once per event (dry run: nothing queued); a mark policy over
// its max_resources stops without acting (blast radius) and under it asks
// the remediation engine; without one it says so.
func TestRun(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ten, _ := st.CreateTenant(ctx, "acme")
	if _, err := notify.AddChannel(ctx, st, notify.ChannelRequest{By: store.AuditEntry{Actor: "test"}, Tenant: ten.ID, Name: "sec", Kind: notify.KindSlack, URL: "http://127.0.0.1:1/x"}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for i, e := range []store.CloudEvent{
		{ID: "e1", Account: "111122223333", Region: "us-east-1", Source: "aws.iam", EventName: "CreateUser", Principal: "arn:aws:iam::111122223333:user/ann"},
		{ID: "e2", Account: "222233334444", Region: "us-east-1", Source: "aws.iam", EventName: "CreateUser"},
		{ID: "e3", Account: "111122223333", Region: "us-east-1", Source: "aws.ec2", EventName: "RunInstances"},
	} {
		e.ConnectionID, e.TenantID, e.Time, e.ReceivedAt, e.Detail = "c1", ten.ID, now, now.Add(time.Duration(i)*time.Second), []byte(`{}`)
		if _, err := st.RecordEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	ps, err := automation.Parse(example(t))
	if err != nil {
		t.Fatal(err)
	}
	rs := recs{{ID: "r1", Rule: "ebs-unattached", MonthlySavings: 40}, {ID: "r2", Rule: "ebs-unattached", MonthlySavings: 25}, {ID: "r3", Rule: "ebs-unattached", MonthlySavings: 30}, {ID: "r4", Rule: "gp2", MonthlySavings: 90}}
	rem := &remediator{}
	dry, err := automation.Run(ctx, st, ten.ID, ps, automation.Sources{Recommendations: rs, Remediator: rem}, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := dry.Policies[0]; len(got.Matched) != 1 || got.Matched[0].Key != "event:c1:e1" || !strings.Contains(got.Outcome, "would notify 1") {
		t.Fatalf("events policy: %+v", got)
	}
	if got := dry.Policies[1]; len(got.Matched) != 3 || !strings.Contains(got.Error, "more than max_resources 2") || len(rem.calls) != 0 {
		t.Fatalf("blast radius: %+v, calls %v", got, rem.calls)
	}
	if log, _ := st.NotificationLog(ctx, ten.ID, "", 10); len(log) != 0 {
		t.Fatalf("the dry run queued %d", len(log))
	}
	ps[1].MaxResources = 5
	run, err := automation.Run(ctx, st, ten.ID, ps, automation.Sources{Recommendations: rs, Remediator: rem}, false)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(run.Policies[0].Outcome, "notified 1 new") || len(rem.calls) != 1 || run.Policies[1].Outcome != "marked" {
		t.Fatalf("run: %+v, calls %v", run.Policies, rem.calls)
	}
	again, _ := automation.Run(ctx, st, ten.ID, ps[:1], automation.Sources{}, false)
	if !strings.Contains(again.Policies[0].Outcome, "notified 0 new item(s), 1 sent before") {
		t.Fatalf("second run: %+v", again.Policies[0])
	}
	without, _ := automation.Run(ctx, st, ten.ID, ps[1:2], automation.Sources{Recommendations: rs}, false)
	if !strings.Contains(without.Policies[0].Error, "no remediation engine") {
		t.Fatalf("without a remediator: %+v", without.Policies[0])
	}
}
