// Package verify checks a connection the way a careful security reviewer
// would: crossbill can assume the customer's role with the connection's
// external ID, the role refuses anyone without it (confused deputy), the
// session lands in the right account, and each enabled module's policy is in
// place. Every failure carries its class and the fix to apply.
package verify

import (
	"context"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsarn"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/store"
)

// Findings of the verifier that are not AWS errors.
const (
	// ClassExternalIDNotEnforced: the role can be assumed without the
	// connection's external ID, so anyone who can make crossbill assume a
	// role ARN could reach this account (the confused deputy problem).
	ClassExternalIDNotEnforced awsclient.Class = "external-id-not-enforced"
	// ClassAccountMismatch: the session is not in the role's account.
	ClassAccountMismatch awsclient.Class = "account-mismatch"
)

// Classes are every class a verification check or a member check can
// carry: AWS's failure classes and the verifier's own findings.
func Classes() []awsclient.Class {
	return append(awsclient.Classes(), ClassExternalIDNotEnforced, ClassAccountMismatch)
}

// Check names.
const (
	CheckAssumeRole         = store.CheckAssumeRole
	CheckCallerIdentity     = store.CheckCallerIdentity
	CheckExternalIDRequired = "external-id-required"
	CheckExternalIDWrong    = "external-id-wrong"
)

// Options tunes a verification.
type Options struct {
	// AWS is the process's one factory of customer-role credentials, built
	// on the hub's configuration (awsclient.HubConfig; tests attach a
	// Recorder and stubs to it). Required.
	AWS *awsclient.Factory
	// Tenant is the tenant's name, shown in the role session name.
	Tenant string
	// IncludePaid runs probes that cost the customer money (Cost Explorer).
	IncludePaid bool
	// Athena: the tenant's cost queries run in Athena through this
	// connection, so the CUR stack's Athena option is probed too
	// (manifest.AthenaProbes). Connection sets it from the store.
	Athena bool
	// Region for regional probes; default the hub's region.
	Region string
	// PropagationWait bounds the retries of the first AssumeRole while a
	// newly created role propagates through IAM (AWS answers AccessDenied
	// for a few seconds). 0 means DefaultPropagationWait; negative: no retry.
	PropagationWait time.Duration
	// TransientWait bounds the retries of each call that failed for a
	// passing fault (throttled, unavailable, unreachable, timed out) once
	// the SDK's own attempts are spent. 0 means DefaultTransientWait;
	// negative: no retry.
	TransientWait time.Duration
	// Progress receives one line per step; nil discards.
	Progress func(format string, args ...any)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// ExplainDeny, when set, names the organization policy and statement
	// that deny an IAM action in an account ("" when it cannot): a probe
	// refused by an SCP or RCP then says which. Connection sets it from
	// the tenant's latest access sync (the org module's SCPs and RCPs).
	ExplainDeny func(account crossbill.AccountID, action string) string
}

// AthenaAdvice leads the advice of a failed probe of the CUR stack's
// Athena option.
const AthenaAdvice = "The tenant's cost queries run in Athena through this connection: deploy (or update) the CUR stack with EnableAthena=true, which creates the Glue table crossbill_cur.cur2 and grants the role its Athena and Glue permissions, or go back to crossbill's cost store with `crossbill costs engine set local`."

// errNoFactory is a caller's bug: every process makes its factory at start.
func errNoFactory(op string) error {
	return crossbill.Errorf(crossbill.CodeInternal, op, "no AWS client factory given (Options.AWS)")
}

// DefaultPropagationWait is how long verify keeps retrying a role that
// cannot be assumed yet. IAM changes usually propagate within seconds.
const DefaultPropagationWait = 30 * time.Second

// DefaultTransientWait is how long verify keeps retrying one call that
// failed for a passing fault: long enough to outlast a burst of throttling
// or a brief outage, short enough for a verification to end in a minute or
// two when AWS stays unavailable.
const DefaultTransientWait = 30 * time.Second

