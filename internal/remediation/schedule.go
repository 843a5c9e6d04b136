package remediation

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // schedules name IANA zones; the host may have no zoneinfo

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/google/uuid"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/approval"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/store"
)

// Schedule is an off-hours schedule: instances tagged TagKey=TagValue (and
// crossbill-remediation=allowed) run from Start to Stop on Days, in
// Timezone, and are stopped otherwise; on SkipDates (holidays, release
// nights) the schedule does nothing. It acts at each change of the wanted
// state only, so a person who starts an instance after hours is not
// overruled until the next change.
type Schedule struct {
	Name      string              `json:"name"`
	TagKey    string              `json:"tag_key"`
	TagValue  string              `json:"tag_value"`
	Account   crossbill.AccountID `json:"account_id,omitempty"` // default: the connection's
	Regions   []string            `json:"regions"`
	Timezone  string              `json:"timezone"`
	Days      []string            `json:"days"`  // mon..sun: the days instances run
	Start     string              `json:"start"` // HH:MM
	Stop      string              `json:"stop"`  // HH:MM, after Start
	SkipDates []string            `json:"skip_dates,omitempty"`
	Limits    *Limits             `json:"limits,omitempty"`
}

var weekdays = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// Check validates s, saying what to fix.
func (s Schedule) Check() error {
	const op = "remediation schedule"
	bad := func(format string, args ...any) error {
		return crossbill.Errorf(crossbill.CodeInvalid, op, format, args...)
	}
	if s.Name == "" || len(s.Name) > 100 || s.TagKey == "" || len(s.TagKey) > 128 || len(s.TagValue) > 256 {
		return bad("a schedule needs a name (at most 100 characters) and the tag (key=value) of the instances it runs")
	}
	for f, v := range map[string]string{"name": s.Name, "tag": s.TagKey + s.TagValue} {
		if err := crossbill.CheckText(op, f, v); err != nil {
			return err
		}
	}
	if _, err := time.LoadLocation(s.Timezone); err != nil || s.Timezone == "" {
		return bad("timezone %q: give an IANA zone such as Europe/Paris", s.Timezone)
	}
	if len(s.Regions) == 0 || len(s.Regions) > 30 {
		return bad("name the regions of the instances (1 to 30)")
	}
	for _, r := range s.Regions {
		if r == "" || len(r) > 30 || strings.ContainsAny(r, " /:") {
			return bad("region %q is not a region name", r)
		}
	}
	if len(s.Days) == 0 {
		return bad("name the days instances run: mon,tue,wed,thu,fri")
	}
	for _, d := range s.Days {
		if !slices.Contains(weekdays, d) {
			return bad("day %q: use mon, tue, wed, thu, fri, sat or sun", d)
		}
	}
	start, err1 := minutes(s.Start)
	stop, err2 := minutes(s.Stop)
	if err1 != nil || err2 != nil || stop <= start {
		return bad("start %q and stop %q: give HH:MM times, stop after start", s.Start, s.Stop)
	}
	for _, d := range s.SkipDates {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return bad("skip date %q: use YYYY-MM-DD", d)
		}
	}
	if len(s.SkipDates) > 366 {
		return bad("at most 366 skip dates")
	}
	return nil
}

func minutes(hhmm string) (int, error) {
	t, err := time.Parse("15:04", hhmm)
	if err != nil {
		return 0, err
	}
	return t.Hour()*60 + t.Minute(), nil
}

// Desired is the state s wants at now: "running", "stopped", or "" on a
// skip date (no action). s must have passed Check.
func (s Schedule) Desired(now time.Time) string {
	loc, err := time.LoadLocation(s.Timezone)
	if err != nil {
		return ""
	}
	t := now.In(loc)
	if slices.Contains(s.SkipDates, t.Format(time.DateOnly)) {
		return ""
	}
	if !slices.Contains(s.Days, weekdays[t.Weekday()]) {
		return "stopped"
	}
	start, _ := minutes(s.Start)
	stop, _ := minutes(s.Stop)
	if m := t.Hour()*60 + t.Minute(); m >= start && m < stop {
		return "running"
	}
	return "stopped"
}

// ScheduleRequest creates a schedule; it runs once a person other than
// the requester approves it (one approval for the schedule, then each
// change it makes is a plan approved by that approval).
type ScheduleRequest struct {
	Tenant     crossbill.TenantID
	Connection crossbill.ConnectionID
	Schedule   Schedule
	Approvals  int
	Approvers  []string
	By         store.AuditEntry
}

// ScheduleView is a stored schedule with its approval's state.
type ScheduleView struct {
	ID            string                 `json:"id"`
	ConnectionID  crossbill.ConnectionID `json:"connection_id"`
	Schedule      Schedule               `json:"schedule"`
	ApprovalID    string                 `json:"approval_id"`
	ApprovalState string                 `json:"approval_state"`
	LastDesired   string                 `json:"last_desired,omitempty"`
	CreatedBy     string                 `json:"created_by"`
	CreatedAt     time.Time              `json:"created_at"`
}

