package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/crossbill/crossbill"
)

// AuditOptimizeThresholds: someone changed a tenant's thresholds of an
// optimization rule.
const AuditOptimizeThresholds = "optimize.thresholds"

// Recommendation states.
const (
	RecommendationOpen     = "open"
	RecommendationResolved = "resolved" // the newest evaluation no longer makes it
)

// OptimizeEvaluation is one evaluation of a tenant's inventory. Summary is
// JSON whose shape the optimize package owns.
type OptimizeEvaluation struct {
	ID              string             `json:"id"`
	TenantID        crossbill.TenantID `json:"-"`
	StartedAt       time.Time          `json:"started_at"`
	FinishedAt      time.Time          `json:"finished_at"`
	Resources       int                `json:"resources"`
	Recommendations int                `json:"recommendations"`
	MonthlySavings  float64            `json:"monthly_savings"`
	Summary         json.RawMessage    `json:"summary"`
}

// OptimizeRecommendation is one stored recommendation: the columns the
// filters read and Body, the recommendation as JSON.
type OptimizeRecommendation struct {
	ID             string
	EvaluationID   string
	Rule           string
	AccountID      crossbill.AccountID
	Region         string
	ARN            string
	Action         string
	MonthlySavings float64
	State          string
	FirstSeen      time.Time
	LastSeen       time.Time
	ResolvedAt     time.Time // zero while open
	Body           json.RawMessage
}

// OptimizeFilter narrows a listing; empty fields match everything but
// State, which defaults to open.
type OptimizeFilter struct {
	Rule    string
	Account crossbill.AccountID
	State   string // open (default), resolved or all
}

