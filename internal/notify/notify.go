// Package notify gets crossbill's messages to people: a tenant's channels
// (an HMAC-signed webhook, a Slack-compatible incoming webhook, email over
// SMTP), each subscribed to topics; a durable outbox in the metadata store
// that the notify job delivers from with retries and exponential backoff;
// deduplication by key, channel snooze, and the outbox rows as the
// delivery log.
//
// Any feature sends with Enqueue; nothing is sent inside the caller's
// request, so a slow or failing receiver never holds up the feature.
package notify

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"
)

// JobKind is the scheduler job that delivers a tenant's outbox.
const JobKind = "notify"

// Message is one notification. Topic picks the channels (those subscribed
// to it, to "*", or to its prefix as "alert.*"); DedupKey, when set, sends
// the message once per tenant however often it is enqueued.
type Message struct {
	Tenant   crossbill.TenantID
	Topic    string // e.g. alert.budget, alert.anomaly, approval, remediation, event
	Subject  string // one line
	Text     string // the body people read
	Data     any    // JSON for machines (webhook receivers)
	DedupKey string
}

// Result says what Enqueue did.
type Result struct {
	Deduplicated bool               `json:"deduplicated"` // the key was sent before: nothing queued
	Queued       []store.OutboxItem `json:"queued"`       // one per channel (snoozed channels' rows are marked snoozed)
}

var topicRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*(\.[a-z0-9_-]+)*$`)

// Enqueue routes m to the tenant's channels subscribed to its topic and
// queues their deliveries for the notify job; a tenant with no such
// channel queues nothing (not an error).
func Enqueue(ctx context.Context, st *store.Store, m Message) error {
	_, err := Send(ctx, st, m)
	return err
}

// Send is Enqueue answering what it queued.
func Send(ctx context.Context, st *store.Store, m Message) (Result, error) {
	const op = "notify"
	if err := checkMessage(m); err != nil {
		return Result{}, err
	}
	data, err := json.Marshal(m.Data)
	if err != nil {
		return Result{}, crossbill.Errorf(crossbill.CodeInvalid, op, "the message's data is not JSON: %w", err)
	}
	chans, err := st.NotifyChannels(ctx, m.Tenant)
	if err != nil {
		return Result{}, err
	}
	now := st.Now()
	var items []store.OutboxItem
	for _, c := range chans {
		if !Subscribed(c.Topics, m.Topic) {
			continue
		}
		it := store.OutboxItem{ChannelID: c.ID, ChannelName: c.Name, Topic: m.Topic, Subject: m.Subject, Text: m.Text, Data: data}
		if c.SnoozedUntil != nil && c.SnoozedUntil.After(now) {
			it.Status, it.LastError = store.OutboxSnoozed, "channel snoozed until "+c.SnoozedUntil.Format(time.RFC3339)
		}
		items = append(items, it)
	}
	if len(items) == 0 {
		return Result{Queued: []store.OutboxItem{}}, nil
	}
	out, dup, err := st.EnqueueNotifications(ctx, m.Tenant, m.DedupKey, items)
	if err != nil || dup {
		return Result{Deduplicated: dup, Queued: []store.OutboxItem{}}, err
	}
	if slices.ContainsFunc(out, func(it store.OutboxItem) bool { return it.Status == store.OutboxPending }) {
		// One live notify job per tenant (the store keeps one): a second
		// message while it waits joins it.
		if _, err := st.EnqueueJob(ctx, store.JobSpec{TenantID: m.Tenant, Kind: JobKind}); err != nil {
			return Result{}, err
		}
	}
	return Result{Queued: out}, nil
}

func checkMessage(m Message) error {
	const op = "notify"
	if m.Tenant == "" {
		return crossbill.Errorf(crossbill.CodeInvalid, op, "a message needs a tenant")
	}
	if !topicRE.MatchString(m.Topic) || len(m.Topic) > 100 {
		return crossbill.Errorf(crossbill.CodeInvalid, op, "topic %q: use lower-case words joined by dots, e.g. alert.budget", m.Topic)
	}
	if m.Subject == "" || len(m.Subject) > 300 || strings.ContainsAny(m.Subject, "\r\n") {
		return crossbill.Errorf(crossbill.CodeInvalid, op, "a message needs a one-line subject of at most 300 bytes")
	}
	if len(m.Text) > 64<<10 || len(m.DedupKey) > 300 {
		return crossbill.Errorf(crossbill.CodeInvalid, op, "the message's text (64 KiB) or dedup key (300 bytes) is too long")
	}
	for field, v := range map[string]string{"subject": m.Subject, "dedup key": m.DedupKey} {
		if err := crossbill.CheckText(op, field, v); err != nil {
			return err
		}
	}
	// Text may hold line breaks and tabs, nothing else CheckText refuses.
	return crossbill.CheckText(op, "text", strings.NewReplacer("\n", " ", "\t", " ").Replace(m.Text))
}

// Subscribed reports whether a channel subscribed to topics takes topic:
// an exact topic, "*", or a prefix such as "alert.*".
func Subscribed(topics []string, topic string) bool {
	for _, t := range topics {
		if t == "*" || t == topic {
			return true
		}
		if p, ok := strings.CutSuffix(t, ".*"); ok && strings.HasPrefix(topic, p+".") {
			return true
		}
	}
	return false
}
