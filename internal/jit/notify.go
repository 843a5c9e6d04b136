package jit

import (
	"context"

	outbox "github.com/crossbill/crossbill/internal/notify"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"
)

// Notification topics.
const (
	TopicRequested = "access.requested" // to approvers
	TopicLease     = "access.lease"     // to the requester: decided, granted, revoked
	TopicDrift     = "access.drift"     // the reconciler's repairs and out-of-band grants
)

// Message is a notification (the shape of internal/notify's message).
type Message struct {
	Tenant   crossbill.TenantID
	Topic    string
	Subject  string
	Text     string
	Data     any
	DedupKey string
}

// notify is the one place notifications leave: the tenant's outbox
// (internal/notify), which routes them to the channels subscribed to the
// topic. A failure to queue is logged, never fails the lease.
func notify(ctx context.Context, st *store.Store, opts Options, m Message) {
	if opts.Notify != nil {
		opts.Notify(ctx, st, m)
		return
	}
	if err := outbox.Enqueue(ctx, st, outbox.Message{Tenant: m.Tenant, Topic: m.Topic, Subject: m.Subject, Text: m.Text, Data: m.Data, DedupKey: m.DedupKey}); err != nil {
		opts.log().Warn("jit: queueing a notification", "tenant", m.Tenant, "topic", m.Topic, "err", err)
	}
}

func notifyRequester(ctx context.Context, st *store.Store, opts Options, l store.JITLease, what string) {
	notify(ctx, st, opts, Message{Tenant: l.TenantID, Topic: TopicLease, Subject: "Access " + what + ": lease " + l.ID,
		Text: "Lease " + l.ID + " of " + l.Requester + " " + what + ".", Data: l, DedupKey: l.ID + ":" + l.State})
}
