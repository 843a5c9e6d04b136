package remediation

import (
	"context"
	"fmt"
)

// Notice is what remediation tells people: a plan waits for an approver,
// ran, or failed. Topics: remediation.awaiting-approval, remediation.done,
// remediation.failed.
type Notice struct {
	Topic    string
	Subject  string
	Text     string
	Plan     Plan
	DedupKey string
}

// announce hands a notice to Env.Notify, the one place remediation reaches
// people (the server wires the notification outbox there). A failed
// notice never fails the remediation: the plan and the audit log hold the
// truth.
func (e Env) announce(ctx context.Context, topic string, p Plan) {
	if e.Notify == nil {
		return
	}
	n := Notice{Topic: topic, Plan: p, DedupKey: topic + "/" + p.ID}
	switch topic {
	case TopicAwaiting:
		n.Subject = "Remediation plan " + p.ID + " waits for an approver"
		n.Text = fmt.Sprintf("%s\n%d of %d item(s) would change; approve or deny approval %s (a person other than %s).", summary(p), ready(p), len(p.Items), p.ApprovalID, orText(p.RequestedEmail, p.RequestedBy))
	case TopicDone:
		n.Subject = "Remediation plan " + p.ID + " ran"
		n.Text = fmt.Sprintf("%s\n%d item(s) done.", summary(p), countStatus(p, ItemDone))
	case TopicFailed:
		n.Subject = "Remediation plan " + p.ID + " failed"
		n.Text = fmt.Sprintf("%s\n%s", summary(p), p.Reason)
	}
	e.Notify(ctx, n)
}

// Notice topics.
const (
	TopicAwaiting = "remediation.awaiting-approval"
	TopicDone     = "remediation.done"
	TopicFailed   = "remediation.failed"
)
