package server

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/alerts"
	"github.com/crossbill/crossbill/internal/costs/athena"
	"github.com/crossbill/crossbill/internal/notify"
	"github.com/crossbill/crossbill/internal/scheduler"
	"github.com/crossbill/crossbill/internal/store"
)

// Alerts: notification channels, the delivery log, alert rules and their
// evaluation. Each handler parses, calls internal/notify or
// internal/alerts, renders; the jobs deliver the outbox and evaluate the
// rules daily and after each ingest.

// Job kinds of the alerts feature.
const (
	JobNotify = notify.JobKind
	JobAlerts = "alerts"
)

// alertsInterval: rules are evaluated daily, and after each ingest.
const alertsInterval = 24 * time.Hour

func alertRoutes(s *Server) []route {
	base := tenantPath + "/alerts"
	return []route{
		{method: http.MethodGet, path: base + "/channels", role: admin, tenantParam: "tenant", handler: s.listChannels, tag: "alerts", summary: "The tenant's notification channels (no secrets)", resp: "ChannelList"},
		{method: http.MethodPost, path: base + "/channels", role: admin, tenantParam: "tenant", handler: s.addChannel, tag: "alerts", summary: "Add a channel: webhook (HMAC-SHA256 signed; the signing secret is answered this once), Slack-compatible incoming webhook, or email over SMTP", body: "ChannelCreate", resp: "ChannelAdded", status: http.StatusCreated},
		{method: http.MethodDelete, path: base + "/channels/{channel}", role: admin, tenantParam: "tenant", handler: s.removeChannel, tag: "alerts", summary: "Remove a channel (its pending deliveries are dropped; the log keeps them)", resp: "Channel"},
		{method: http.MethodPost, path: base + "/channels/{channel}/test", role: admin, tenantParam: "tenant", handler: s.testChannel, tag: "alerts", summary: "Send a test message to the channel now, once; 503 with the receiver's answer when it fails", resp: "Delivery"},
		{method: http.MethodPost, path: base + "/channels/{channel}/snooze", role: admin, tenantParam: "tenant", handler: s.snoozeChannel, tag: "alerts", summary: "Snooze a channel for a while (0s ends it): messages meanwhile are logged as snoozed, not sent", body: "ChannelSnooze", resp: "Channel"},
		{method: http.MethodGet, path: base + "/deliveries", role: viewer, tenantParam: "tenant", handler: s.listDeliveries, tag: "alerts", summary: "The delivery log, newest first: each message per channel with its status, attempts and last error",
			query: []param{q("channel", "only this channel (name or ID)"), q("limit", "at most this many (default 100, up to 1000)")}, resp: "DeliveryList"},
		{method: http.MethodGet, path: base + "/rules", role: viewer, tenantParam: "tenant", handler: s.listRules, tag: "alerts", summary: "The tenant's alert rules with their last evaluation", resp: "AlertRuleList"},
		{method: http.MethodPost, path: base + "/rules", role: admin, tenantParam: "tenant", handler: s.addRule, tag: "alerts", summary: "Add an alert rule (budget, anomaly, commitment-expiry, commitment-utilization, savings, access-finding, event); evaluated daily, after each ingest and within seconds of each real-time event", body: "AlertRuleCreate", resp: "AlertRule", status: http.StatusCreated},
		{method: http.MethodDelete, path: base + "/rules/{alert_rule}", role: admin, tenantParam: "tenant", handler: s.removeRule, tag: "alerts", summary: "Remove an alert rule", resp: "AlertRule"},
		{method: http.MethodPost, path: base + "/evaluate", role: admin, tenantParam: "tenant", handler: s.evaluateAlerts, tag: "alerts", summary: "Evaluate the rules now (or one); new firings are queued to the channels unless dry_run",
			query: []param{q("rule", "only this rule (name or ID)"), q("dry_run", "true: report what would fire, send nothing")}, resp: "AlertReport"},
	}
}

