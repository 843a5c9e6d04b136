package server_test

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/crossbill/crossbill/internal/commitments/commitmentstest"
	"github.com/crossbill/crossbill/internal/cur/ingest"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/notify"
	"github.com/crossbill/crossbill/internal/pgtest"
	"github.com/crossbill/crossbill/internal/purchase"
	"github.com/crossbill/crossbill/internal/scheduler"
	"github.com/crossbill/crossbill/internal/server"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
)

// expiringSP is a CUR export of a week of tenant acme's lines up to now
// with one Compute Savings Plan ($2/h, 1yr No Upfront, 75% used) ending
// in 20 days: its 30-day renewal alert is due.
func expiringSP(t *testing.T, arn string) string {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Hour)
	from, end := now.AddDate(0, 0, -7).Format("2006-01-02 15:04:05"), now.AddDate(0, 0, 20).Format(time.RFC3339)
	return commitmentstest.ExportLines(t, t.TempDir(), now.Format("2006-01"), func(ctx context.Context, db *sql.DB) error {
		_, err := db.ExecContext(ctx, `INSERT INTO cur (line_item_usage_start_date, line_item_usage_account_id, line_item_line_item_type, line_item_product_code, line_item_usage_type,
		  line_item_unblended_cost, savings_plan_savings_plan_a_r_n, savings_plan_offering_type, savings_plan_purchase_term, savings_plan_payment_option,
		  savings_plan_start_time, savings_plan_end_time, savings_plan_total_commitment_to_date, savings_plan_used_commitment, tenant, source, billing_period)
		 SELECT ts, '111111111111', 'SavingsPlanRecurringFee', 'ComputeSavingsPlans', 'ComputeSP:1yrNoUpfront', 2.0, '`+arn+`',
		  'ComputeSavingsPlans', '1yr', 'No Upfront', '2025-12-24T00:00:00.000Z', '`+end+`', 2.0, 1.5, 'acme', 'test', '`+now.Format("2006-01")+`'
		 FROM generate_series(TIMESTAMP '`+from+`', TIMESTAMP '`+from+`' + INTERVAL 167 HOUR, INTERVAL 1 HOUR) g(ts)`)
		return err
	})
}

// TestRenewalsJobOncePerDayAcrossReplicas: two replicas on one PostgreSQL
// database both schedule the daily renewals job of a tenant with a
// commitments connection (at start, as every replica does); it runs once,
// queues the Savings Plan's 30-day alert to the tenant's channel once, and
// is due again a day later. Running it again the same day (an operator's
// rerun) queues nothing new: the alert's dedup key is the commitment and
// its threshold.
func TestRenewalsJobOncePerDayAcrossReplicas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.Database(t)
	st, err := store.OpenDatabase(ctx, t.TempDir(), url)
	if err != nil {
		t.Fatal(err)
	}
	tn, err := st.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	c, err := st.CreateConnection(ctx, store.NewConnection{TenantID: tn.ID, ExternalID: "cb-external-id-renewals-0123456789", HubPrincipal: "arn:aws:iam::123456789012:user/hub",
		Modules: []manifest.Module{manifest.ModuleCost, manifest.ModuleCommitments}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := storetest.Bind(ctx, st, c.ID, "arn:aws:iam::111111111111:role/CrossbillAccess"); err != nil {
		t.Fatal(err)
	}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) })) //nolint:errcheck // a sink
	defer hook.Close()
	if _, err := notify.AddChannel(ctx, st, notify.ChannelRequest{By: store.AuditEntry{Actor: "test"}, Tenant: tn.ID, Name: "finops", Kind: "webhook", URL: hook.URL, Topics: []string{"commitments.*"}}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	const arn = "arn:aws:savingsplans::111111111111:savingsplan/sp-expiring"
	export := expiringSP(t, arn)
	var replicas []*server.Main
	for _, id := range []string{"renewals-1", "renewals-2"} {
		m := &server.Main{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Database: url, ReplicaID: id, NoBootstrap: true,
			Logger: slog.New(slog.DiscardHandler), Scheduler: scheduler.Options{Poll: 20 * time.Millisecond}}
		if err := m.Run(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() }) //nolint:errcheck // test teardown
		// Each replica's own cost store holds the tenant's CUR (single-node
		// cost mode): whichever claims the job reads the same data.
		if _, err := ingest.Ingest(ctx, m.Costs(), ingest.Options{Source: export, Tenant: tn.ID}); err != nil {
			t.Fatal(err)
		}
		replicas = append(replicas, m)
	}
	ms := replicas[0].Store()
	// EnsureSchedules queues the first run a minute after start: bring it
	// forward (a queued job is moved earlier, never duplicated).
	if _, err := ms.EnqueueJob(ctx, store.JobSpec{TenantID: tn.ID, Kind: server.JobRenewals, Interval: 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	waitJobs := func(done int) []store.Job {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			jobs, err := ms.Jobs(ctx, tn.ID, store.JobFilter{Kind: server.JobRenewals})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, j := range jobs {
				if j.Status == store.JobSucceeded {
					n++
				}
			}
			if n == done && len(jobs) == done+1 {
				return jobs
			}
			if time.Now().After(deadline) {
				t.Fatalf("renewals jobs %+v, want %d succeeded and one queued", jobs, done)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	jobs := waitJobs(1)
	next := jobs[0]
	if next.Status != store.JobQueued || next.Interval != 24*time.Hour || next.NextRunAt.Before(time.Now().Add(21*time.Hour)) {
		t.Errorf("the successor: %+v, want queued a day later (±10%% jitter)", next)
	}
	outbox := func() []store.OutboxItem {
		log, err := ms.NotificationLog(ctx, tn.ID, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		return log
	}
	log := outbox()
	if len(log) != 1 || log[0].Topic != purchase.TopicRenewal || !strings.Contains(log[0].Text, "sp-expiring") || !strings.Contains(log[0].Text, "in 20 days") {
		t.Fatalf("outbox after the first run: %+v", log)
	}
	// A rerun the same day, on whichever replica: no second alert.
	if _, err := ms.EnqueueJob(ctx, store.JobSpec{TenantID: tn.ID, Kind: server.JobRenewals, Interval: 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	waitJobs(2)
	if log := outbox(); len(log) != 1 {
		t.Fatalf("outbox after a rerun: %d rows, want the one alert", len(log))
	}
}
