package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/crossbill/crossbill"
)

// AutomationFile is a tenant's applied automation policy file.
type AutomationFile struct {
	TenantID  crossbill.TenantID   `json:"tenant_id"`
	Source    string               `json:"source"`
	UpdatedBy string               `json:"updated_by"`
	UpdatedAt time.Time            `json:"updated_at"`
	LastRuns  map[string]time.Time `json:"last_runs"`
}

// SetAutomationFile stores the tenant's policy file (internal/automation
// validated it), keeping the last runs of policies still named.
func (s *Store) SetAutomationFile(ctx context.Context, tenant crossbill.TenantID, source, by string) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO automation_policies(tenant_id, source, updated_by, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (tenant_id) DO UPDATE SET source = excluded.source, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
		string(tenant), source, by, formatStamp(s.now())); err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, "policy apply", "%w", err)
	}
	return nil
}

// AutomationFile is the tenant's policy file (NotFound when none was
// applied).
func (s *Store) AutomationFile(ctx context.Context, tenant crossbill.TenantID) (AutomationFile, error) {
	f := AutomationFile{TenantID: tenant}
	var at, runs string
	err := s.db.QueryRowContext(ctx, `SELECT source, updated_by, updated_at, last_runs FROM automation_policies WHERE tenant_id = ?`, string(tenant)).Scan(&f.Source, &f.UpdatedBy, &at, &runs)
	if err == sql.ErrNoRows {
		return f, crossbill.Errorf(crossbill.CodeNotFound, "policy", "the tenant has no automation policies: apply a file with `crossbill policy apply FILE` or PUT .../automation/policies")
	}
	if err != nil {
		return f, crossbill.Errorf(crossbill.CodeInternal, "policy", "%w", err)
	}
	if f.UpdatedAt, err = time.Parse(time.RFC3339Nano, at); err != nil {
		return f, crossbill.Errorf(crossbill.CodeInternal, "policy", "%w", err)
	}
	if err := json.Unmarshal([]byte(runs), &f.LastRuns); err != nil {
		return f, crossbill.Errorf(crossbill.CodeInternal, "policy", "%w", err)
	}
	return f, nil
}

// RecordAutomationRuns sets when the named policies last ran.
func (s *Store) RecordAutomationRuns(ctx context.Context, tenant crossbill.TenantID, runs map[string]time.Time) error {
	b, err := json.Marshal(runs)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, "policy run", "%w", err)
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE automation_policies SET last_runs = ? WHERE tenant_id = ?`, string(b), string(tenant)); err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, "policy run", "%w", err)
	}
	return nil
}

// TenantsWithAutomation are the tenants that applied a policy file.
func (s *Store) TenantsWithAutomation(ctx context.Context) ([]crossbill.TenantID, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT tenant_id FROM automation_policies`)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, "policy", "%w", err)
	}
	defer rows.Close()
	var out []crossbill.TenantID
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, "policy", "%w", err)
		}
		out = append(out, crossbill.TenantID(t))
	}
	return out, rows.Err()
}
