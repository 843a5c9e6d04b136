package athena

import (
	"context"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/commitments"
	"github.com/crossbill/crossbill/internal/costs"
)

// Commitments runs one commitments analysis (run: inventory from the CUR,
// utilization, coverage, daily utilization, recommendations, what-ifs...)
// in the tenant's engine: over the local cost store's cur view, or for an
// Athena tenant over the CUR stack's Glue table through the connection's
// role, the same statements (commitments.Reader) either way. The answer's
// Athena cost is returned (nil for the local engine) and recorded in the
// tenant's month, as the cost queries' are.
func (e Engines) Commitments(ctx context.Context, tenant crossbill.TenantID, local Local, run func(commitments.Reader) error) (*costs.EngineCost, error) {
	src, ath, release, err := e.open(ctx, tenant, local)
	if err != nil {
		return nil, err
	}
	defer release()
	if ath == nil {
		return nil, run(commitments.DB(src.(*costs.Store).DB()))
	}
	if err := costs.CheckAthenaTable(ath.eng.Table); err != nil {
		return nil, err
	}
	err = run(commitmentReader{ath})
	return ath.cost(), err
}

// commitmentReader runs commitments statements in Athena.
type commitmentReader struct{ a *athenaSource }

// Table is the CUR stack's Glue table, partitioned by billing_period; the
// last hour of data is looked for in the LatestMonths up to now.
func (c commitmentReader) Table() commitments.Table {
	var recent []string
	for i := LatestMonths - 1; i >= 0; i-- {
		m := time.Date(c.a.now.Year(), c.a.now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -i, 0)
		recent = append(recent, m.Format("2006-01"))
	}
	return commitments.Table{Name: c.a.eng.Table, Partitioned: true, Recent: recent}
}

func (c commitmentReader) Query(ctx context.Context, stmt string) (commitments.Rows, error) {
	var recErr error
	rows, err := Run(ctx, c.a.api, stmt, c.a.options(ctx, &recErr))
	if err == nil {
		err = recErr
	}
	if err != nil {
		return nil, err
	}
	return commitments.TextRows(rows), nil
}

// Spent is what the Athena queries of r, a reader Commitments gave, cost
// so far: nil for the local engine's.
func Spent(r commitments.Reader) *costs.EngineCost {
	if c, ok := r.(commitmentReader); ok {
		return c.a.cost()
	}
	return nil
}

// CommitmentsOf is the commitments reader of a source Engines.Athena gave
// (its queries counted in the same spend), nil for any other: for callers
// that hold the engine already (alert rules).
func CommitmentsOf(src costs.Source) commitments.Reader {
	if a, ok := src.(*athenaSource); ok && a != nil {
		return commitmentReader{a}
	}
	return nil
}
