package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/notify"
	"github.com/crossbill/crossbill/internal/remediation"
	"github.com/crossbill/crossbill/internal/store"
)

// remediateFlags are the flags the remediate commands share.
type remediateFlags struct {
	tenant, connID, as string
	hub                awsclient.HubOptions
}

// by is the person at the terminal for the audit log and the approval:
// --as EMAIL names them (as `approvals approve --as` does), else the OS user.
func (f *remediateFlags) by(ctx context.Context, st *store.Store) (store.AuditEntry, error) {
	by := store.AuditEntry{Actor: cliActor()}
	if f.as != "" {
		u, err := st.LocalUser(ctx, f.as)
		if err != nil {
			return by, err
		}
		by.PersonEmail, by.PersonSubject = u.Email, u.Subject
	}
	return by, nil
}

func (f *remediateFlags) add(cmd *cobra.Command, aws bool) {
	fl := cmd.Flags()
	fl.StringVar(&f.tenant, "tenant", "", "tenant (required)")
	fl.StringVar(&f.as, "as", "", "the person acting, by email (the audit log and the approval name them)")
	if err := cmd.MarkFlagRequired("tenant"); err != nil {
		panic(err) // a flag name typo: a bug caught by every test run
	}
	if aws {
		fl.StringVar(&f.hub.EndpointURL, "endpoint-url", "", "send AWS calls to this endpoint (an emulator such as moto_server)")
		fl.StringVar(&f.hub.Region, "region", "", "hub region (default from the AWS environment, else us-east-1)")
		fl.StringVar(&f.hub.Profile, "profile", "", "AWS shared-config profile of the hub identity")
	}
}

// open returns the store, the tenant and, with aws, the use cases' Env.
func (f *remediateFlags) open(ctx context.Context, app *App, aws bool) (remediation.Env, store.Tenant, error) {
	st, err := app.Store(ctx)
	if err != nil {
		return remediation.Env{}, store.Tenant{}, err
	}
	t, err := st.TenantByName(ctx, f.tenant)
	if err != nil {
		return remediation.Env{}, store.Tenant{}, err
	}
	// Notices go to the tenant's notification outbox; the server's notify
	// job (or `alerts deliveries --deliver`) sends them.
	env := remediation.Env{Store: st, TenantName: t.Name, Notify: func(ctx context.Context, n remediation.Notice) {
		if err := notify.Enqueue(ctx, st, notify.Message{Tenant: n.Plan.TenantID, Topic: n.Topic, Subject: n.Subject, Text: n.Text, Data: n.Plan, DedupKey: n.DedupKey}); err != nil {
			app.Logger.Warn("queueing a remediation notice", "plan", n.Plan.ID, "err", err)
		}
	}}
	if aws {
		if env.AWS, err = app.AWS(ctx, f.hub); err != nil {
			return remediation.Env{}, store.Tenant{}, err
		}
	}
	return env, t, nil
}

func newRemediateCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "remediate",
		Short: "Safe remediation: plan (a dry run), approval by another person, run, undo",
		Long: `Remediation changes resources in a connected account through the connection's
remediation module, which may only touch resources tagged crossbill-remediation=allowed.
` + "`remediate plan`" + ` reads each target, applies the guards (the tag, crossbill:protect,
termination and deletion protection, allowed states) and the blast-radius limits, asks
EC2 for a DryRun answer, and prints the plan; nothing changes. A plan with work opens
an approval that a person other than the requester decides (` + "`crossbill approvals\napprove ID`" + `); then ` + "`remediate run`" + ` (or the server's remediation job) runs it, step by
step, each step kept in a durable log and the audit log. Destructive actions snapshot
first; ` + "`remediate undo`" + ` reverses what AWS allows.`,
	}
	cmd.AddCommand(newRemediatePlanCmd(app), newRemediateShowCmd(app), newRemediateListCmd(app),
		newRemediateRunCmd(app, false), newRemediateRunCmd(app, true), newRemediateMarkCmd(app), newRemediateUnmarkCmd(app),
		newRemediateScheduleCmd(app))
	return cmd
}