func alertSchemas() obj {
	strs := obj{"type": "array", "items": obj{"type": "string"}}
	channel := object([]string{"id", "name", "kind", "target", "topics"}, obj{"id": str(""), "tenant_id": str(""), "name": str(""),
		"kind": obj{"type": "string", "enum": []string{notify.KindWebhook, notify.KindSlack, notify.KindEmail}}, "target": str("where it goes, without secrets"),
		"topics": strs, "snoozed_until": timestamp(""), "created_by": str(""), "created_at": timestamp("")})
	delivery := object([]string{"id", "channel", "topic", "status"}, obj{"id": str("also the X-Crossbill-Delivery header"), "tenant_id": str(""), "channel_id": str(""), "channel": str(""),
		"topic": str(""), "subject": str(""), "text": str(""), "data": obj{"description": "JSON for machines"}, "dedup_key": str(""),
		"status":   obj{"type": "string", "enum": []string{store.OutboxPending, store.OutboxDelivered, store.OutboxFailed, store.OutboxSnoozed, store.OutboxDropped}},
		"attempts": integer(""), "next_attempt_at": timestamp(""), "last_error": str(""), "created_at": timestamp(""), "delivered_at": timestamp("")})
	params := object(nil, obj{"amount": num("budget: monthly USD"), "scope": str("budget: a cost filter, account=ID, service=NAME or tag:KEY=VALUE"), "percent": num("budget: share of the amount that fires (default 100)"),
		"forecast": boolean("budget: the month's forecast fires too"), "min_amount": num("anomaly: smallest change (default $10); savings: smallest monthly saving (default $50)"),
		"days":      integer("commitment-expiry: within N days (default 30); anomaly, commitment-utilization: look back N days (default 7)"),
		"below_pct": num("commitment-utilization: fire below this percent (default 80)"), "findings": strs,
		"events": obj{"type": "array", "items": obj{"type": "string"}, "description": "event: CloudTrail event names (CreateUser), sources (aws.iam) or * (default)"}})
	rule := object([]string{"id", "name", "kind", "params"}, obj{"id": str(""), "tenant_id": str(""), "name": str(""), "kind": obj{"type": "string", "enum": alerts.Kinds()},
		"params": params, "created_by": str(""), "created_at": timestamp(""), "last_run_at": timestamp(""), "last_fired": integer("firings of the last evaluation"), "last_error": str("")})
	firing := object([]string{"key", "subject"}, obj{"key": str("the dedup key"), "subject": str(""), "text": str(""), "data": obj{"description": "what fired"},
		"deduplicated": boolean("sent by an earlier evaluation"), "queued": integer("deliveries queued")})
	return obj{
		"Channel":     channel,
		"ChannelList": arrayOf("Channel"),
		"ChannelCreate": object([]string{"name", "kind"}, obj{"name": str(""), "kind": str("webhook, slack or email"), "topics": strs, "url": str("webhook and slack: https:// (http:// only to localhost)"),
			"smtp_addr": str("email: host:port"), "from": str(""), "to": strs, "username": str(""), "password": str("sealed in the store, never shown again")}),
		"ChannelAdded":    object([]string{"channel"}, obj{"channel": ref("Channel"), "secret": str("webhook signing secret, shown this once")}),
		"ChannelSnooze":   object([]string{"for"}, obj{"for": str("a duration such as 24h; 0s ends the snooze")}),
		"Delivery":        delivery,
		"DeliveryList":    arrayOf("Delivery"),
		"AlertRule":       rule,
		"AlertRuleList":   arrayOf("AlertRule"),
		"AlertRuleParams": params,
		"AlertRuleCreate": object([]string{"name", "kind"}, obj{"name": str(""), "kind": obj{"type": "string", "enum": alerts.Kinds()}, "params": ref("AlertRuleParams")}),
		"AlertFiring":     firing,
		"AlertRuleReport": object([]string{"rule", "kind", "firings"}, obj{"rule": str(""), "kind": str(""), "firings": arrayOf("AlertFiring"), "error": str("why the rule could not be evaluated")}),
		"AlertReport":     object([]string{"dry_run", "rules", "fired"}, obj{"dry_run": boolean(""), "rules": arrayOf("AlertRuleReport"), "fired": integer("firings not sent before")}),
	}
}

