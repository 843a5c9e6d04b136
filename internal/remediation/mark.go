package remediation

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/store"
)

// MarkRequest asks to mark resources for a later action (Cloud
// Custodian's mark-for-op): the resource's owners see the tag and the date
// before anything happens.
type MarkRequest struct {
	Tenant     crossbill.TenantID
	Connection crossbill.ConnectionID
	Targets    []Target
	Days       int // the action is due this many days from today (default 7)
	By         store.AuditEntry
}

// MarkResult is what happened to one resource.
type MarkResult struct {
	ARN    string `json:"arn"`
	Action Action `json:"action"`
	Status string `json:"status"` // marked | unmarked | kept | refused | skipped
	Due    string `json:"due,omitempty"`
	Reason string `json:"reason,omitempty"`
	Fix    string `json:"fix,omitempty"`
}

// Mark statuses.
const (
	MarkMarked   = "marked"
	MarkUnmarked = "unmarked"
	MarkKept     = "kept"
)

// Mark tags each target the guards allow with MarkTag = "<action>@<due>"
// and records the mark; refused and protected ones are reported, not
// tagged.
func Mark(ctx context.Context, env Env, req MarkRequest) ([]MarkResult, error) {
	const op = "remediation mark"
	if req.Days == 0 {
		req.Days = 7
	}
	if req.Days < 1 || req.Days > 365 {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "days must be 1 to 365")
	}
	conn, err := ConnectionFor(ctx, env.Store, req.Tenant, req.Connection)
	if err != nil {
		return nil, err
	}
	targets := slices.Clone(req.Targets)
	ids, err := checkTargets(targets, conn.AccountID)
	if err != nil {
		return nil, err
	}
	now := env.now().UTC()
	due := now.AddDate(0, 0, req.Days).Format(time.DateOnly)
	out := []MarkResult{}
	for i, t := range targets {
		it, c, f, err := env.inspectOne(ctx, conn, t, ids[i], now)
		if err != nil {
			return out, err
		}
		r := MarkResult{ARN: t.ARN, Action: t.Action, Status: it.Status, Reason: it.Reason, Fix: it.Fix}
		if it.Status == ItemReady && t.Action.Kind() == KindBucket {
			r.Status, r.Reason = ItemRefused, "crossbill does not mark buckets (S3's PutBucketTagging replaces the whole tag set): act on it with a plan instead"
		}
		if r.Status != ItemReady {
			out = append(out, r)
			continue
		}
		if err := setMarkTag(ctx, c, t.Action.Kind(), it.ID, f, string(t.Action)+"@"+due); err != nil {
			return out, awsclient.Classify("mark "+it.ID, err)
		}
		if err := env.Store.SaveRemediationMark(ctx, store.RemediationMark{TenantID: req.Tenant, ConnectionID: conn.ID, ARN: t.ARN, Action: string(t.Action),
			AccountID: t.Account, Region: t.Region, Due: due}, req.By); err != nil {
			return out, err
		}
		r.Status, r.Due = MarkMarked, due
		out = append(out, r)
	}
	return out, nil
}

// Unmark reads every resource marked through the connection again and
// removes the mark (tag and record) of those that became compliant, are
// gone, lost the remediation tag or gained protection, and of those no
// longer in still when still is not nil (the recommendations that still
// name them).
func Unmark(ctx context.Context, env Env, tenant crossbill.TenantID, connID crossbill.ConnectionID, still []Target, by store.AuditEntry) ([]MarkResult, error) {
	conn, err := ConnectionFor(ctx, env.Store, tenant, connID)
	if err != nil {
		return nil, err
	}
	marks, err := env.Store.RemediationMarks(ctx, tenant, conn.ID)
	if err != nil {
		return nil, err
	}
	now := env.now().UTC()
	out := []MarkResult{}
	for _, m := range marks {
		t := Target{Action: Action(m.Action), ARN: m.ARN, Account: m.AccountID, Region: m.Region}
		id, err := resourceID(t.ARN, t.Action.Kind())
		if err != nil {
			return out, err
		}
		it, c, f, err := env.inspectOne(ctx, conn, t, id, now)
		if err != nil {
			return out, err
		}
		reason := ""
		switch {
		case it.Status != ItemReady:
			reason = it.Reason
		case still != nil && !slices.ContainsFunc(still, func(s Target) bool { return s.ARN == m.ARN && s.Action == t.Action }):
			reason = "no recommendation names it any more"
		}
		if reason == "" {
			out = append(out, MarkResult{ARN: m.ARN, Action: t.Action, Status: MarkKept, Due: m.Due})
			continue
		}
		if f.Exists && f.Tags[MarkTag] != "" {
			if err := setMarkTag(ctx, c, t.Action.Kind(), id, f, ""); err != nil {
				return out, awsclient.Classify("unmark "+id, err)
			}
		}
		if err := env.Store.DeleteRemediationMark(ctx, tenant, m.ARN, reason, by); err != nil {
			return out, err
		}
		out = append(out, MarkResult{ARN: m.ARN, Action: t.Action, Status: MarkUnmarked, Reason: reason})
	}
	return out, nil
}

// inspectOne reads one target and decides it as a plan would.
func (e Env) inspectOne(ctx context.Context, conn store.Connection, t Target, id string, now time.Time) (Item, *clients, facts, error) {
	cfg, err := e.configFor(ctx, conn, t.Account, t.Region)
	if err != nil {
		return Item{}, nil, facts{}, err
	}
	c := newClients(cfg)
	inv, err := inspect(ctx, c, t.Action.Kind(), []string{id})
	if err != nil {
		return Item{}, nil, facts{}, awsclient.Classify("read "+id, err)
	}
	it := Item{Target: t, ID: id}
	f := inv.facts[id]
	decide(&it, f, now)
	return it, c, f, nil
}

// setMarkTag writes the mark tag (value) or, with "", removes it.
func setMarkTag(ctx context.Context, c *clients, kind, id string, f facts, value string) error {
	switch kind {
	case KindInstance, KindVolume, KindSnapshot, KindAddress:
		if value == "" {
			_, err := c.ec2.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{id}, Tags: []ec2types.Tag{{Key: aws.String(MarkTag)}}})
			return err
		}
		_, err := c.ec2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: []ec2types.Tag{{Key: aws.String(MarkTag), Value: aws.String(value)}}})
		return err
	case KindLoadBalancer:
		if value == "" {
			_, err := c.elb.RemoveTags(ctx, &elb.RemoveTagsInput{ResourceArns: []string{id}, TagKeys: []string{MarkTag}})
			return err
		}
		_, err := c.elb.AddTags(ctx, &elb.AddTagsInput{ResourceArns: []string{id}, Tags: []elbtypes.Tag{{Key: aws.String(MarkTag), Value: aws.String(value)}}})
		return err
	case KindDB:
		arn := f.Attr["arn"]
		if value == "" {
			_, err := c.rds.RemoveTagsFromResource(ctx, &rds.RemoveTagsFromResourceInput{ResourceName: aws.String(arn), TagKeys: []string{MarkTag}})
			return err
		}
		_, err := c.rds.AddTagsToResource(ctx, &rds.AddTagsToResourceInput{ResourceName: aws.String(arn), Tags: []rdstypes.Tag{{Key: aws.String(MarkTag), Value: aws.String(value)}}})
		return err
	}
	return crossbill.Errorf(crossbill.CodeInvalid, "remediation mark", "%s: crossbill does not mark %ss (S3's PutBucketTagging replaces the whole tag set); act on it with a plan instead", id, strings.TrimSpace(kind))
}