// Result is the outcome of one verification.
type Result struct {
	Status         store.VerificationStatus  `json:"status"`
	VerificationID int64                     `json:"verification_id,omitempty"`
	Tenant         string                    `json:"tenant"`
	ConnectionID   crossbill.ConnectionID    `json:"connection_id"`
	RoleARN        crossbill.RoleARN         `json:"role_arn"`
	AccountID      crossbill.AccountID       `json:"account_id"`
	Modules        []manifest.Module         `json:"modules"`
	StartedAt      time.Time                 `json:"started_at"`
	FinishedAt     time.Time                 `json:"finished_at"`
	DurationMS     int64                     `json:"duration_ms"`
	Checks         []store.VerificationCheck `json:"checks"`
	// Bill is the connection's CUR 2.0 export, found or registered after
	// a successful verification of a connection with the cur module.
	Bill *Bill `json:"bill,omitempty"`
}

// Failed returns the failed checks.
func (r Result) Failed() []store.VerificationCheck {
	var out []store.VerificationCheck
	for _, c := range r.Checks {
		if c.Status == store.CheckFail {
			out = append(out, c)
		}
	}
	return out
}

// Err is nil for a verified connection; otherwise an error whose code
// comes from the first failed check that is not a passing fault
// (AccessDenied for denials and for external-ID findings) and whose message
// names every failed check. An inconclusive result's code is its first
// passing fault's: Throttled or Unavailable (exit 6), never a denial.
func (r Result) Err() error {
	failed := r.Failed()
	if r.Status == store.VerificationVerified && len(failed) == 0 {
		return nil
	}
	names := make([]string, 0, len(failed))
	var first *store.VerificationCheck
	for i, c := range failed {
		names = append(names, c.Name)
		if first == nil && (r.Status == store.VerificationInconclusive || !awsclient.Class(c.Class).Transient()) {
			first = &failed[i]
		}
	}
	code, fix := crossbill.CodeAccessDenied, "see the checks"
	if first != nil {
		fix = first.Advice
		if first.Class != "" {
			code = awsclient.Class(first.Class).Code()
		}
	}
	if r.Status == store.VerificationInconclusive {
		return crossbill.Errorf(code, "connect verify", "connection %s could not be checked: %d check(s) met passing AWS faults after every retry (%s); nothing was learnt about the role and the connection keeps its status. %s",
			r.ConnectionID, len(failed), strings.Join(names, ", "), fix)
	}
	return crossbill.Errorf(code, "connect verify", "connection %s failed %d check(s) (%s); the connection stays inactive. First fix: %s",
		r.ConnectionID, len(failed), strings.Join(names, ", "), fix)
}

// Inconclusive reports whether checks failed and every failure was a
// passing fault: the verification could not check, it did not fail.
func Inconclusive(checks []store.VerificationCheck) bool {
	n := 0
	for _, c := range checks {
		if c.Status != store.CheckFail {
			continue
		}
		if !awsclient.Class(c.Class).Transient() {
			return false
		}
		n++
	}
	return n > 0
}

// run holds one verification in progress.
type run struct {
	opts    Options
	factory *awsclient.Factory
	target  awsclient.Target
	role    awsarn.Role
	res     *Result
}

