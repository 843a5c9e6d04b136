package commitments_test

import (
	"context"
	"database/sql"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/crossbill/crossbill/internal/commitments/commitmentstest"
)

// The fixture's facts, under the short names the tests use.
const (
	fixtureHours  = commitmentstest.Hours
	m5Rate        = commitmentstest.M5Rate
	rdsRate       = commitmentstest.RDSRate
	spARN         = commitmentstest.SPARN
	riARN         = commitmentstest.RIARN
	spCommitment  = commitmentstest.SPCommitment
	spUsed        = commitmentstest.SPUsed
	spDiscount    = commitmentstest.SPDiscount
	riRate        = commitmentstest.RIRate
	riUsedPercent = commitmentstest.RIUsedPercent
)

// newCUR returns an in-memory DuckDB holding the commitments fixture.
func newCUR(tb testing.TB) *sql.DB {
	tb.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if err := commitmentstest.Load(context.Background(), db); err != nil {
		tb.Fatal(err)
	}
	return db
}
