package costs

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/crossbill/crossbill"
)

// Besides daily cost, a Cost Explorer load keeps two small answers of the
// same connection: Cost Explorer's own forecast (ce_forecast, one row per
// month from the load's day on) and the linked accounts' names
// (ce_account_names, from the LINKED_ACCOUNT dimension values), so that
// cost answers name accounts before any Organizations data exists.

// ExplorerForecastLabel labels Cost Explorer's forecast wherever shown.
const ExplorerForecastLabel = "Cost Explorer's own forecast (unblended, 80% prediction interval), fetched with the daily load"

// ExplorerForecast is Cost Explorer's forecast of one month's cost from
// From on (the day it was fetched, for the current month): Cost Explorer
// forecasts only days to come, never the month's past days.
type ExplorerForecast struct {
	Connection crossbill.ConnectionID `json:"connection_id,omitempty"`
	Month      string                 `json:"month"`
	From       string                 `json:"from"` // first day forecast
	To         string                 `json:"to"`   // last day forecast
	Mean       float64                `json:"mean"`
	Low        float64                `json:"low"`
	High       float64                `json:"high"`
	FetchedAt  string                 `json:"fetched_at"`
}

// ReplaceExplorerForecast makes fs the connection's forecast.
func (s *Store) ReplaceExplorerForecast(ctx context.Context, tenant crossbill.TenantID, connection crossbill.ConnectionID, fs []ExplorerForecast, fetched time.Time) (err error) {
	const op = "cost explorer forecast"
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, ignoreDone(tx.Rollback()))
		}
	}()
	if _, err := tx.ExecContext(ctx, `DELETE FROM ce_forecast WHERE tenant = ? AND connection = ?`, string(tenant), string(connection)); err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	for _, f := range fs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO ce_forecast VALUES (?, ?, ?, ?::DATE, ?::DATE, ?, ?, ?, ?)`,
			string(tenant), string(connection), f.Month, f.From, f.To, f.Mean, f.Low, f.High, fetched.UTC()); err != nil {
			return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return nil
}

// ExplorerForecasts lists the forecast of the tenant's connection (every
// connection when connection is ""), by month then connection.
func (s *Store) ExplorerForecasts(ctx context.Context, tenant crossbill.TenantID, connection crossbill.ConnectionID) ([]ExplorerForecast, error) {
	const op = "cost explorer forecast"
	rows, err := s.db.QueryContext(ctx, `SELECT connection, month, strftime(day_from, '%Y-%m-%d'), strftime(day_to, '%Y-%m-%d'), mean, low, high,
		strftime(fetched_at, '%Y-%m-%dT%H:%M:%SZ') FROM ce_forecast WHERE tenant = ? AND (? = '' OR connection = ?) ORDER BY month, connection`,
		string(tenant), string(connection), string(connection))
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer rows.Close()
	out := []ExplorerForecast{}
	for rows.Next() {
		var f ExplorerForecast
		if err := rows.Scan(&f.Connection, &f.Month, &f.From, &f.To, &f.Mean, &f.Low, &f.High, &f.FetchedAt); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// ExplorerMonthEnd is Cost Explorer's forecast of a month's total beside
// crossbill's: the cost the store holds before the forecast's first day
// plus Cost Explorer's forecast from that day on, summed over the
// tenant's connections.
type ExplorerMonthEnd struct {
	Label        string  `json:"label"`
	ActualBefore float64 `json:"actual_before_forecast"` // crossbill's data, month start to From
	From         string  `json:"forecast_from"`
	Forecast     float64 `json:"forecast"` // the month's total: ActualBefore + Cost Explorer's mean
	Low          float64 `json:"low"`
	High         float64 `json:"high"`
	FetchedAt    string  `json:"fetched_at"`
	// Later are Cost Explorer's forecasts of the months after, whole.
	Later []ExplorerForecast `json:"later_months"`
}

// explorerMonthEnd sums the stored forecasts of month (and keeps the
// later months'); daily is the tenant's daily cost of the month. Nil when
// no connection has a forecast of the month.
func explorerMonthEnd(fs []ExplorerForecast, month string, daily map[time.Time]float64) *ExplorerMonthEnd {
	var m *ExplorerMonthEnd
	later := map[string]*ExplorerForecast{}
	for _, f := range fs {
		switch {
		case f.Month == month:
			if m == nil {
				m = &ExplorerMonthEnd{Label: ExplorerForecastLabel, From: f.From, FetchedAt: f.FetchedAt, Later: []ExplorerForecast{}}
			}
			// Connections loaded on different days: the earliest first day
			// counts (a later one's gap is in crossbill's actuals anyway).
			m.From, m.FetchedAt = min(m.From, f.From), min(m.FetchedAt, f.FetchedAt)
			m.Forecast += f.Mean
			m.Low += f.Low
			m.High += f.High
		case f.Month > month:
			l := later[f.Month]
			if l == nil {
				l = &ExplorerForecast{Month: f.Month, From: f.From, To: f.To, FetchedAt: f.FetchedAt}
				later[f.Month] = l
			}
			l.Mean += f.Mean
			l.Low += f.Low
			l.High += f.High
		}
	}
	if m == nil {
		return nil
	}
	from, err := time.Parse(time.DateOnly, m.From)
	if err != nil {
		return nil
	}
	for d, v := range daily {
		if d.Format("2006-01") == month && d.Before(from) {
			m.ActualBefore += v
		}
	}
	m.Forecast += m.ActualBefore
	m.Low += m.ActualBefore
	m.High += m.ActualBefore
	for _, l := range later {
		m.Later = append(m.Later, *l)
	}
	sort.Slice(m.Later, func(i, j int) bool { return m.Later[i].Month < m.Later[j].Month })
	return m
}

// SaveExplorerAccountNames records names (account ID to name, "" for an
// account Cost Explorer does not name) for the connection, keeping the
// accounts held that names does not mention: an incremental load's answer
// covers only its days.
func (s *Store) SaveExplorerAccountNames(ctx context.Context, tenant crossbill.TenantID, connection crossbill.ConnectionID, names map[string]string) (err error) {
	const op = "cost explorer account names"
	if len(names) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, ignoreDone(tx.Rollback()))
		}
	}()
	for id, name := range names {
		if _, err := tx.ExecContext(ctx, `DELETE FROM ce_account_names WHERE tenant = ? AND connection = ? AND account = ?`, string(tenant), string(connection), id); err != nil {
			return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO ce_account_names VALUES (?, ?, ?, ?)`, string(tenant), string(connection), id, name); err != nil {
			return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return nil
}