// Run verifies conn (which must be bound to a role) against AWS. AWS
// failures are findings in the result, not errors; the error is for input
// that cannot be verified at all and for cancellation.
func Run(ctx context.Context, conn store.Connection, opts Options) (Result, error) {
	const op = "connect verify"
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Progress == nil {
		opts.Progress = func(string, ...any) {}
	}
	if opts.PropagationWait == 0 {
		opts.PropagationWait = DefaultPropagationWait
	}
	if opts.TransientWait == 0 {
		opts.TransientWait = DefaultTransientWait
	}
	if opts.AWS == nil {
		return Result{}, errNoFactory(op)
	}
	if opts.Region == "" {
		opts.Region = opts.AWS.Hub().Region
	}
	if conn.RoleARN == "" {
		return Result{}, crossbill.Errorf(crossbill.CodeInvalid, op, "connection %s has no role yet: pass --role-arn with the stack's RoleArn output", conn.ID)
	}
	role, err := awsarn.ParseRole(string(conn.RoleARN), "")
	if err != nil {
		return Result{}, err
	}
	if conn.ExternalID == "" {
		return Result{}, crossbill.Errorf(crossbill.CodeInternal, op, "connection %s has no external ID", conn.ID)
	}
	r := &run{
		opts:    opts,
		factory: opts.AWS,
		role:    role,
		target: awsclient.Target{Tenant: opts.Tenant, Connection: conn.ID, RoleARN: conn.RoleARN,
			ExternalID: conn.ExternalID},
		res: &Result{Tenant: opts.Tenant, ConnectionID: conn.ID, RoleARN: conn.RoleARN, AccountID: role.Account,
			Modules: conn.Modules, StartedAt: opts.Now().UTC(), Checks: []store.VerificationCheck{}},
	}
	// A verification checks the role as it is now: never with credentials
	// the process's factory cached before the customer changed the role.
	opts.AWS.Forget(r.target)
	assumed := r.assumeRole(ctx)
	if err := ctx.Err(); err != nil {
		return Result{}, crossbill.Errorf(crossbill.CodeUnavailable, op, "interrupted: %w", err)
	}
	if assumed {
		r.callerIdentity(ctx)
	} else {
		r.skip(CheckCallerIdentity, "", "the role could not be assumed")
	}
	// The negative checks run even when the right external ID failed: a
	// role that anyone can assume is worth knowing about in any case.
	r.mustDeny(ctx, CheckExternalIDRequired, nil)
	wrong := wrongExternalID()
	r.mustDeny(ctx, CheckExternalIDWrong, &wrong)
	for _, p := range manifest.Probes(conn.Modules...) {
		if err := ctx.Err(); err != nil {
			return Result{}, crossbill.Errorf(crossbill.CodeUnavailable, op, "interrupted: %w", err)
		}
		r.probe(ctx, p, assumed)
	}
	if opts.Athena && slices.Contains(conn.Modules, manifest.ModuleCUR) {
		for _, p := range manifest.AthenaProbes() {
			n := len(r.res.Checks)
			r.probe(ctx, p, assumed)
			if c := &r.res.Checks[n]; c.Status == store.CheckFail {
				c.Advice = AthenaAdvice + " " + c.Advice
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return Result{}, crossbill.Errorf(crossbill.CodeUnavailable, op, "interrupted: %w", err)
	}
	res := *r.res
	res.FinishedAt = opts.Now().UTC()
	res.DurationMS = res.FinishedAt.Sub(res.StartedAt).Milliseconds()
	res.Status = store.VerificationVerified
	switch {
	case Inconclusive(res.Checks):
		res.Status = store.VerificationInconclusive
	case len(res.Failed()) > 0:
		res.Status = store.VerificationFailed
	}
	return res, nil
}

// add records a check that started at start.
func (r *run) add(c store.VerificationCheck, start time.Time) {
	c.StartedAt = start.UTC()
	c.DurationMS = r.opts.Now().Sub(start).Milliseconds()
	r.res.Checks = append(r.res.Checks, c)
	line := fmt.Sprintf("  %-4s %s (%d ms)", c.Status, c.Name, c.DurationMS)
	// A passing check's message is a note (a module probe's) or detail
	// (the session's ARN) shown with -v only.
	if c.Message != "" && (c.Status != store.CheckPass || c.Module != "") {
		line += ": " + c.Message
	}
	r.opts.Progress("%s", line)
	if c.Status == store.CheckFail && c.Advice != "" {
		r.opts.Progress("       fix: %s", c.Advice)
	}
}

func (r *run) skip(name string, module manifest.Module, why string) {
	r.add(store.VerificationCheck{Name: name, Module: string(module), Status: store.CheckSkip, Message: why}, r.opts.Now())
}

// failure turns an AWS error into a failed check.
func failure(name string, module manifest.Module, err error) store.VerificationCheck {
	d := awsclient.Diagnose(err)
	msg := d.Message
	if d.ErrorCode != "" {
		msg = d.ErrorCode + ": " + msg
	}
	if d.Service != "" {
		msg = fmt.Sprintf("%s %s: %s", d.Service, d.Operation, msg)
	}
	return store.VerificationCheck{Name: name, Module: string(module), Status: store.CheckFail,
		Class: string(d.Class), Message: msg, Advice: d.Fix}
}

// assumeRole gets the role's credentials with the stored external ID,
// retrying with exponential backoff and jitter while the role may still be
// propagating (at most PropagationWait) or while AWS answers with passing
// faults (at most TransientWait).
func (r *run) assumeRole(ctx context.Context) bool {
	start := r.opts.Now()
	r.opts.Progress("assuming %s with the connection's external ID", r.target.RoleARN)
	deadline := start.Add(r.opts.PropagationWait)
	transientDeadline := start.Add(r.opts.TransientWait)
	delay := 500 * time.Millisecond
	for attempt := 1; ; attempt++ {
		_, err := r.factory.Retrieve(ctx, r.target)
		if err == nil {
			r.add(store.VerificationCheck{Name: CheckAssumeRole, Status: store.CheckPass,
				Message: fmt.Sprintf("assumed after %d attempt(s)", attempt)}, start)
			return true
		}
		d := awsclient.Diagnose(err)
		// Jitter spreads retries of many verifications; full jitter on the
		// upper half keeps a floor so retries do not hammer STS.
		sleep := delay/2 + mrand.N(delay/2+1)
		wake := r.opts.Now().Add(sleep)
		propagating := d.Class == awsclient.ClassRoleTrust && r.opts.PropagationWait >= 0 && !wake.After(deadline)
		passing := d.Class.Transient() && r.opts.TransientWait >= 0 && !wake.After(transientDeadline)
		if ctx.Err() != nil || !propagating && !passing {
			r.add(failure(CheckAssumeRole, "", err), start)
			return false
		}
		if propagating {
			r.opts.Progress("  role not assumable yet (a new role takes seconds to propagate); retry %d in %s", attempt, sleep.Round(time.Millisecond))
		} else {
			r.opts.Progress("  %s (a passing fault); retry %d in %s", d.Class, attempt, sleep.Round(time.Millisecond))
		}
		if !pause(ctx, sleep) {
			r.add(failure(CheckAssumeRole, "", err), start)
			return false
		}
		delay = min(delay*2, 8*time.Second)
	}
}

// pause sleeps d unless ctx ends first; it reports whether it slept.
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// retryTransient calls f until it succeeds, fails for a reason other than
// a passing fault, or TransientWait is spent, with exponential backoff and
// jitter between calls. The SDK has already retried each call; this
// outlasts a burst that outlasted the SDK.
func (r *run) retryTransient(ctx context.Context, what string, f func() error) error {
	return retryTransient(ctx, r.opts, what, f)
}

func retryTransient(ctx context.Context, opts Options, what string, f func() error) error {
	deadline := opts.Now().Add(opts.TransientWait)
	delay := 500 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := f()
		if err == nil || opts.TransientWait < 0 || ctx.Err() != nil {
			return err
		}
		d := awsclient.Diagnose(err)
		sleep := delay/2 + mrand.N(delay/2+1)
		if !d.Class.Transient() || opts.Now().Add(sleep).After(deadline) {
			return err
		}
		opts.Progress("  %s: %s (a passing fault); retry %d in %s", what, d.Class, attempt, sleep.Round(time.Millisecond))
		if !pause(ctx, sleep) {
			return err
		}
		delay = min(delay*2, 8*time.Second)
	}
}

// callerIdentity checks that the session is the role's, in its account.
func (r *run) callerIdentity(ctx context.Context) {
	start := r.opts.Now()
	var out *sts.GetCallerIdentityOutput
	err := r.retryTransient(ctx, CheckCallerIdentity, func() (err error) {
		out, err = sts.NewFromConfig(r.factory.Config(r.target, "")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		return err
	})
	if err != nil {
		r.add(failure(CheckCallerIdentity, "", r.factory.Check("get caller identity", r.target, err)), start)
		return
	}
	account, arn := aws.ToString(out.Account), aws.ToString(out.Arn)
	wantPrefix := fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/", r.role.Partition, r.role.Account, r.role.Name)
	if account != string(r.role.Account) || !strings.HasPrefix(arn, wantPrefix) {
		r.add(store.VerificationCheck{Name: CheckCallerIdentity, Status: store.CheckFail, Class: string(ClassAccountMismatch),
			Message: fmt.Sprintf("the session is %s in account %s, not the role %s", arn, account, r.target.RoleARN),
			Advice:  "Give the role ARN from the RoleArn output of the stack deployed in the account you want to connect."}, start)
		return
	}
	r.add(store.VerificationCheck{Name: CheckCallerIdentity, Status: store.CheckPass, Message: arn}, start)
}

// mustDeny assumes the role with externalID (nil: none) and passes only if
// AWS refuses.
func (r *run) mustDeny(ctx context.Context, name string, externalID *string) {
	start := r.opts.Now()
	what := "without an external ID"
	if externalID != nil {
		what = "with a wrong external ID"
	}
	r.opts.Progress("checking that the role refuses crossbill %s", what)
	client := sts.NewFromConfig(r.factory.Hub())
	err := r.retryTransient(ctx, name, func() error {
		_, err := client.AssumeRole(ctx, &sts.AssumeRoleInput{
			RoleArn:         aws.String(string(r.target.RoleARN)),
			RoleSessionName: aws.String(awsclient.SessionName(r.opts.Tenant, r.target.Connection)),
			ExternalId:      externalID,
			DurationSeconds: aws.Int32(int32(awsclient.MinSessionDuration / time.Second)),
		})
		return err
	})
	if err == nil {
		r.add(store.VerificationCheck{Name: name, Status: store.CheckFail, Class: string(ClassExternalIDNotEnforced),
			Message: "the role can be assumed " + what,
			Advice: "Add Condition StringEquals sts:ExternalId = the connection's external ID to the role's trust policy " +
				"(redeploy crossbill's account role template, which has it); until then anyone who learns the role ARN can make crossbill act in this account."}, start)
		return
	}
	if d := awsclient.Diagnose(err); !d.Class.Denied() {
		c := failure(name, "", err)
		c.Message = "could not check: " + c.Message
		r.add(c, start)
		return
	}
	r.add(store.VerificationCheck{Name: name, Status: store.CheckPass, Message: "AWS refused " + what}, start)
}

// probe makes one module's probe call.
func (r *run) probe(ctx context.Context, p manifest.Probe, assumed bool) {
	name := "probe:" + string(p.Module)
	if p.Call != "" {
		name += ":" + p.Call
	}
	switch {
	case p.Skip != "":
		r.skip(name, p.Module, p.Skip)
		return
	case !assumed:
		r.skip(name, p.Module, "the role could not be assumed")
		return
	case p.Paid && !r.opts.IncludePaid:
		r.skip(name, p.Module, "paid call (about $0.01 per request); run with --include-paid to make it")
		return
	}
	exec, ok := executors()[p.Call]
	if !ok {
		// A manifest probe without an executor is a crossbill bug; a test
		// keeps the two in step.
		r.add(store.VerificationCheck{Name: name, Module: string(p.Module), Status: store.CheckFail, Class: string(awsclient.ClassUnknown),
			Message: "crossbill has no executor for probe " + p.Call, Advice: "Report this crossbill bug."}, r.opts.Now())
		return
	}
	start := r.opts.Now()
	env := probeEnv{factory: r.factory, target: r.target, region: r.opts.Region, partition: r.role.Partition}
	lacking := false
	err := r.retryTransient(ctx, name, func() error {
		err := exec(ctx, env)
		if unserved(r.factory.Hub(), err) {
			lacking = true
			return nil
		}
		return err
	})
	if lacking {
		r.skip(name, p.Module, NotInSandbox)
		return
	}
	if err == nil || allowed(err, p.AllowedErrors) {
		c := store.VerificationCheck{Name: name, Module: string(p.Module), Status: store.CheckPass}
		if err != nil {
			c.Message = allowedNotes[awsclient.Diagnose(err).ErrorCode]
		}
		r.add(c, start)
		return
	}
	c := failure(name, p.Module, r.factory.Check("probe "+p.Call, r.target, err))
	if cls := awsclient.Class(c.Class); (cls == awsclient.ClassSCPDeny || cls == awsclient.ClassRCPDeny) && r.opts.ExplainDeny != nil {
		if q, ok := manifest.ActionForCall(p.Call); ok {
			if why := r.opts.ExplainDeny(r.role.Account, q.Action); why != "" {
				c.Message += "; " + why
				c.Advice = why + ". " + c.Advice
			}
		}
	}
	r.add(c, start)
}

// allowedNotes say what an allowed error of a passing probe means for the
// customer, so that verify says it rather than a later command.
var allowedNotes = map[string]string{
	"AWSOrganizationsNotInUseException": NotInOrganization,
}

// NotInOrganization is the note of the org module's probe in an account
// outside any AWS Organization.
const NotInOrganization = "the permission is in place, but this account is not in an AWS Organization: there are no member accounts to list " +
	"(connect the organization's management account, or a delegated administrator, for them)"

func allowed(err error, codes []string) bool {
	code := awsclient.Diagnose(err).ErrorCode
	for _, c := range codes {
		if c == code {
			return true
		}
	}
	return false
}

// wrongExternalID is a fresh random ID no trust policy can expect.
func wrongExternalID() string { return "crossbill-verify-wrong-" + rand.Text() }