// SaveOptimizeEvaluation stores an evaluation and its recommendations in
// one transaction: each is inserted or, when its ID is known, updated
// (keeping when it was first seen); open recommendations the evaluation
// no longer makes become resolved.
func (s *Store) SaveOptimizeEvaluation(ctx context.Context, e OptimizeEvaluation, recs []OptimizeRecommendation) (OptimizeEvaluation, error) {
	const op = "optimize save"
	idPart, err := randomString(9)
	if err != nil {
		return OptimizeEvaluation{}, crossbill.Errorf(crossbill.CodeInternal, op, "reading random bytes: %w", err)
	}
	e.ID = "ope_" + idPart
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return OptimizeEvaluation{}, crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	if _, err := tx.ExecContext(ctx, `INSERT INTO optimize_evaluations(id, tenant_id, started_at, finished_at, resources, recommendations, monthly_savings, summary)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, e.ID, string(e.TenantID), formatStamp(e.StartedAt), formatStamp(e.FinishedAt), e.Resources, e.Recommendations, e.MonthlySavings, string(e.Summary)); err != nil {
		return OptimizeEvaluation{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO optimize_recommendations(tenant_id, id, evaluation_id, rule, account_id, region, arn, action, monthly_savings, state, first_seen, last_seen, resolved_at, body)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?)
		ON CONFLICT (tenant_id, id) DO UPDATE SET evaluation_id = excluded.evaluation_id, monthly_savings = excluded.monthly_savings, action = excluded.action,
			state = excluded.state, last_seen = excluded.last_seen, resolved_at = '', body = excluded.body`)
	if err != nil {
		return OptimizeEvaluation{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer stmt.Close()
	at := formatStamp(e.FinishedAt)
	for _, r := range recs {
		if _, err := stmt.ExecContext(ctx, string(e.TenantID), r.ID, e.ID, r.Rule, string(r.AccountID), r.Region, r.ARN, r.Action, r.MonthlySavings, RecommendationOpen, at, at, string(r.Body)); err != nil {
			return OptimizeEvaluation{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE optimize_recommendations SET state = ?, resolved_at = ? WHERE tenant_id = ? AND state = ? AND evaluation_id <> ?`,
		RecommendationResolved, at, string(e.TenantID), RecommendationOpen, e.ID); err != nil {
		return OptimizeEvaluation{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	if err := tx.Commit(); err != nil {
		return OptimizeEvaluation{}, crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
	}
	return e, nil
}

// LatestOptimizeEvaluation is the tenant's newest evaluation; NotFound
// before the first.
func (s *Store) LatestOptimizeEvaluation(ctx context.Context, tenant crossbill.TenantID) (OptimizeEvaluation, error) {
	e := OptimizeEvaluation{TenantID: tenant}
	var started, finished, summary string
	err := s.db.QueryRowContext(ctx, `SELECT id, started_at, finished_at, resources, recommendations, monthly_savings, summary FROM optimize_evaluations
		WHERE tenant_id = ? ORDER BY finished_at DESC, id DESC LIMIT 1`, string(tenant)).Scan(&e.ID, &started, &finished, &e.Resources, &e.Recommendations, &e.MonthlySavings, &summary)
	if err != nil {
		return OptimizeEvaluation{}, notFound(err, "optimize", "no evaluation yet: run `crossbill optimize evaluate` (the server evaluates after each inventory sync)")
	}
	e.Summary = json.RawMessage(summary)
	if e.StartedAt, err = time.Parse(time.RFC3339Nano, started); err == nil {
		e.FinishedAt, err = time.Parse(time.RFC3339Nano, finished)
	}
	if err != nil {
		return OptimizeEvaluation{}, crossbill.Errorf(crossbill.CodeInternal, "optimize", "%w", err)
	}
	return e, nil
}

const optimizeRecCols = `id, evaluation_id, rule, account_id, region, arn, action, monthly_savings, state, first_seen, last_seen, resolved_at, body`

func scanOptimizeRec(sc interface{ Scan(...any) error }) (OptimizeRecommendation, error) {
	var r OptimizeRecommendation
	var first, last, resolved, body string
	if err := sc.Scan(&r.ID, &r.EvaluationID, &r.Rule, &r.AccountID, &r.Region, &r.ARN, &r.Action, &r.MonthlySavings, &r.State, &first, &last, &resolved, &body); err != nil {
		return r, err
	}
	r.Body = json.RawMessage(body)
	var err error
	if r.FirstSeen, err = time.Parse(time.RFC3339Nano, first); err != nil {
		return r, err
	}
	if r.LastSeen, err = time.Parse(time.RFC3339Nano, last); err != nil {
		return r, err
	}
	if resolved != "" {
		r.ResolvedAt, err = time.Parse(time.RFC3339Nano, resolved)
	}
	return r, err
}

// OptimizeRecommendations lists the tenant's recommendations, biggest
// saving first.
func (s *Store) OptimizeRecommendations(ctx context.Context, tenant crossbill.TenantID, f OptimizeFilter) ([]OptimizeRecommendation, error) {
	const op = "optimize list"
	q := `SELECT ` + optimizeRecCols + ` FROM optimize_recommendations WHERE tenant_id = ?`
	args := []any{string(tenant)}
	switch f.State {
	case "", RecommendationOpen:
		q += ` AND state = ?`
		args = append(args, RecommendationOpen)
	case RecommendationResolved:
		q += ` AND state = ?`
		args = append(args, RecommendationResolved)
	case "all":
	default:
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "state %q: use open, resolved or all", f.State)
	}
	if f.Rule != "" {
		q += ` AND rule = ?`
		args = append(args, f.Rule)
	}
	if f.Account != "" {
		q += ` AND account_id = ?`
		args = append(args, string(f.Account))
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY monthly_savings DESC, id`, args...)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer rows.Close()
	out := []OptimizeRecommendation{}
	for rows.Next() {
		r, err := scanOptimizeRec(rows)
		if err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return out, nil
}

// OptimizeRecommendation is one of the tenant's recommendations, open or
// resolved; another tenant's is NotFound like a missing one.
func (s *Store) OptimizeRecommendation(ctx context.Context, tenant crossbill.TenantID, id string) (OptimizeRecommendation, error) {
	r, err := scanOptimizeRec(s.db.QueryRowContext(ctx, `SELECT `+optimizeRecCols+` FROM optimize_recommendations WHERE tenant_id = ? AND id = ?`, string(tenant), id))
	if err == sql.ErrNoRows {
		return OptimizeRecommendation{}, crossbill.Errorf(crossbill.CodeNotFound, "recommendation", "no recommendation %q: list them with `crossbill optimize` or GET .../optimize/recommendations", id)
	}
	if err != nil {
		return OptimizeRecommendation{}, crossbill.Errorf(crossbill.CodeInternal, "recommendation", "%w", err)
	}
	return r, nil
}

// OptimizeThresholds are the tenant's stored thresholds by rule (JSON
// objects of parameter values); rules without any are absent.
func (s *Store) OptimizeThresholds(ctx context.Context, tenant crossbill.TenantID) (map[string]json.RawMessage, error) {
	const op = "optimize thresholds"
	rows, err := s.db.QueryContext(ctx, `SELECT rule, params FROM optimize_thresholds WHERE tenant_id = ?`, string(tenant))
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer rows.Close()
	out := map[string]json.RawMessage{}
	for rows.Next() {
		var rule, params string
		if err := rows.Scan(&rule, &params); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		out[rule] = json.RawMessage(params)
	}
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return out, nil
}

// SetOptimizeThresholds replaces the tenant's thresholds of one rule
// (params: the JSON object the optimize package checked; nil deletes
// them, back to the defaults), with its audit line in the same
// transaction.
func (s *Store) SetOptimizeThresholds(ctx context.Context, tenant crossbill.TenantID, rule string, params json.RawMessage, by AuditEntry) error {
	const op = "optimize thresholds set"
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	who := by.PersonEmail
	if who == "" {
		who = by.Actor
	}
	if params == nil {
		_, err = tx.ExecContext(ctx, `DELETE FROM optimize_thresholds WHERE tenant_id = ? AND rule = ?`, string(tenant), rule)
	} else {
		_, err = tx.ExecContext(ctx, `INSERT INTO optimize_thresholds(tenant_id, rule, params, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (tenant_id, rule) DO UPDATE SET params = excluded.params, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
			string(tenant), rule, string(params), formatStamp(s.now()), who)
	}
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	by.Action, by.TenantID, by.Subject = AuditOptimizeThresholds, tenant, rule
	detail := map[string]any{"rule": rule, "params": params}
	if params == nil {
		detail["params"] = "defaults"
	}
	if err := s.appendAudit(ctx, tx, by, detail); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
	}
	return nil
}
