package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/crossbill/crossbill"
)

// Cost query engines: where a tenant's cost queries run.
const (
	// EngineLocal is crossbill's own cost store (DuckDB over the loaded
	// Parquet, or cluster mode's shared store): the default.
	EngineLocal = "local"
	// EngineAthena is Amazon Athena over the customer's CUR in place,
	// through one connection's role.
	EngineAthena = "athena"
)

// CostEngine is a tenant's cost query engine. For Athena, ConnectionID is
// the connection whose role runs the queries, Table and WorkGroup where.
type CostEngine struct {
	TenantID     crossbill.TenantID     `json:"tenant_id"`
	Engine       string                 `json:"engine"`
	ConnectionID crossbill.ConnectionID `json:"connection_id,omitempty"`
	Table        string                 `json:"athena_table,omitempty"`
	WorkGroup    string                 `json:"athena_workgroup,omitempty"`
	UpdatedAt    *time.Time             `json:"updated_at,omitempty"`
	// AthenaSpend is this month's Athena spend (shown by `crossbill costs
	// engine` and GET .../costs/engine, whichever the engine now).
	AthenaSpend *AthenaSpend `json:"athena_spend,omitempty"`
}

// CostEngine returns the tenant's engine: EngineLocal unless set.
func (s *Store) CostEngine(ctx context.Context, tenant crossbill.TenantID) (CostEngine, error) {
	const op = "cost engine"
	e := CostEngine{TenantID: tenant, Engine: EngineLocal}
	var conn, updated string
	err := s.db.QueryRowContext(ctx, `SELECT connection_id, engine, athena_table, workgroup, updated_at FROM cost_engines WHERE tenant_id = ?`,
		string(tenant)).Scan(&conn, &e.Engine, &e.Table, &e.WorkGroup, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return e, nil
	}
	if err != nil {
		return CostEngine{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	e.ConnectionID = crossbill.ConnectionID(conn)
	t, err := time.Parse(time.RFC3339Nano, updated)
	if err != nil {
		return CostEngine{}, crossbill.Errorf(crossbill.CodeInternal, op, "updated_at %q: %w", updated, err)
	}
	e.UpdatedAt = &t
	return e, nil
}

// SetCostEngine sets e.TenantID's engine and returns it as stored.
// EngineLocal clears the setting (the connection, if given, must still be
// the tenant's); EngineAthena needs the tenant's connection, another
// tenant's being NotFound like a missing one.
func (s *Store) SetCostEngine(ctx context.Context, e CostEngine) (CostEngine, error) {
	const op = "cost engine"
	if _, err := s.TenantByID(ctx, e.TenantID); err != nil {
		return CostEngine{}, err
	}
	if e.ConnectionID != "" {
		if _, err := s.TenantConnection(ctx, e.TenantID, e.ConnectionID); err != nil {
			return CostEngine{}, err
		}
	}
	switch e.Engine {
	case EngineLocal:
		if _, err := s.db.ExecContext(ctx, `DELETE FROM cost_engines WHERE tenant_id = ?`, string(e.TenantID)); err != nil {
			return CostEngine{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
	case EngineAthena:
		if e.ConnectionID == "" || e.Table == "" || e.WorkGroup == "" {
			return CostEngine{}, crossbill.Errorf(crossbill.CodeInvalid, op, "the Athena engine needs a connection, a table and a workgroup")
		}
		_, err := s.db.ExecContext(ctx, `INSERT INTO cost_engines(tenant_id, connection_id, engine, athena_table, workgroup, updated_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT(tenant_id) DO UPDATE SET connection_id = excluded.connection_id, engine = excluded.engine,
				athena_table = excluded.athena_table, workgroup = excluded.workgroup, updated_at = excluded.updated_at`,
			string(e.TenantID), string(e.ConnectionID), e.Engine, e.Table, e.WorkGroup, formatStamp(s.now()))
		if err != nil {
			return CostEngine{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
	default:
		return CostEngine{}, crossbill.Errorf(crossbill.CodeInvalid, op, "engine %q: use %s or %s", e.Engine, EngineLocal, EngineAthena)
	}
	return s.CostEngine(ctx, e.TenantID)
}