// UnnamedAccounts counts the accounts of the connection's Cost Explorer
// data that no name lookup answered yet: the load asks Cost Explorer for
// names only when there are some.
func (s *Store) UnnamedAccounts(ctx context.Context, tenant crossbill.TenantID, connection crossbill.ConnectionID) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(DISTINCT account)::INTEGER FROM ce_daily d WHERE tenant = ? AND connection = ? AND account IS NOT NULL AND account <> ''
		AND NOT EXISTS (SELECT 1 FROM ce_account_names a WHERE a.tenant = d.tenant AND a.connection = d.connection AND a.account = d.account)`,
		string(tenant), string(connection)).Scan(&n)
	if err != nil {
		return 0, crossbill.Errorf(crossbill.CodeInternal, "cost explorer account names", "%w", err)
	}
	return n, nil
}

// AccountNames maps the tenant's account IDs to the names Cost Explorer
// gave them (the first by connection when two differ).
func (s *Store) AccountNames(ctx context.Context, tenant crossbill.TenantID) (map[string]string, error) {
	const op = "cost explorer account names"
	rows, err := s.db.QueryContext(ctx, `SELECT account, min_by(name, connection) FROM ce_account_names WHERE tenant = ? AND name <> '' GROUP BY account`, string(tenant))
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		out[id] = name
	}
	return out, rows.Err()
}

// groupNames are the names of the account groups of totals (nil when none
// is named).
func (s *Store) groupNames(ctx context.Context, tenant crossbill.TenantID, totals []GroupTotal) (map[string]string, error) {
	all, err := s.AccountNames(ctx, tenant)
	if err != nil || len(all) == 0 {
		return nil, err
	}
	var out map[string]string
	for _, t := range totals {
		if n, ok := all[t.Group]; ok {
			if out == nil {
				out = map[string]string{}
			}
			out[t.Group] = n
		}
	}
	return out, nil
}