// CreateSchedule validates and stores a schedule and opens its approval.
func CreateSchedule(ctx context.Context, env Env, req ScheduleRequest) (ScheduleView, error) {
	if err := req.Schedule.Check(); err != nil {
		return ScheduleView{}, err
	}
	conn, err := ConnectionFor(ctx, env.Store, req.Tenant, req.Connection)
	if err != nil {
		return ScheduleView{}, err
	}
	if req.Schedule.Account == "" {
		req.Schedule.Account = conn.AccountID
	}
	id := "rs_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:20]
	s := req.Schedule
	a, err := approval.Open(ctx, env.Store, approval.Request{Tenant: req.Tenant, Kind: approval.KindRemediation, Subject: "schedule:" + id,
		Summary: fmt.Sprintf("off-hours schedule %q: instances tagged %s=%s in %s run %s %s-%s (%s), stopped otherwise", s.Name, s.TagKey, s.TagValue,
			strings.Join(s.Regions, ","), strings.Join(s.Days, ","), s.Start, s.Stop, s.Timezone),
		Detail: s, Required: req.Approvals, Approvers: req.Approvers}, req.By)
	if err != nil {
		return ScheduleView{}, err
	}
	spec, _ := json.Marshal(s)
	sc, err := env.Store.CreateRemediationSchedule(ctx, store.RemediationSchedule{ID: id, TenantID: req.Tenant, ConnectionID: conn.ID, Name: s.Name, Spec: spec,
		ApprovalID: a.ID, CreatedBy: req.By.Actor, Person: req.By.PersonEmail}, req.By)
	if err != nil {
		return ScheduleView{}, err
	}
	return ScheduleView{ID: sc.ID, ConnectionID: sc.ConnectionID, Schedule: s, ApprovalID: a.ID, ApprovalState: a.State, CreatedBy: sc.CreatedBy, CreatedAt: sc.CreatedAt}, nil
}

// Schedules lists a tenant's schedules with their approval states.
func Schedules(ctx context.Context, st *store.Store, tenant crossbill.TenantID) ([]ScheduleView, error) {
	scs, err := st.RemediationSchedules(ctx, tenant, "")
	if err != nil {
		return nil, err
	}
	out := []ScheduleView{}
	for _, sc := range scs {
		v, err := scheduleView(ctx, st, sc)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func scheduleView(ctx context.Context, st *store.Store, sc store.RemediationSchedule) (ScheduleView, error) {
	v := ScheduleView{ID: sc.ID, ConnectionID: sc.ConnectionID, ApprovalID: sc.ApprovalID, LastDesired: sc.LastDesired, CreatedBy: sc.CreatedBy, CreatedAt: sc.CreatedAt}
	if err := json.Unmarshal(sc.Spec, &v.Schedule); err != nil {
		return v, crossbill.Errorf(crossbill.CodeInternal, "remediation schedule", "schedule %s: %w", sc.ID, err)
	}
	a, err := approval.Get(ctx, st, sc.TenantID, sc.ApprovalID)
	if err != nil {
		return v, err
	}
	v.ApprovalState = a.State
	return v, nil
}

// DeleteSchedule deletes a schedule by name; it acts no more.
func DeleteSchedule(ctx context.Context, st *store.Store, tenant crossbill.TenantID, name string, by store.AuditEntry) error {
	return st.DeleteRemediationSchedule(ctx, tenant, name, by)
}

// RunSchedules evaluates the connection's approved schedules at now: for
// each whose wanted state changed, a plan stops (or starts) the tagged
// instances in the other state, approved by the schedule's approval, and
// runs at once. The plans keep every guard (the remediation tag,
// crossbill:protect, limits) and the step log.
func RunSchedules(ctx context.Context, env Env, tenant crossbill.TenantID, connID crossbill.ConnectionID, now time.Time) ([]Plan, error) {
	conn, err := ConnectionFor(ctx, env.Store, tenant, connID)
	if err != nil {
		return nil, err
	}
	scs, err := env.Store.RemediationSchedules(ctx, tenant, conn.ID)
	if err != nil {
		return nil, err
	}
	var out []Plan
	for _, sc := range scs {
		v, err := scheduleView(ctx, env.Store, sc)
		if err != nil {
			return out, err
		}
		want := v.Schedule.Desired(now)
		if v.ApprovalState != approval.Approved || want == "" || want == sc.LastDesired {
			continue
		}
		if won, err := env.Store.SetRemediationScheduleDesired(ctx, tenant, sc.ID, sc.LastDesired, want); err != nil || !won {
			if err != nil {
				return out, err
			}
			continue // another replica's job acted on this change
		}
		action, from := StopInstance, "running"
		if want == "running" {
			action, from = StartInstance, "stopped"
		}
		var targets []Target
		for _, region := range v.Schedule.Regions {
			cfg, err := env.configFor(ctx, conn, v.Schedule.Account, region)
			if err != nil {
				return out, err
			}
			p := ec2.NewDescribeInstancesPaginator(ec2.NewFromConfig(cfg), &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
				{Name: aws.String("tag:" + v.Schedule.TagKey), Values: []string{v.Schedule.TagValue}},
				{Name: aws.String("instance-state-name"), Values: []string{from}}}})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					return out, awsclient.Classify("schedule "+v.Schedule.Name+": list instances in "+region, err)
				}
				for _, r := range page.Reservations {
					for _, i := range r.Instances {
						targets = append(targets, Target{Action: action, Account: v.Schedule.Account, Region: region,
							ARN: fmt.Sprintf("arn:aws:ec2:%s:%s:instance/%s", region, v.Schedule.Account, aws.ToString(i.InstanceId))})
					}
				}
			}
		}
		if len(targets) == 0 {
			continue
		}
		by := store.AuditEntry{Actor: "schedule:" + sc.ID}
		p, err := NewPlan(ctx, env, Request{Tenant: tenant, Connection: conn.ID, Targets: targets, Limits: v.Schedule.Limits, By: by,
			AutoApproved: fmt.Sprintf("off-hours schedule %q (%s), approved in %s", v.Schedule.Name, sc.ID, sc.ApprovalID)})
		if err != nil {
			return out, err
		}
		if p.State == StateAwaiting {
			if p, err = Run(ctx, env, tenant, p.ID, by); err != nil && p.State != StateFailed {
				return out, err
			}
		}
		out = append(out, p)
	}
	return out, nil
}
