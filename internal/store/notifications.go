package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/crossbill/crossbill"
)

// NotifyChannel is where a tenant's notifications go (internal/notify
// routes and delivers; the store keeps the rows). Sealed holds the
// channel's secrets (URL, signing secret, SMTP password) encrypted by
// internal/notify; it never leaves the server.
type NotifyChannel struct {
	ID           string             `json:"id"`
	TenantID     crossbill.TenantID `json:"tenant_id"`
	Name         string             `json:"name"`
	Kind         string             `json:"kind"`
	Target       string             `json:"target"`
	Topics       []string           `json:"topics"`
	Sealed       string             `json:"-"`
	SnoozedUntil *time.Time         `json:"snoozed_until,omitempty"`
	CreatedBy    string             `json:"created_by"`
	CreatedAt    time.Time          `json:"created_at"`
}

// Outbox statuses: pending rows are due at NextAttemptAt; the others are
// final.
const (
	OutboxPending   = "pending"
	OutboxDelivered = "delivered"
	OutboxFailed    = "failed"  // every attempt failed, or the receiver refused for good
	OutboxSnoozed   = "snoozed" // the channel was snoozed when the message came: not sent
	OutboxDropped   = "dropped" // the channel was removed before delivery
)

// OutboxItem is one message for one channel: the outbox row the notify job
// delivers, and afterwards its line in the delivery log.
type OutboxItem struct {
	ID            string             `json:"id"`
	TenantID      crossbill.TenantID `json:"tenant_id"`
	ChannelID     string             `json:"channel_id"`
	ChannelName   string             `json:"channel"`
	Topic         string             `json:"topic"`
	Subject       string             `json:"subject"`
	Text          string             `json:"text"`
	Data          json.RawMessage    `json:"data,omitempty"`
	DedupKey      string             `json:"dedup_key,omitempty"`
	Status        string             `json:"status"`
	Attempts      int                `json:"attempts"`
	NextAttemptAt time.Time          `json:"next_attempt_at"`
	LastError     string             `json:"last_error,omitempty"`
	CreatedAt     time.Time          `json:"created_at"`
	DeliveredAt   *time.Time         `json:"delivered_at,omitempty"`
}

// Audit actions of channel changes. Their lines name the channel (name,
// kind, target: a URL's scheme and host, or the SMTP server and
// recipients), never its sealed secrets.
const (
	AuditChannelCreate = "alerts.channel.create"
	AuditChannelDelete = "alerts.channel.delete"
	AuditChannelSnooze = "alerts.channel.snooze"
)

// channelAudit is a channel's audit detail: what names it, no secret.
func channelAudit(c NotifyChannel) map[string]any {
	return map[string]any{"name": c.Name, "kind": c.Kind, "target": c.Target, "topics": c.Topics}
}