func (s *Server) listChannels(w http.ResponseWriter, r *http.Request) error {
	cs, err := notify.Channels(r.Context(), s.store, tenantOf(r).ID)
	if err != nil {
		return err
	}
	return ok(w, r, cs)
}

func (s *Server) addChannel(w http.ResponseWriter, r *http.Request) error {
	var in notify.ChannelRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	in.Tenant, in.By = tenantOf(r).ID, authOf(r).audit()
	a, err := notify.AddChannel(r.Context(), s.store, in)
	if err != nil {
		return err
	}
	return created(w, r, a)
}

func (s *Server) removeChannel(w http.ResponseWriter, r *http.Request) error {
	c, err := notify.RemoveChannel(r.Context(), s.store, tenantOf(r).ID, r.PathValue("channel"), authOf(r).audit())
	if err != nil {
		return err
	}
	return ok(w, r, c)
}

func (s *Server) testChannel(w http.ResponseWriter, r *http.Request) error {
	it, err := notify.TestChannel(r.Context(), s.store, tenantOf(r).ID, r.PathValue("channel"), s.cfg.Notify)
	if err != nil {
		return err
	}
	return ok(w, r, it)
}

type channelSnooze struct {
	For string `json:"for"`
}

func (s *Server) snoozeChannel(w http.ResponseWriter, r *http.Request) error {
	var in channelSnooze
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	d, err := time.ParseDuration(in.For)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInvalid, "channel snooze", "for %q: give a duration such as 24h (0s ends the snooze)", in.For)
	}
	c, err := notify.Snooze(r.Context(), s.store, tenantOf(r).ID, r.PathValue("channel"), d, authOf(r).audit())
	if err != nil {
		return err
	}
	return ok(w, r, c)
}

func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) error {
	limit := 0
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return crossbill.Errorf(crossbill.CodeInvalid, "deliveries", "limit %q: give 1 to 1000", v)
		}
		limit = n
	}
	log, err := notify.Log(r.Context(), s.store, tenantOf(r).ID, r.URL.Query().Get("channel"), limit)
	if err != nil {
		return err
	}
	return ok(w, r, log)
}

func (s *Server) listRules(w http.ResponseWriter, r *http.Request) error {
	rs, err := alerts.Rules(r.Context(), s.store, tenantOf(r).ID)
	if err != nil {
		return err
	}
	return ok(w, r, rs)
}

func (s *Server) addRule(w http.ResponseWriter, r *http.Request) error {
	var in alerts.RuleRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	in.Tenant, in.By = tenantOf(r).ID, authOf(r).audit()
	rule, err := alerts.AddRule(r.Context(), s.store, in)
	if err != nil {
		return err
	}
	if err := s.scheduleAlerts(r.Context(), in.Tenant, s.now()); err != nil {
		return err
	}
	return created(w, r, rule)
}

func (s *Server) removeRule(w http.ResponseWriter, r *http.Request) error {
	rule, err := alerts.RemoveRule(r.Context(), s.store, tenantOf(r).ID, r.PathValue("alert_rule"), authOf(r).audit())
	if err != nil {
		return err
	}
	return ok(w, r, rule)
}

func (s *Server) evaluateAlerts(w http.ResponseWriter, r *http.Request) error {
	dry := false
	if v := r.URL.Query().Get("dry_run"); v != "" {
		var err error
		if dry, err = strconv.ParseBool(v); err != nil {
			return crossbill.Errorf(crossbill.CodeInvalid, "alerts evaluate", "dry_run=%q: use true or false", v)
		}
	}
	rep, err := s.evaluateTenant(r.Context(), tenantOf(r).ID, r.URL.Query().Get("rule"), dry)
	if err != nil {
		return err
	}
	return ok(w, r, rep)
}

