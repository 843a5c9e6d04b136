package jit

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/store"
)

// Drift kinds the reconciler reports.
const (
	DriftRemoved   = "removed"     // a grant no live lease needs was still in place: removed
	DriftReapplied = "reapplied"   // an active lease's grant was missing: put back
	DriftMissing   = "missing"     // an active lease's grant is missing and could not be put back
	DriftOutOfBand = "out-of-band" // someone else granted a JIT-managed target
)

// Drift is one difference between the leases and AWS.
type Drift struct {
	Kind      string `json:"kind"`
	Target    string `json:"target"`
	TargetKey string `json:"target_key"`
	Principal string `json:"principal"`
	Lease     string `json:"lease,omitempty"`
	Error     string `json:"error,omitempty"`
	New       bool   `json:"new"` // first report of an out-of-band grant
}

// ReconcileScope says which targets a reconciler pass lists in AWS.
type ReconcileScope string

// Reconciler scopes. Listing every managed target (accounts x permission
// sets of every policy) each minute would be thousands of Identity Center
// calls for a large organization, over AWS's rate limits; a pass lists the
// targets that leases hold or just released, and everything once a day.
const (
	// ScopeDue lists the leased targets (those of live leases, leases
	// being revoked, and leases that ended within RecentlyEnded), and
	// every managed target when the connection's daily full pass is due
	// (FullSweepEvery).
	ScopeDue ReconcileScope = ""
	// ScopeFull lists every managed target now.
	ScopeFull ReconcileScope = "full"
)

const (
	// FullSweepEvery is how often ScopeDue lists every managed target:
	// that pass finds out-of-band grants on targets no lease touches.
	FullSweepEvery = 24 * time.Hour
	// RecentlyEnded: a lease that ended this recently keeps its target
	// listed, so a grant put back by hand (or a revoke AWS lost) is
	// removed within a minute; older ones wait for the daily full pass.
	RecentlyEnded = FullSweepEvery
)

// ReconcileResult is one reconciler pass over a tenant's JIT-managed
// targets.
type ReconcileResult struct {
	// Full: every managed target was listed (the daily pass, or asked
	// for); else only the leased ones.
	Full       bool     `json:"full"`
	Targets    int      `json:"targets"`
	Drifts     []Drift  `json:"drifts"`
	Errors     []string `json:"errors"`
	DurationMS int64    `json:"duration_ms"`
}

// managedTargets are the targets of the tenant's policies (permission
// sets resolved through the latest access sync) and of its leases.
func managedTargets(ctx context.Context, st *store.Store, c *cloud, tenant crossbill.TenantID, leases []store.JITLease) (map[string]Target, []string, error) {
	out := map[string]Target{}
	var problems []string
	instance := ""
	for _, l := range leases {
		if l.ConnectionID != c.conn.ID {
			continue
		}
		t, err := targetOf(l)
		if err != nil {
			return nil, nil, err
		}
		out[t.Key()] = t
		if t.Instance != "" {
			instance = t.Instance
		}
	}
	policies, err := Policies(ctx, st, tenant)
	if err != nil {
		return nil, nil, err
	}
	snap := latestSync(ctx, st, tenant, c.conn.ID)
	ic := snap.IdentityCenter
	if instance == "" && ic != nil {
		instance = ic.InstanceARN
	}
	for _, p := range policies {
		for _, r := range p.Targets {
			if r.Group != "" {
				t := Target{Kind: KindGroup, Account: r.Account, Group: r.Group}
				out[t.Key()] = t
				continue
			}
			arn, name := r.PermissionSet, ""
			if ic != nil {
				for _, ps := range ic.PermissionSets {
					if ps.ARN == arn || ps.Name == arn {
						arn, name = ps.ARN, ps.Name
					}
				}
			}
			if len(arn) < 4 || arn[:4] != "arn:" {
				problems = append(problems, fmt.Sprintf("policy %s: permission set %q is not in the latest access sync; run `crossbill access sync`", p.Name, r.PermissionSet))
				continue
			}
			if instance == "" {
				cfg, err := c.config("")
				if err != nil {
					return nil, nil, err
				}
				inst, err := ssoadmin.NewFromConfig(cfg).ListInstances(ctx, &ssoadmin.ListInstancesInput{})
				if err != nil {
					return nil, nil, awsclient.Classify("jit reconcile: finding the Identity Center instance", err)
				}
				if len(inst.Instances) == 0 {
					return nil, nil, crossbill.Errorf(crossbill.CodeNotFound, "jit reconcile", "the connection's account has no Identity Center instance")
				}
				instance = aws.ToString(inst.Instances[0].InstanceArn)
			}
			accounts := slices.Clone(r.Accounts)
			for _, a := range snap.Accounts {
				for _, ou := range r.OUs {
					if slices.Contains(a.Ancestors, ou) && !slices.Contains(accounts, a.ID) {
						accounts = append(accounts, a.ID)
					}
				}
			}
			for _, a := range accounts {
				t := Target{Kind: KindPermissionSet, Account: a, PermissionSet: arn, PermissionSetName: name, Instance: instance}
				out[t.Key()] = t
			}
		}
	}
	return out, problems, nil
}

