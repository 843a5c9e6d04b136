package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/crossbill/crossbill"
)

// AthenaSpend is what the Athena cost engine spent for a tenant in a
// month (UTC, YYYY-MM), in the customer's account: the queries Athena
// billed, the bytes they scanned and the bytes billed (each query
// rounded up to a whole MB, 10 MB at least). CostUSD is filled by the
// caller from the price (costs.AthenaCostUSD).
type AthenaSpend struct {
	Month        string  `json:"month"`
	Queries      int64   `json:"queries"`
	ScannedBytes int64   `json:"scanned_bytes"`
	BilledBytes  int64   `json:"billed_bytes"`
	CostUSD      float64 `json:"cost_usd"`
}

// AddAthenaSpend adds queries' scanned and billed bytes to the tenant's
// month, in one statement, so that replicas counting at once add up.
func (s *Store) AddAthenaSpend(ctx context.Context, tenant crossbill.TenantID, month string, queries, scanned, billed int64) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO athena_spend(tenant_id, month, queries, scanned_bytes, billed_bytes) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT(tenant_id, month) DO UPDATE SET queries = athena_spend.queries + excluded.queries,
			scanned_bytes = athena_spend.scanned_bytes + excluded.scanned_bytes, billed_bytes = athena_spend.billed_bytes + excluded.billed_bytes`,
		string(tenant), month, queries, scanned, billed)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, "athena spend", "%w", err)
	}
	return nil
}

// AthenaSpendOf is the tenant's Athena spend in month (zero when none).
func (s *Store) AthenaSpendOf(ctx context.Context, tenant crossbill.TenantID, month string) (AthenaSpend, error) {
	sp := AthenaSpend{Month: month}
	err := s.db.QueryRowContext(ctx, `SELECT queries, scanned_bytes, billed_bytes FROM athena_spend WHERE tenant_id = ? AND month = ?`,
		string(tenant), month).Scan(&sp.Queries, &sp.ScannedBytes, &sp.BilledBytes)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return AthenaSpend{}, crossbill.Errorf(crossbill.CodeInternal, "athena spend", "%w", err)
	}
	return sp, nil
}
