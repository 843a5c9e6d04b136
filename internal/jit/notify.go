package jit

import (
	"context"

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

// notify is the one place notifications leave: internal/notify's outbox
// once it is on main; until then the message is logged.
func notify(ctx context.Context, st *store.Store, opts Options, m Message) {
	if opts.Notify != nil {
		opts.Notify(ctx, st, m)
		return
	}
	opts.log().Info("jit: notification", "tenant", m.Tenant, "topic", m.Topic, "subject", m.Subject)
}

func notifyRequester(ctx context.Context, st *store.Store, opts Options, l store.JITLease, what string) {
	notify(ctx, st, opts, Message{Tenant: l.TenantID, Topic: TopicLease, Subject: "Access " + what + ": lease " + l.ID,
		Text: "Lease " + l.ID + " of " + l.Requester + " " + what + ".", Data: l, DedupKey: l.ID + ":" + l.State})
}