// CreateNotifyChannel saves c (ID and time set here) unless the tenant has
// a channel of that name (Conflict) or max channels (Invalid), with its
// audit line (by: who) in the same transaction.
func (s *Store) CreateNotifyChannel(ctx context.Context, c NotifyChannel, max int, by AuditEntry) (NotifyChannel, error) {
	const op = "channel create"
	idPart, err := randomString(8)
	if err != nil {
		return NotifyChannel{}, crossbill.Errorf(crossbill.CodeInternal, op, "reading random bytes: %w", err)
	}
	c.ID, c.CreatedAt = "nch_"+idPart, s.now().Truncate(time.Microsecond)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return NotifyChannel{}, crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	res, err := tx.ExecContext(ctx, `INSERT INTO notify_channels(id, tenant_id, name, kind, target, topics, sealed, created_by, created_at)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE (SELECT COUNT(*) FROM notify_channels WHERE tenant_id = ?) < ?
		ON CONFLICT (tenant_id, name) DO NOTHING`,
		c.ID, string(c.TenantID), c.Name, c.Kind, c.Target, strings.Join(c.Topics, ","), c.Sealed, c.CreatedBy, formatStamp(c.CreatedAt), string(c.TenantID), max)
	if err != nil {
		return NotifyChannel{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return NotifyChannel{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	} else if n == 1 {
		by.Action, by.TenantID, by.Subject = AuditChannelCreate, c.TenantID, c.ID
		if err := s.appendAudit(ctx, tx, by, channelAudit(c)); err != nil {
			return NotifyChannel{}, err
		}
		if err := tx.Commit(); err != nil {
			return NotifyChannel{}, crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
		}
		return c, nil
	}
	tx.Rollback() //nolint:errcheck // nothing was written
	if _, err := s.NotifyChannel(ctx, c.TenantID, c.Name); err == nil {
		return NotifyChannel{}, crossbill.Errorf(crossbill.CodeConflict, op, "a channel named %q exists: pick another name or remove it first", c.Name)
	}
	return NotifyChannel{}, crossbill.Errorf(crossbill.CodeInvalid, op, "the tenant has %d channels, the most it may keep: remove one first", max)
}

const channelCols = `id, tenant_id, name, kind, target, topics, sealed, snoozed_until, created_by, created_at`

func scanChannel(sc scanner) (NotifyChannel, error) {
	var c NotifyChannel
	var tenant, topics, at string
	var snoozed sql.NullString
	if err := sc.Scan(&c.ID, &tenant, &c.Name, &c.Kind, &c.Target, &topics, &c.Sealed, &snoozed, &c.CreatedBy, &at); err != nil {
		return c, err
	}
	c.TenantID, c.Topics = crossbill.TenantID(tenant), strings.Split(topics, ",")
	var err error
	if c.SnoozedUntil, err = parseStampPtr(snoozed); err != nil {
		return c, err
	}
	c.CreatedAt, err = time.Parse(time.RFC3339Nano, at)
	return c, err
}

// NotifyChannels lists the tenant's channels by name.
func (s *Store) NotifyChannels(ctx context.Context, tenant crossbill.TenantID) ([]NotifyChannel, error) {
	const op = "channels"
	rows, err := s.db.QueryContext(ctx, `SELECT `+channelCols+` FROM notify_channels WHERE tenant_id = ?`, string(tenant))
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer rows.Close()
	out := []NotifyChannel{}
	for rows.Next() {
		c, err := scanChannel(rows)
		if err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// NotifyChannel is the tenant's channel named ref (or with that ID);
// another tenant's channel is NotFound like a missing one.
func (s *Store) NotifyChannel(ctx context.Context, tenant crossbill.TenantID, ref string) (NotifyChannel, error) {
	c, err := scanChannel(s.db.QueryRowContext(ctx, `SELECT `+channelCols+` FROM notify_channels WHERE tenant_id = ? AND (name = ? OR id = ?)`, string(tenant), ref, ref))
	if err == sql.ErrNoRows {
		return NotifyChannel{}, crossbill.Errorf(crossbill.CodeNotFound, "channel", "no channel %q: list them with `crossbill alerts channel list` or GET .../alerts/channels", ref)
	}
	if err != nil {
		return NotifyChannel{}, crossbill.Errorf(crossbill.CodeInternal, "channel", "%w", err)
	}
	return c, nil
}

// DeleteNotifyChannel removes the tenant's channel; its pending messages
// are dropped (their log lines stay). The audit line (by: who) is written
// in the same transaction.
func (s *Store) DeleteNotifyChannel(ctx context.Context, tenant crossbill.TenantID, ref string, by AuditEntry) (NotifyChannel, error) {
	const op = "channel remove"
	c, err := s.NotifyChannel(ctx, tenant, ref)
	if err != nil {
		return NotifyChannel{}, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return NotifyChannel{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	res, err := tx.ExecContext(ctx, `DELETE FROM notify_channels WHERE tenant_id = ? AND id = ?`, string(tenant), c.ID)
	if err != nil {
		return NotifyChannel{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return NotifyChannel{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	} else if n == 0 { // removed meanwhile, by another request
		return NotifyChannel{}, crossbill.Errorf(crossbill.CodeNotFound, op, "no channel %q: it was just removed", ref)
	}
	dropped, err := tx.ExecContext(ctx, `UPDATE notify_outbox SET status = ?, last_error = ? WHERE tenant_id = ? AND channel_id = ? AND status = ?`,
		OutboxDropped, "the channel was removed", string(tenant), c.ID, OutboxPending)
	if err != nil {
		return NotifyChannel{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	detail := channelAudit(c)
	if n, err := dropped.RowsAffected(); err == nil {
		detail["dropped_messages"] = n
	}
	by.Action, by.TenantID, by.Subject = AuditChannelDelete, tenant, c.ID
	if err := s.appendAudit(ctx, tx, by, detail); err != nil {
		return NotifyChannel{}, err
	}
	if err := tx.Commit(); err != nil {
		return NotifyChannel{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return c, nil
}

// SnoozeNotifyChannel holds the channel's messages until until (the zero
// time ends a snooze), with its audit line (by: who) in the same
// transaction.
func (s *Store) SnoozeNotifyChannel(ctx context.Context, tenant crossbill.TenantID, ref string, until time.Time, by AuditEntry) (NotifyChannel, error) {
	const op = "channel snooze"
	c, err := s.NotifyChannel(ctx, tenant, ref)
	if err != nil {
		return NotifyChannel{}, err
	}
	var v any
	detail := map[string]any{"name": c.Name, "snoozed_until": "ended"}
	if !until.IsZero() {
		v = formatStamp(until)
		detail["snoozed_until"] = until.UTC().Format(time.RFC3339)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return NotifyChannel{}, crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	if _, err := tx.ExecContext(ctx, `UPDATE notify_channels SET snoozed_until = ? WHERE tenant_id = ? AND id = ?`, v, string(tenant), c.ID); err != nil {
		return NotifyChannel{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	by.Action, by.TenantID, by.Subject = AuditChannelSnooze, tenant, c.ID
	if err := s.appendAudit(ctx, tx, by, detail); err != nil {
		return NotifyChannel{}, err
	}
	if err := tx.Commit(); err != nil {
		return NotifyChannel{}, crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
	}
	return s.NotifyChannel(ctx, tenant, c.ID)
}

// EnqueueNotifications writes items (one per channel of one message) to
// the outbox in one transaction. A non-empty dedupKey is claimed first:
// when the tenant already sent it, nothing is written and dup is true.
func (s *Store) EnqueueNotifications(ctx context.Context, tenant crossbill.TenantID, dedupKey string, items []OutboxItem) (out []OutboxItem, dup bool, err error) {
	const op = "notify enqueue"
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, false, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	now := s.now().Truncate(time.Microsecond)
	if dedupKey != "" {
		res, err := tx.ExecContext(ctx, `INSERT INTO notify_dedup(tenant_id, dedup_key, created_at) VALUES (?, ?, ?) ON CONFLICT (tenant_id, dedup_key) DO NOTHING`,
			string(tenant), dedupKey, formatStamp(now))
		if err != nil {
			return nil, false, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, false, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		} else if n == 0 {
			return nil, true, nil
		}
	}
	for _, it := range items {
		idPart, err := randomString(10)
		if err != nil {
			return nil, false, crossbill.Errorf(crossbill.CodeInternal, op, "reading random bytes: %w", err)
		}
		it.ID, it.TenantID, it.DedupKey, it.CreatedAt = "ntf_"+idPart, tenant, dedupKey, now
		if it.Status == "" {
			it.Status = OutboxPending
		}
		if it.NextAttemptAt.IsZero() {
			it.NextAttemptAt = now
		}
		data := string(it.Data)
		if data == "" {
			data = "null"
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO notify_outbox(id, tenant_id, channel_id, channel_name, topic, subject, body, data, dedup_key, status, next_attempt_at, last_error, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			it.ID, string(tenant), it.ChannelID, it.ChannelName, it.Topic, it.Subject, it.Text, data, dedupKey, it.Status, formatStamp(it.NextAttemptAt), it.LastError, formatStamp(now)); err != nil {
			return nil, false, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		out = append(out, it)
	}
	if err := tx.Commit(); err != nil {
		return nil, false, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return out, false, nil
}

const outboxCols = `id, tenant_id, channel_id, channel_name, topic, subject, body, data, dedup_key, status, attempts, next_attempt_at, last_error, created_at, delivered_at`

func scanOutbox(sc scanner) (OutboxItem, error) {
	var it OutboxItem
	var tenant, data, next, at string
	var delivered sql.NullString
	if err := sc.Scan(&it.ID, &tenant, &it.ChannelID, &it.ChannelName, &it.Topic, &it.Subject, &it.Text, &data, &it.DedupKey, &it.Status, &it.Attempts, &next, &it.LastError, &at, &delivered); err != nil {
		return it, err
	}
	it.TenantID = crossbill.TenantID(tenant)
	if data != "null" {
		it.Data = json.RawMessage(data)
	}
	var err error
	if it.NextAttemptAt, err = time.Parse(time.RFC3339Nano, next); err != nil {
		return it, err
	}
	if it.CreatedAt, err = time.Parse(time.RFC3339Nano, at); err != nil {
		return it, err
	}
	it.DeliveredAt, err = parseStampPtr(delivered)
	return it, err
}

func (s *Store) queryOutbox(ctx context.Context, op, q string, args ...any) ([]OutboxItem, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+outboxCols+` FROM notify_outbox WHERE `+q, args...)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer rows.Close()
	out := []OutboxItem{}
	for rows.Next() {
		it, err := scanOutbox(rows)
		if err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return out, nil
}

// DueNotifications are the tenant's pending outbox rows due at now, oldest
// first, at most limit.
func (s *Store) DueNotifications(ctx context.Context, tenant crossbill.TenantID, now time.Time, limit int) ([]OutboxItem, error) {
	return s.queryOutbox(ctx, "notify due", `tenant_id = ? AND status = ? AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`,
		string(tenant), OutboxPending, formatStamp(now), limit)
}

// NextNotificationDue is when the tenant's earliest pending row is due
// (ok false when none is pending).
func (s *Store) NextNotificationDue(ctx context.Context, tenant crossbill.TenantID) (time.Time, bool, error) {
	var next sql.NullString
	if err := s.db.QueryRowContext(ctx, `SELECT MIN(next_attempt_at) FROM notify_outbox WHERE tenant_id = ? AND status = ?`, string(tenant), OutboxPending).Scan(&next); err != nil {
		return time.Time{}, false, crossbill.Errorf(crossbill.CodeInternal, "notify due", "%w", err)
	}
	if !next.Valid {
		return time.Time{}, false, nil
	}
	t, err := time.Parse(time.RFC3339Nano, next.String)
	if err != nil {
		return time.Time{}, false, crossbill.Errorf(crossbill.CodeInternal, "notify due", "%w", err)
	}
	return t, true, nil
}

// TenantsWithPendingNotifications are the tenants whose outbox holds
// pending rows: at start the server queues their notify jobs.
func (s *Store) TenantsWithPendingNotifications(ctx context.Context) ([]crossbill.TenantID, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT tenant_id FROM notify_outbox WHERE status = ?`, OutboxPending)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, "notify pending", "%w", err)
	}
	defer rows.Close()
	var out []crossbill.TenantID
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, "notify pending", "%w", err)
		}
		out = append(out, crossbill.TenantID(t))
	}
	return out, rows.Err()
}

// DeliveryOutcome is what one delivery attempt did to an outbox row.
type DeliveryOutcome struct {
	Status string    // OutboxPending (retry at NextAt), OutboxDelivered, OutboxFailed, OutboxSnoozed
	NextAt time.Time // for a retry
	Err    string    // the attempt's error, shown in the log
}

// RecordDelivery records an attempt on the tenant's outbox row id (only a
// pending row changes: a row dropped meanwhile stays dropped). A success
// keeps the last failure's error: the log shows what was retried.
func (s *Store) RecordDelivery(ctx context.Context, tenant crossbill.TenantID, id string, o DeliveryOutcome) error {
	now := s.now()
	var delivered any
	if o.Status == OutboxDelivered {
		delivered = formatStamp(now)
	}
	next := o.NextAt
	if next.IsZero() {
		next = now
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE notify_outbox SET status = ?, attempts = attempts + 1, next_attempt_at = ?,
		last_error = CASE WHEN ? = '' THEN last_error ELSE ? END, delivered_at = ?
		WHERE tenant_id = ? AND id = ? AND status = ?`,
		o.Status, formatStamp(next), o.Err, o.Err, delivered, string(tenant), id, OutboxPending); err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, "notify record", "%w", err)
	}
	return nil
}

// NotificationLog is the tenant's delivery log, newest first, at most
// limit rows; channel (name or ID) narrows it when not "".
func (s *Store) NotificationLog(ctx context.Context, tenant crossbill.TenantID, channel string, limit int) ([]OutboxItem, error) {
	if channel != "" {
		return s.queryOutbox(ctx, "notify log", `tenant_id = ? AND (channel_id = ? OR channel_name = ?) ORDER BY created_at DESC, id LIMIT ?`, string(tenant), channel, channel, limit)
	}
	return s.queryOutbox(ctx, "notify log", `tenant_id = ? ORDER BY created_at DESC, id LIMIT ?`, string(tenant), limit)
}