// evaluateTenant runs alerts.Evaluate with the tenant's cost store, when
// one is open (rules needing it report so otherwise).
func (s *Server) evaluateTenant(ctx context.Context, tenant crossbill.TenantID, only string, dry bool) (alerts.Report, error) {
	src := alerts.Sources{Savings: s.cfg.Savings}
	switch {
	case s.cfg.ClusterCosts != nil:
		cs, release, err := s.cfg.ClusterCosts.Tenant(ctx, tenant)
		if err != nil {
			return alerts.Report{}, err
		}
		defer release()
		src.Costs = cs
	case s.costsDB != nil:
		src.Costs = s.costsDB
	}
	eng, err := s.engines().Athena(ctx, tenant)
	if err != nil {
		return alerts.Report{}, err
	}
	src.Engine, src.Commitments = eng, athena.CommitmentsOf(eng)
	return alerts.Evaluate(ctx, s.store, tenant, src, only, dry)
}

// scheduleAlerts keeps the tenant's daily alerts job, due at at
// (idempotent: a queued one is moved earlier at most).
func (s *Server) scheduleAlerts(ctx context.Context, tenant crossbill.TenantID, at time.Time) error {
	if s.sched == nil {
		return nil
	}
	_, err := s.sched.Enqueue(ctx, store.JobSpec{TenantID: tenant, Kind: JobAlerts, RunAt: at, Interval: alertsInterval})
	return err
}

// runAlerts evaluates the tenant's rules; new firings go to the outbox.
func (s *Server) runAlerts(ctx context.Context, j store.Job, progress scheduler.Progress) error {
	start := s.store.Now()
	rep, err := s.evaluateTenant(ctx, j.TenantID, "", false)
	if err != nil {
		return err
	}
	progress(1, strconv.Itoa(len(rep.Rules))+" rule(s) evaluated, "+strconv.Itoa(rep.Fired)+" new firing(s)")
	return s.againIfEventsArrived(ctx, j.TenantID, start)
}

// againIfEventsArrived asks for another run at once when real-time events
// came in while this one ran: their endpoint's request to run found this
// job running (the store keeps one live job per kind and tenant), so
// without it they would wait for the next scheduled run.
func (s *Server) againIfEventsArrived(ctx context.Context, tenant crossbill.TenantID, since time.Time) error {
	evs, err := s.store.CloudEvents(ctx, tenant, since, 1)
	if err != nil {
		return err
	}
	if len(evs) > 0 {
		return &scheduler.DeferError{Until: s.store.Now(), Err: crossbill.Errorf(crossbill.CodeUnavailable, "alerts", "events arrived during the run: running again")}
	}
	return nil
}

// runNotify delivers the tenant's due outbox rows and comes back when the
// next retry is due.
func (s *Server) runNotify(ctx context.Context, j store.Job, progress scheduler.Progress) error {
	p, err := notify.Deliver(ctx, s.store, j.TenantID, s.cfg.Notify)
	if err != nil {
		return err
	}
	if p.Any {
		return &scheduler.DeferError{Until: p.NextAt, Err: crossbill.Errorf(crossbill.CodeUnavailable, "notify", "deliveries wait for their retry")}
	}
	progress(1, "outbox delivered")
	return nil
}

// ensureAlertSchedules queues, at start, each tenant's daily alerts job
// and the notify job of tenants whose outbox holds pending deliveries.
func (s *Server) ensureAlertSchedules(ctx context.Context) error {
	ts, err := s.store.TenantsWithAlertRules(ctx)
	if err != nil {
		return err
	}
	for _, t := range ts {
		if err := s.scheduleAlerts(ctx, t, s.now().Add(time.Minute)); err != nil {
			return err
		}
	}
	ts, err = s.store.TenantsWithAutomation(ctx)
	if err != nil {
		return err
	}
	for _, t := range ts {
		if err := s.scheduleAutomation(ctx, t, s.now().Add(time.Minute)); err != nil {
			return err
		}
	}
	ts, err = s.store.TenantsWithPendingNotifications(ctx)
	if err != nil {
		return err
	}
	for _, t := range ts {
		if _, err := s.sched.Enqueue(ctx, store.JobSpec{TenantID: t, Kind: JobNotify}); err != nil {
			return err
		}
	}
	return nil
}
