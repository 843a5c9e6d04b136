package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/crossbill/crossbill"
)

// CostExplorerState is a connection's Cost Explorer load: the days loaded,
// the last outcome and the monthly request budget (0: the default).
type CostExplorerState struct {
	ConnectionID  crossbill.ConnectionID `json:"connection_id"`
	TenantID      crossbill.TenantID     `json:"tenant_id"`
	Budget        int                    `json:"budget_requests"`
	LoadedFrom    string                 `json:"loaded_from,omitempty"`
	LoadedThrough string                 `json:"loaded_through,omitempty"`
	LoadedAt      string                 `json:"loaded_at,omitempty"`
	Status        string                 `json:"status,omitempty"`
	Message       string                 `json:"message,omitempty"`
}

// CostExplorerState returns a tenant's connection's Cost Explorer state; a
// connection never loaded has the zero state. Another tenant's connection
// is NotFound.
func (s *Store) CostExplorerState(ctx context.Context, tenant crossbill.TenantID, conn crossbill.ConnectionID) (CostExplorerState, error) {
	if _, err := s.TenantConnection(ctx, tenant, conn); err != nil {
		return CostExplorerState{}, err
	}
	st := CostExplorerState{ConnectionID: conn, TenantID: tenant}
	err := s.db.QueryRowContext(ctx, `SELECT budget, loaded_from, loaded_through, loaded_at, status, message
		FROM cost_explorer_state WHERE tenant_id = ? AND connection_id = ?`, string(tenant), string(conn)).
		Scan(&st.Budget, &st.LoadedFrom, &st.LoadedThrough, &st.LoadedAt, &st.Status, &st.Message)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return CostExplorerState{}, crossbill.Errorf(crossbill.CodeInternal, "cost explorer state", "%w", err)
	}
	return st, nil
}

// SaveCostExplorerState records a load's outcome (every field but Budget).
func (s *Store) SaveCostExplorerState(ctx context.Context, st CostExplorerState) error {
	if _, err := s.TenantConnection(ctx, st.TenantID, st.ConnectionID); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO cost_explorer_state(connection_id, tenant_id, loaded_from, loaded_through, loaded_at, status, message, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(connection_id) DO UPDATE SET loaded_from = excluded.loaded_from, loaded_through = excluded.loaded_through,
			loaded_at = excluded.loaded_at, status = excluded.status, message = excluded.message, updated_at = excluded.updated_at`,
		string(st.ConnectionID), string(st.TenantID), st.LoadedFrom, st.LoadedThrough, st.LoadedAt, st.Status, st.Message, formatStamp(s.now()))
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, "cost explorer state", "%w", err)
	}
	return nil
}

// SetCostExplorerBudget sets a connection's monthly request budget (0:
// back to the default).
func (s *Store) SetCostExplorerBudget(ctx context.Context, tenant crossbill.TenantID, conn crossbill.ConnectionID, requests int) error {
	if requests < 0 {
		return crossbill.Errorf(crossbill.CodeInvalid, "cost explorer budget", "the budget is a number of requests, 0 (the default) or more")
	}
	if _, err := s.TenantConnection(ctx, tenant, conn); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO cost_explorer_state(connection_id, tenant_id, budget, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT(connection_id) DO UPDATE SET budget = excluded.budget, updated_at = excluded.updated_at`,
		string(conn), string(tenant), requests, formatStamp(s.now()))
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, "cost explorer budget", "%w", err)
	}
	return nil
}

// SpendCostExplorerRequest counts one request of operation for the
// connection in the month of now, unless the month's count already
// reached budget: then it counts nothing and answers false. One statement,
// so two loads of one connection cannot both pass the last slot.
func (s *Store) SpendCostExplorerRequest(ctx context.Context, tenant crossbill.TenantID, conn crossbill.ConnectionID, operation string, now time.Time, budget int) (bool, error) {
	month := now.UTC().Format("2006-01")
	res, err := s.db.ExecContext(ctx, `INSERT INTO cost_explorer_requests(connection_id, tenant_id, month, operation, requests)
		SELECT ?, ?, ?, ?, 1 WHERE (SELECT coalesce(sum(requests), 0) FROM cost_explorer_requests WHERE connection_id = ? AND month = ?) < ?
		ON CONFLICT(connection_id, month, operation) DO UPDATE SET requests = cost_explorer_requests.requests + 1`,
		string(conn), string(tenant), month, operation, string(conn), month, budget)
	if err != nil {
		return false, crossbill.Errorf(crossbill.CodeInternal, "cost explorer requests", "%w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, crossbill.Errorf(crossbill.CodeInternal, "cost explorer requests", "%w", err)
	}
	return n > 0, nil
}

// CostExplorerRequests is the requests a tenant's connection sent in month
// (YYYY-MM), per operation.
func (s *Store) CostExplorerRequests(ctx context.Context, tenant crossbill.TenantID, conn crossbill.ConnectionID, month string) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT operation, requests FROM cost_explorer_requests WHERE tenant_id = ? AND connection_id = ? AND month = ?`,
		string(tenant), string(conn), month)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, "cost explorer requests", "%w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var op string
		var n int
		if err := rows.Scan(&op, &n); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, "cost explorer requests", "%w", err)
		}
		out[op] = n
	}
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, "cost explorer requests", "%w", err)
	}
	return out, nil
}