// leasedTargets are the targets of the connection's leases that hold a
// grant, are ending one, or ended within RecentlyEnded.
func leasedTargets(leases []store.JITLease, connID crossbill.ConnectionID, now time.Time) (map[string]Target, error) {
	out := map[string]Target{}
	for _, l := range leases {
		if l.ConnectionID != connID {
			continue
		}
		holding := slices.Contains(liveStates, l.State) || l.State == StateRevoking || l.State == StateRevokeFail
		recent := l.State == StateRevoked && l.EndedAt != nil && now.Sub(*l.EndedAt) < RecentlyEnded
		if !holding && !recent {
			continue
		}
		t, err := targetOf(l)
		if err != nil {
			return nil, err
		}
		out[t.Key()] = t
	}
	return out, nil
}

// fullSweepName names a connection's daily full pass among the store's
// sweeps.
func fullSweepName(tenant crossbill.TenantID, conn crossbill.ConnectionID) string {
	return "jit-full-reconcile:" + string(tenant) + ":" + string(conn)
}

// Reconcile compares a connection's active leases with AWS: it removes
// grants still in place that no live lease needs (an expiry the engine
// could not finish, a grant put back by hand), puts back the missing
// grants of active leases, and reports (once, on the audit log) grants on
// JIT-managed targets that crossbill did not make. scope says which
// targets it lists (ScopeDue: the leased ones, all once a day).
func Reconcile(ctx context.Context, st *store.Store, tenant crossbill.TenantID, connID crossbill.ConnectionID, scope ReconcileScope, opts Options, concurrency int) (ReconcileResult, error) {
	start := time.Now()
	res := ReconcileResult{Drifts: []Drift{}, Errors: []string{}}
	if concurrency <= 0 {
		concurrency = 8
	}
	leases, err := st.JITTenantLeases(ctx, tenant)
	if err != nil {
		return res, err
	}
	probe := store.JITLease{TenantID: tenant, ConnectionID: connID}
	cl, err := cloudFor(ctx, st, probe, opts)
	if err != nil {
		return res, err
	}
	c, ok := cl.(*cloud)
	if !ok {
		return res, crossbill.Errorf(crossbill.CodeInternal, "jit reconcile", "no AWS access for connection %s", connID)
	}
	switch scope {
	case ScopeFull:
		res.Full = true
	case ScopeDue:
		// Claimed before the pass: a pass that fails outright waits for
		// the next day rather than retrying the full listing each minute.
		if res.Full, err = st.ClaimSweepAt(ctx, fullSweepName(tenant, connID), "jit-reconcile", opts.now(), FullSweepEvery); err != nil {
			return res, err
		}
	default:
		return res, crossbill.Errorf(crossbill.CodeInvalid, "jit reconcile", "scope %q: use full, or none (the leased targets, all once a day)", scope)
	}
	var targets map[string]Target
	if res.Full {
		var problems []string
		if targets, problems, err = managedTargets(ctx, st, c, tenant, leases); err != nil {
			return res, err
		}
		res.Errors = append(res.Errors, problems...)
	} else if targets, err = leasedTargets(leases, connID, opts.now()); err != nil {
		return res, err
	}
	res.Targets = len(targets)
	reported := map[string]bool{}
	if lines, err := st.AuditLog(ctx, store.AuditJITOutOfBand, tenant); err == nil {
		for _, e := range lines {
			reported[e.Subject] = true
		}
	}
	byPair := map[string][]store.JITLease{}
	for _, l := range leases {
		if l.ConnectionID == connID {
			byPair[l.TargetKey+"\x00"+l.PrincipalID] = append(byPair[l.TargetKey+"\x00"+l.PrincipalID], l)
		}
	}
	keys := make([]string, 0, len(targets))
	for k := range targets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, concurrency)
	for _, k := range keys {
		wg.Add(1)
		sem <- struct{}{}
		go func(t Target) {
			defer wg.Done()
			defer func() { <-sem }()
			drifts, err := reconcileTarget(ctx, st, c, tenant, t, byPair, reported, opts)
			mu.Lock()
			defer mu.Unlock()
			res.Drifts = append(res.Drifts, drifts...)
			if err != nil {
				res.Errors = append(res.Errors, fmt.Sprintf("%s: %v", t, err))
			}
		}(targets[k])
	}
	wg.Wait()
	sort.Slice(res.Drifts, func(i, j int) bool {
		a, b := res.Drifts[i], res.Drifts[j]
		if a.TargetKey != b.TargetKey {
			return a.TargetKey < b.TargetKey
		}
		return a.Principal < b.Principal
	})
	res.DurationMS = time.Since(start).Milliseconds()
	return res, nil
}

