package store

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/crossbill/crossbill"
)

// SetEventsKey records (or replaces) the hash of a connection's events
// key and the endpoint its events stack calls.
func (s *Store) SetEventsKey(ctx context.Context, tenant crossbill.TenantID, conn crossbill.ConnectionID, keyHash, endpoint string) error {
	if _, err := s.TenantConnection(ctx, tenant, conn); err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO events_keys(connection_id, tenant_id, key_hash, endpoint, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (connection_id) DO UPDATE SET key_hash = excluded.key_hash, endpoint = excluded.endpoint, created_at = excluded.created_at`,
		string(conn), string(tenant), keyHash, endpoint, formatStamp(s.now())); err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, "events key", "%w", err)
	}
	return nil
}

// EventsEndpoint is the endpoint of the tenant's connection's events
// stack ("" when the connection has none).
func (s *Store) EventsEndpoint(ctx context.Context, tenant crossbill.TenantID, conn crossbill.ConnectionID) (string, error) {
	var ep string
	err := s.db.QueryRowContext(ctx, `SELECT endpoint FROM events_keys WHERE tenant_id = ? AND connection_id = ?`, string(tenant), string(conn)).Scan(&ep)
	if err != nil && err != sql.ErrNoRows {
		return "", crossbill.Errorf(crossbill.CodeInternal, "events key", "%w", err)
	}
	return ep, nil
}

// ConnectionByEventsKey is the connection whose key hashes to keyHash
// (Unauthorized otherwise). The hash found is compared again in constant
// time: the index lookup aside, the answer's timing does not depend on how
// much of a wrong key matched.
func (s *Store) ConnectionByEventsKey(ctx context.Context, keyHash string) (Connection, error) {
	var conn, tenant, stored string
	err := s.db.QueryRowContext(ctx, `SELECT connection_id, tenant_id, key_hash FROM events_keys WHERE key_hash = ?`, keyHash).Scan(&conn, &tenant, &stored)
	if err == sql.ErrNoRows || err == nil && subtle.ConstantTimeCompare([]byte(stored), []byte(keyHash)) != 1 {
		return Connection{}, crossbill.Errorf(crossbill.CodeUnauthorized, "events", "unknown events key: use the key `crossbill connect init --events` printed for the connection (the EventBridge connection's API key)")
	}
	if err != nil {
		return Connection{}, crossbill.Errorf(crossbill.CodeInternal, "events", "%w", err)
	}
	return s.TenantConnection(ctx, crossbill.TenantID(tenant), crossbill.ConnectionID(conn))
}

// CloudEvent is one CloudTrail management event received from a connection.
type CloudEvent struct {
	ConnectionID crossbill.ConnectionID `json:"connection_id"`
	ID           string                 `json:"id"`
	TenantID     crossbill.TenantID     `json:"tenant_id"`
	Account      crossbill.AccountID    `json:"account"`
	Region       string                 `json:"region"`
	Source       string                 `json:"source"`
	EventName    string                 `json:"event_name"`
	Principal    string                 `json:"principal,omitempty"`
	Time         time.Time              `json:"time"`
	ReceivedAt   time.Time              `json:"received_at"`
	Detail       json.RawMessage        `json:"detail,omitempty"`
}

// RecordEvent stores e unless the connection already sent its ID: new is
// false for a replay.
func (s *Store) RecordEvent(ctx context.Context, e CloudEvent) (bool, error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO events(connection_id, event_id, tenant_id, account_id, region, source, event_name, principal, event_time, received_at, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (connection_id, event_id) DO NOTHING`,
		string(e.ConnectionID), e.ID, string(e.TenantID), string(e.Account), e.Region, e.Source, e.EventName, e.Principal,
		formatStamp(e.Time), formatStamp(e.ReceivedAt), string(e.Detail))
	if err != nil {
		return false, crossbill.Errorf(crossbill.CodeInternal, "events", "%w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, crossbill.Errorf(crossbill.CodeInternal, "events", "%w", err)
	}
	return n == 1, nil
}

// CloudEvents are the tenant's events received since since, newest first, at
// most limit.
func (s *Store) CloudEvents(ctx context.Context, tenant crossbill.TenantID, since time.Time, limit int) ([]CloudEvent, error) {
	const op = "events"
	rows, err := s.db.QueryContext(ctx, `SELECT connection_id, event_id, tenant_id, account_id, region, source, event_name, principal, event_time, received_at, detail
		FROM events WHERE tenant_id = ? AND received_at >= ? ORDER BY received_at DESC, event_id LIMIT ?`, string(tenant), formatStamp(since), limit)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer rows.Close()
	out := []CloudEvent{}
	for rows.Next() {
		var e CloudEvent
		var conn, ten, acct, at, recv, detail string
		if err := rows.Scan(&conn, &e.ID, &ten, &acct, &e.Region, &e.Source, &e.EventName, &e.Principal, &at, &recv, &detail); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		e.ConnectionID, e.TenantID, e.Account, e.Detail = crossbill.ConnectionID(conn), crossbill.TenantID(ten), crossbill.AccountID(acct), json.RawMessage(detail)
		if e.Time, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		if e.ReceivedAt, err = time.Parse(time.RFC3339Nano, recv); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