// readTargets builds the targets of --targets FILE, or of --action with
// --arn (and --param, --bucket-region).
func readTargets(file, action string, arns, params []string, bucketRegion string) ([]remediation.Target, error) {
	const op = "remediate"
	if file != "" {
		if action != "" || len(arns) > 0 {
			return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "give either --targets FILE or --action with --arn, not both")
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "reading %s: %v", file, err)
		}
		return remediation.ParseTargets(data)
	}
	if action == "" || len(arns) == 0 {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "name what to do: --action ACTION --arn ARN [--arn ARN...] (actions: %s), or --targets FILE", actionList())
	}
	p, err := remediation.ParseParams(params)
	if err != nil {
		return nil, err
	}
	var out []remediation.Target
	for _, a := range arns {
		t := remediation.Target{Action: remediation.Action(action), ARN: strings.TrimSpace(a), Params: p}
		if t.Action.Kind() == remediation.KindBucket {
			t.Region = bucketRegion
		}
		out = append(out, t)
	}
	return out, nil
}

func actionList() string {
	var s []string
	for _, a := range remediation.Actions() {
		s = append(s, string(a))
	}
	return strings.Join(s, ", ")
}

func newRemediatePlanCmd(app *App) *cobra.Command {
	var (
		f                          remediateFlags
		file, action, bucketRegion string
		arns, params, approvers    []string
		recs                       []string
		limits                     remediation.Limits
		approvals                  int
	)
	cmd := &cobra.Command{
		Use:   "plan --tenant NAME (--recommendation ID... | --action ACTION --arn ARN... | --targets FILE)",
		Short: "Compute a plan and print its dry run; opens its approval; changes nothing in AWS",
		Long: `Plan reads each target through the connection's role and prints what would be done,
item by item: refused (outside the tag condition, with the tag to add), skipped
(protected, wrong state, already compliant) or ready, with EC2's DryRun answer, the steps,
how to undo or restore. A plan past --max-resources or --max-percent is blocked whole.
Exit code 2 for bad targets, 3 for an unknown tenant or connection.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			var targets []remediation.Target
			if len(recs) == 0 || file != "" || action != "" || len(arns) > 0 {
				var err error
				if targets, err = readTargets(file, action, arns, params, bucketRegion); err != nil {
					return err
				}
			}
			env, t, err := f.open(ctx, app, true)
			if err != nil {
				return err
			}
			by, err := f.by(ctx, env.Store)
			if err != nil {
				return err
			}
			p, err := remediation.NewPlan(ctx, env, remediation.Request{Tenant: t.ID, Connection: crossbill.ConnectionID(f.connID), Targets: targets, Recommendations: recs,
				Limits: &limits, Approvals: approvals, Approvers: approvers, By: by})
			if err != nil {
				return err
			}
			return printRemediationPlan(app, p, t.Name)
		},
	}
	f.add(cmd, true)
	fl := cmd.Flags()
	fl.StringVar(&f.connID, "connection", "", "connection to act through (default: the tenant's one connection with the remediation module)")
	fl.StringArrayVar(&recs, "recommendation", nil, "an optimization recommendation's ID to carry out (repeatable; the IDs crossbill optimize lists)")
	fl.StringVar(&action, "action", "", "what to do: "+actionList())
	fl.StringArrayVar(&arns, "arn", nil, "a resource's ARN (repeatable)")
	fl.StringArrayVar(&params, "param", nil, "KEY=VALUE for the action: instance_type (resize-instance), min_age_days (delete-snapshot), days (s3-abort-multipart)")
	fl.StringVar(&bucketRegion, "bucket-region", "", "region of the buckets (their ARNs have none)")
	fl.StringVar(&file, "targets", "", `JSON file of targets: [{"action","arn","account_id","region","params"}]`)
	fl.IntVar(&limits.MaxResources, "max-resources", remediation.DefaultLimits.MaxResources, "blast-radius limit: most resources one run changes")
	fl.Float64Var(&limits.MaxPercent, "max-percent", 0, "blast-radius limit: most percent of a type's resources in an account and region (0: none)")
	fl.IntVar(&approvals, "approvals", 1, "approvals needed from people other than the requester (2: two-person rule)")
	fl.StringArrayVar(&approvers, "approver", nil, "only these people (emails) may approve (repeatable)")
	return cmd
}

// printPlan prints a plan as its dry run: what each item would do.
func printRemediationPlan(app *App, p remediation.Plan, tenant string) error {
	return app.Print(p, func(w io.Writer) error {
		fmt.Fprintf(w, "plan %s through %s: %s", p.ID, p.ConnectionID, p.State)
		if p.Reason != "" {
			fmt.Fprintf(w, " (%s)", p.Reason)
		}
		fmt.Fprintf(w, "\n  limits: %d resources", p.Limits.MaxResources)
		if p.Limits.MaxPercent > 0 {
			fmt.Fprintf(w, ", %.0f%% of a type", p.Limits.MaxPercent)
		}
		fmt.Fprintln(w)
		for _, it := range p.Items {
			fmt.Fprintf(w, "  #%d %s %s [%s]", it.Index, it.Target.Action, it.ID, it.Status)
			if it.State != "" {
				fmt.Fprintf(w, " state %s", it.State)
			}
			fmt.Fprintln(w)
			if it.Reason != "" {
				fmt.Fprintf(w, "     why: %s\n", it.Reason)
			}
			if it.Fix != "" {
				fmt.Fprintf(w, "     fix: %s\n", it.Fix)
			}
			if it.DryRun != "" {
				fmt.Fprintf(w, "     dry run: %s\n", it.DryRun)
			}
			for i, s := range it.Steps {
				fmt.Fprintf(w, "     %d. %-40s %s%s\n", i+1, s.Op, s.Says, stepStatus(s))
			}
			for _, s := range it.Undo {
				fmt.Fprintf(w, "     undo: %s%s\n", s.Says, stepStatus(s))
			}
			if it.UndoNote != "" && len(it.Undo) == 0 {
				fmt.Fprintf(w, "     undo: %s\n", it.UndoNote)
			}
			if it.Restore != "" {
				fmt.Fprintf(w, "     restore: %s\n", it.Restore)
			}
		}
		if p.State == remediation.StateAwaiting {
			fmt.Fprintf(w, "next: a person other than the requester approves it (`crossbill approvals approve %s --tenant %s`), then `crossbill remediate run %s --tenant %s` (or the server's remediation job) runs it\n",
				p.ApprovalID, tenant, p.ID, tenant)
		}
		return nil
	})
}

func stepStatus(s remediation.Step) string {
	if s.Status == "" {
		return ""
	}
	out := " [" + s.Status + "]"
	for _, k := range []string{"snapshot_id", "error"} {
		if v := s.Output[k]; v != "" {
			out += " " + k + "=" + v
		}
	}
	return out
}

func newRemediateShowCmd(app *App) *cobra.Command {
	var f remediateFlags
	cmd := &cobra.Command{
		Use: "show PLAN --tenant NAME", Short: "Show a plan: items, dry run, steps with their outputs, what restores each change", Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			env, t, err := f.open(ctx, app, false)
			if err != nil {
				return err
			}
			p, err := remediation.Get(ctx, env.Store, t.ID, args[0])
			if err != nil {
				return err
			}
			return printRemediationPlan(app, p, t.Name)
		},
	}
	f.add(cmd, false)
	return cmd
}

func newRemediateListCmd(app *App) *cobra.Command {
	var (
		f     remediateFlags
		state string
	)
	cmd := &cobra.Command{
		Use: "list --tenant NAME [--state S]", Short: "List the tenant's remediation plans, newest first", Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			env, t, err := f.open(ctx, app, false)
			if err != nil {
				return err
			}
			ps, err := remediation.List(ctx, env.Store, t.ID, state)
			if err != nil {
				return err
			}
			return app.Print(struct {
				Plans []remediation.Plan `json:"plans"`
			}{ps}, func(w io.Writer) error {
				tw := newTable(w, 0)
				fmt.Fprintln(tw, "PLAN\tSTATE\tITEMS\tREQUESTED BY\tCREATED")
				for _, p := range ps {
					by := p.RequestedBy
					if p.RequestedEmail != "" {
						by = p.RequestedEmail
					}
					rowf(tw, "%s\t%s\t%d\t%s\t%s\n", p.ID, p.State, len(p.Items), by, p.CreatedAt.Format("2006-01-02 15:04"))
				}
				return tw.Flush()
			})
		},
	}
	f.add(cmd, false)
	cmd.Flags().StringVar(&state, "state", "", "only plans in this state")
	return cmd
}

// newRemediateRunCmd is `remediate run` (or, with undo, `remediate undo`).
func newRemediateRunCmd(app *App, undo bool) *cobra.Command {
	var f remediateFlags
	use, short := "run PLAN --tenant NAME", "Run an approved plan (or resume one a crash left running); exit 4 while its approval is pending, 5 once denied"
	if undo {
		use, short = "undo PLAN --tenant NAME", "Undo a done plan's items where AWS allows (start what was stopped, previous type, previous lifecycle rules)"
	}
	cmd := &cobra.Command{
		Use: use, Short: short, Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			env, t, err := f.open(ctx, app, true)
			if err != nil {
				return err
			}
			do := remediation.Run
			if undo {
				do = remediation.Undo
			}
			by, err := f.by(ctx, env.Store)
			if err != nil {
				return err
			}
			p, err := do(ctx, env, t.ID, args[0], by)
			if err != nil {
				return err
			}
			return printRemediationPlan(app, p, t.Name)
		},
	}
	f.add(cmd, true)
	return cmd
}

func newRemediateMarkCmd(app *App) *cobra.Command {
	var (
		f            remediateFlags
		action, file string
		arns, params []string
		days         int
	)
	cmd := &cobra.Command{
		Use:   "mark --tenant NAME (--action ACTION --arn ARN... | --targets FILE) [--days 7]",
		Short: "Mark resources for a later action: tag crossbill:marked-for-op=ACTION@DATE (guards apply)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			targets, err := readTargets(file, action, arns, params, "")
			if err != nil {
				return err
			}
			env, t, err := f.open(ctx, app, true)
			if err != nil {
				return err
			}
			by, err := f.by(ctx, env.Store)
			if err != nil {
				return err
			}
			res, err := remediation.Mark(ctx, env, remediation.MarkRequest{Tenant: t.ID, Connection: crossbill.ConnectionID(f.connID), Targets: targets, Days: days, By: by})
			if err != nil {
				return err
			}
			return printMarks(app, res)
		},
	}
	f.add(cmd, true)
	fl := cmd.Flags()
	fl.StringVar(&f.connID, "connection", "", "connection to act through (default: the tenant's one connection with the remediation module)")
	fl.StringVar(&action, "action", "", "the action marked for: "+actionList())
	fl.StringArrayVar(&arns, "arn", nil, "a resource's ARN (repeatable)")
	fl.StringArrayVar(&params, "param", nil, "KEY=VALUE for the action")
	fl.StringVar(&file, "targets", "", "JSON file of targets")
	fl.IntVar(&days, "days", 7, "the action is due this many days from today")
	return cmd
}

func newRemediateUnmarkCmd(app *App) *cobra.Command {
	var f remediateFlags
	cmd := &cobra.Command{
		Use:   "unmark --tenant NAME",
		Short: "Read every marked resource again and remove the marks of those now compliant, gone, untagged or protected",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			env, t, err := f.open(ctx, app, true)
			if err != nil {
				return err
			}
			by, err := f.by(ctx, env.Store)
			if err != nil {
				return err
			}
			res, err := remediation.Unmark(ctx, env, t.ID, crossbill.ConnectionID(f.connID), nil, by)
			if err != nil {
				return err
			}
			return printMarks(app, res)
		},
	}
	f.add(cmd, true)
	cmd.Flags().StringVar(&f.connID, "connection", "", "connection (default: the tenant's one connection with the remediation module)")
	return cmd
}

func printMarks(app *App, res []remediation.MarkResult) error {
	return app.Print(res, func(w io.Writer) error {
		tw := newTable(w, 0)
		fmt.Fprintln(tw, "ARN\tACTION\tSTATUS\tDUE\tWHY")
		for _, r := range res {
			rowf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ARN, r.Action, r.Status, orDash(r.Due), orDash(strings.TrimSpace(r.Reason+" "+r.Fix)))
		}
		return tw.Flush()
	})
}

func newRemediateScheduleCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Off-hours schedules: stop and start instances by tag and calendar (create, list, delete)",
	}
	var (
		f         remediateFlags
		s         remediation.Schedule
		tag       string
		approvals int
		approvers []string
	)
	create := &cobra.Command{
		Use:   "create NAME --tenant T --tag KEY=VALUE --region R --timezone ZONE --days mon,tue,wed,thu,fri --start 08:00 --stop 19:00 [--skip YYYY-MM-DD]",
		Short: "Create a schedule; it acts once a person other than you approves it (`crossbill approvals approve ID`)",
		Long: `The schedule stops the instances tagged KEY=VALUE (and crossbill-remediation=allowed)
outside START-STOP on DAYS in ZONE, and starts them again at START, through ordinary plans
that keep every guard; on skip dates it does nothing. It acts when the wanted state changes,
not every minute, so an instance someone starts after hours stays up until the next change.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s.Name = args[0]
			k, v, ok := strings.Cut(tag, "=")
			if !ok || k == "" {
				return crossbill.Errorf(crossbill.CodeInvalid, "remediate schedule", "--tag %q: give KEY=VALUE", tag)
			}
			s.TagKey, s.TagValue = k, v
			env, t, err := f.open(ctx, app, false)
			if err != nil {
				return err
			}
			by, err := f.by(ctx, env.Store)
			if err != nil {
				return err
			}
			view, err := remediation.CreateSchedule(ctx, env, remediation.ScheduleRequest{Tenant: t.ID, Connection: crossbill.ConnectionID(f.connID), Schedule: s,
				Approvals: approvals, Approvers: approvers, By: by})
			if err != nil {
				return err
			}
			return printSchedules(app, []remediation.ScheduleView{view})
		},
	}
	f.add(create, false)
	fl := create.Flags()
	fl.StringVar(&f.connID, "connection", "", "connection (default: the tenant's one connection with the remediation module)")
	fl.StringVar(&tag, "tag", "", "KEY=VALUE of the instances the schedule runs")
	fl.StringSliceVar(&s.Regions, "region", nil, "regions of the instances (repeatable or comma-separated)")
	fl.StringVar((*string)(&s.Account), "account", "", "account of the instances (default: the connection's)")
	fl.StringVar(&s.Timezone, "timezone", "UTC", "IANA time zone of the times, e.g. Europe/Paris")
	fl.StringSliceVar(&s.Days, "days", []string{"mon", "tue", "wed", "thu", "fri"}, "days the instances run")
	fl.StringVar(&s.Start, "start", "08:00", "time they start, HH:MM")
	fl.StringVar(&s.Stop, "stop", "19:00", "time they stop, HH:MM")
	fl.StringSliceVar(&s.SkipDates, "skip", nil, "dates the schedule does nothing, YYYY-MM-DD (holidays)")
	fl.IntVar(&approvals, "approvals", 1, "approvals needed from people other than you (2: two-person rule)")
	fl.StringArrayVar(&approvers, "approver", nil, "only these people (emails) may approve")

	var lf remediateFlags
	list := &cobra.Command{
		Use: "list --tenant T", Short: "List the tenant's schedules with their approval state", Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			env, t, err := lf.open(ctx, app, false)
			if err != nil {
				return err
			}
			vs, err := remediation.Schedules(ctx, env.Store, t.ID)
			if err != nil {
				return err
			}
			return printSchedules(app, vs)
		},
	}
	lf.add(list, false)
	var df remediateFlags
	del := &cobra.Command{
		Use: "delete NAME --tenant T", Short: "Delete a schedule: it acts no more", Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			env, t, err := df.open(ctx, app, false)
			if err != nil {
				return err
			}
			by, err := df.by(ctx, env.Store)
			if err != nil {
				return err
			}
			if err := remediation.DeleteSchedule(ctx, env.Store, t.ID, args[0], by); err != nil {
				return err
			}
			return app.Print(map[string]string{"deleted": args[0]}, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "deleted schedule %s\n", args[0])
				return err
			})
		},
	}
	df.add(del, false)
	cmd.AddCommand(create, list, del)
	return cmd
}

func printSchedules(app *App, vs []remediation.ScheduleView) error {
	return app.Print(vs, func(w io.Writer) error {
		tw := newTable(w, 0)
		fmt.Fprintln(tw, "NAME\tTAG\tREGIONS\tRUNS\tAPPROVAL\tLAST")
		for _, v := range vs {
			s := v.Schedule
			rowf(tw, "%s\t%s=%s\t%s\t%s %s-%s %s\t%s %s\t%s\n", s.Name, s.TagKey, s.TagValue, strings.Join(s.Regions, ","), strings.Join(s.Days, ","), s.Start, s.Stop, s.Timezone,
				v.ApprovalID, v.ApprovalState, orDash(v.LastDesired))
		}
		return tw.Flush()
	})
}