func reconcileTarget(ctx context.Context, st *store.Store, c Cloud, tenant crossbill.TenantID, t Target, byPair map[string][]store.JITLease, reported map[string]bool, opts Options) ([]Drift, error) {
	holders, err := c.Holders(ctx, t)
	if err != nil {
		return nil, err
	}
	now := opts.now()
	var out []Drift
	key := t.Key()
	repair := func(d Drift, l store.JITLease) {
		e := store.AuditEntry{Actor: "jit-reconciler", Action: store.AuditJITRepair, TenantID: tenant, Subject: l.ID}
		if err := st.AppendAudit(ctx, e, d); err != nil {
			opts.log().Warn("jit reconcile: audit", "err", err)
		}
		notify(ctx, st, opts, Message{Tenant: tenant, Topic: TopicDrift, Subject: "JIT grant " + d.Kind + ": " + d.Target, Text: d.Principal + " on " + d.Target + ": " + d.Kind, Data: d, DedupKey: l.ID + ":" + d.Kind})
		out = append(out, d)
	}
	for _, h := range holders {
		pair := byPair[key+"\x00"+h]
		if len(pair) == 0 {
			subject := key + " " + h
			d := Drift{Kind: DriftOutOfBand, Target: t.String(), TargetKey: key, Principal: h, New: !reported[subject]}
			if d.New {
				// Reported once: the audit line is the record that it was.
				e := store.AuditEntry{Actor: "jit-reconciler", Action: store.AuditJITOutOfBand, TenantID: tenant, Subject: subject}
				if err := st.AppendAudit(ctx, e, d); err != nil {
					opts.log().Warn("jit reconcile: audit", "err", err)
				}
				notify(ctx, st, opts, Message{Tenant: tenant, Topic: TopicDrift, Subject: "Out-of-band grant: " + d.Target, Text: h + " holds " + d.Target + " without a lease", Data: d, DedupKey: subject})
			}
			out = append(out, d)
			continue
		}
		needed, engineOnIt := false, false
		for _, l := range pair {
			switch {
			case slices.Contains(liveStates, l.State) && l.ExpiresAt != nil && l.ExpiresAt.After(now):
				needed = true
			case l.State == StateRevoking || l.State == StateRevokeFail || slices.Contains(liveStates, l.State):
				engineOnIt = true // the lease engine is ending it
			}
		}
		if needed || engineOnIt {
			continue
		}
		d := Drift{Kind: DriftRemoved, Target: t.String(), TargetKey: key, Principal: h, Lease: pair[len(pair)-1].ID}
		if req, err := c.Delete(ctx, t, h); err != nil {
			d.Kind, d.Error = DriftMissing, "could not remove: "+err.Error()
		} else if req != "" {
			if _, err := c.Status(ctx, t, req, true); err != nil {
				d.Error = err.Error()
			}
		}
		repair(d, pair[len(pair)-1])
	}
	for _, pair := range byPair {
		for _, l := range pair {
			if l.TargetKey != key || l.State != StateActive || l.ExpiresAt == nil || !l.ExpiresAt.After(now) || slices.Contains(holders, l.PrincipalID) {
				continue
			}
			d := Drift{Kind: DriftReapplied, Target: t.String(), TargetKey: key, Principal: l.PrincipalID, Lease: l.ID}
			if req, err := c.Create(ctx, t, l.PrincipalID); err != nil {
				d.Kind, d.Error = DriftMissing, err.Error()
			} else if req != "" {
				if _, err := c.Status(ctx, t, req, false); err != nil {
					d.Kind, d.Error = DriftMissing, err.Error()
				}
			}
			repair(d, l)
			break // one repair per pair: the grant is shared
		}
	}
	return out, nil
}
