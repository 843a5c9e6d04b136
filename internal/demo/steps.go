package demo

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/commitments"
	"github.com/crossbill/crossbill/internal/cur"
	"github.com/crossbill/crossbill/internal/cur/ingest"
	"github.com/crossbill/crossbill/internal/review"
	"github.com/crossbill/crossbill/internal/store"
)

// seedFiles are the policies and templates written from the seed vendors'
// documents: copies of internal/review/testdata/seeds (a test keeps them
// identical), so that the binary carries them.
//
//go:embed seeds/*.yaml seeds/*.json
var seedFiles embed.FS

// curDir is where the synthetic export is written, inside the data dir.
const curDir = "demo-cur"

// quickSteps run before the server starts; costSteps run as a background
// job (JobKind) once it serves, since generating three months of hourly
// bills takes a while on a small machine.
func quickSteps() []step {
	return []step{{"review the seed vendors' policies", loadReviews}}
}

func costSteps() []step {
	return []step{
		{"generate a synthetic organization's CUR 2.0 export", generate},
		{"ingest it into the cost store", ingestBills},
		{"compute commitment recommendations", recommend},
		{"build the inventory and evaluate the optimization rules", buildInventory},
	}
}

func generate(ctx context.Context, _ *store.Store, _ store.Tenant, o Options, rep *Report) (string, bool, error) {
	dir := filepath.Join(o.DataDir, curDir)
	done := filepath.Join(dir, ".complete")
	if _, err := os.Stat(done); err == nil {
		return "", true, nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return "", false, crossbill.Errorf(crossbill.CodeUnavailable, "demo", "clearing %s: %w", dir, err)
	}
	res, err := cur.Generate(ctx, cur.GenerateOptions{
		Dir: dir, Seed: uint64(o.Seed), Accounts: o.Accounts - 1, Months: o.Months, Start: o.Start,
		ResourcesPerAccount: o.Resources, Progress: o.Progress,
	})
	if err != nil {
		return "", false, err
	}
	if err := os.WriteFile(done, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o600); err != nil {
		return "", false, crossbill.Errorf(crossbill.CodeUnavailable, "demo", "writing %s: %w", done, err)
	}
	return fmt.Sprintf("%d accounts, %d months, %d line items, %d commitments", len(res.Accounts), len(res.Months), res.Rows, len(res.Commitments)), false, nil
}

// CURSource is where the demo's CUR 2.0 export lies in a data directory
// (the bench loads it into more tenants).
func CURSource(dataDir string) string { return filepath.Join(dataDir, curDir, "cur", "crossbill-cur2") }

func ingestBills(ctx context.Context, _ *store.Store, t store.Tenant, o Options, rep *Report) (string, bool, error) {
	cs := o.Costs
	src := CURSource(o.DataDir)
	res, err := ingest.Ingest(ctx, cs, ingest.Options{Source: src, Tenant: t.ID, Progress: o.Progress})
	if err != nil {
		return "", false, err
	}
	var loaded int
	var rows int64
	for _, p := range res.Periods {
		if p.Status == ingest.StatusLoaded {
			loaded++
			rows += p.Rows
		}
	}
	if loaded == 0 {
		return "", true, nil
	}
	return fmt.Sprintf("%d billing periods, %d rows", loaded, rows), false, nil
}

func recommend(ctx context.Context, _ *store.Store, t store.Tenant, o Options, rep *Report) (string, bool, error) {
	cs := o.Costs
	end, err := commitments.DataEnd(ctx, commitments.DB(cs.DB()), t.ID)
	if err != nil {
		return "", false, err
	}
	// The same use case as the CLI and the API (rates layered alike), so
	// the summary matches what the Commitments page then shows.
	w := commitments.Window{Tenant: t.ID, Start: end.AddDate(0, 0, -30), End: end}
	res, err := commitments.Recommend(ctx, commitments.DB(cs.DB()), commitments.Request{Window: w,
		Options: commitments.Options{Terms: []int{1}, Payments: []commitments.Payment{commitments.NoUpfront}}})
	if err != nil {
		return "", false, err
	}
	recs := res.Recommendations
	var monthly float64
	n := 0
	for _, r := range recs {
		if r.HourlyCommitment > 0 {
			n++
			monthly += r.MonthlySavings
		}
	}
	return fmt.Sprintf("%d purchases worth $%.0f a month (1 year, no upfront)", n, monthly), false, nil
}

func loadReviews(ctx context.Context, st *store.Store, t store.Tenant, _ Options, rep *Report) (string, bool, error) {
	have, err := st.Reviews(ctx, t.ID)
	if err != nil {
		return "", false, err
	}
	done := map[string]bool{}
	for _, r := range have {
		done[r.Name] = true
	}
	names, err := fs.Glob(seedFiles, "seeds/*")
	if err != nil {
		return "", false, crossbill.Errorf(crossbill.CodeInternal, "demo", "%w", err)
	}
	added := 0
	for _, p := range names {
		name := filepath.Base(p)
		if done[name] {
			continue
		}
		data, err := seedFiles.ReadFile(p)
		if err != nil {
			return "", false, crossbill.Errorf(crossbill.CodeInternal, "demo", "%w", err)
		}
		r, err := review.Template(ctx, name, data, review.Options{})
		if err != nil {
			return "", false, err
		}
		js, err := json.Marshal(r)
		if err != nil {
			return "", false, crossbill.Errorf(crossbill.CodeInternal, "demo", "%w", err)
		}
		if _, err := st.SaveReview(ctx, t.ID, name, string(data), js); err != nil {
			return "", false, err
		}
		added++
	}
	if added == 0 {
		return "", true, nil
	}
	return fmt.Sprintf("%d documents reviewed", added), false, nil
}
