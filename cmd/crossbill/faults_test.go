package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/cur"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/onboarding"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
)

// faultWorld is the set-up: an organization of 12 members with the
// generated role everywhere (IAM enforced), and a 3-period CUR export in a
// customer bucket (a second emulator without IAM enforcement, whose S3
// accepts the Go SDK's signatures), each behind a fault proxy. The CLI
// commands run in-process against the proxies, so the exit codes are the
// real ones.
type faultWorld struct {
	orgDir, role, conn string
	members            int
	orgProxy, s3Proxy  *emulator.FaultProxy

	billSrc   string // s3://bucket/prefix/export
	billRole  crossbill.RoleARN
	billTotal float64 // unblended, all periods
	periods   int
}

func newFaultWorld(t *testing.T, members int) *faultWorld {
	t.Helper()
	ctx := context.Background()
	w := &faultWorld{members: members}

	// The organization, as in TestConnectMembersEndToEnd, with 12 members.
	srv := emulator.Own(t, emulator.Options{NoAuthActions: 1 << 20})
	root, err := srv.RootConfig(ctx)
	mustNoErr(t, err)
	adminUser, err := emulator.CreateUser(ctx, root, "admin", emulator.AdminPolicy)
	mustNoErr(t, err)
	admin, err := srv.Config(ctx, adminUser.KeyID, adminUser.Secret, "")
	mustNoErr(t, err)
	org := organizations.NewFromConfig(root)
	_, err = org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{})
	mustNoErr(t, err)
	var memberAdmins []aws.Config
	for i := range members {
		name := fmt.Sprintf("member-%02d", i)
		out, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(name), Email: aws.String(name + "@example.com")})
		mustNoErr(t, err)
		creds, err := sts.NewFromConfig(root).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + aws.ToString(out.CreateAccountStatus.AccountId) + ":role/OrganizationAccountAccessRole"), RoleSessionName: aws.String("setup")})
		mustNoErr(t, err)
		c := creds.Credentials
		a, err := srv.Config(ctx, aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
		mustNoErr(t, err)
		_, err = iam.NewFromConfig(a).PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("OrganizationAccountAccessRole"), PolicyName: aws.String("all"), PolicyDocument: aws.String(emulator.AdminPolicy)})
		mustNoErr(t, err)
		memberAdmins = append(memberAdmins, a)
	}
	mustNoErr(t, srv.EnforceIAM(ctx))
	hubUser, err := emulator.CreateUser(ctx, admin, "crossbill-hub", emulator.HubPolicy)
	mustNoErr(t, err)
	setHubEnv(t, hubUser.KeyID, hubUser.Secret)

	w.orgDir = t.TempDir()
	if _, e, code := runCLI(t, w.orgDir, "tenant", "create", "acme"); code != 0 {
		t.Fatal(e)
	}
	stdout, stderr, code := runCLI(t, w.orgDir, "connect", "init", "--tenant", "acme", "--principal", hubUser.ARN, "--modules", "inventory,org", "--out", t.TempDir(), "--json")
	if code != 0 {
		t.Fatalf("init: %d %s", code, stderr)
	}
	var init initOut
	mustNoErr(t, json.Unmarshal([]byte(stdout), &init))
	w.conn = init.ConnectionID
	deploy := func(cfg aws.Config, modules []manifest.Module) string {
		t.Helper()
		body, err := onboarding.AccountRoleTemplate(onboarding.RoleOptions{ExternalID: crossbill.ExternalID(init.ExternalID), HubPrincipal: hubUser.ARN, Modules: modules})
		mustNoErr(t, err)
		outputs, err := emulator.CreateStack(ctx, cfg, "crossbill", body, nil)
		mustNoErr(t, err)
		return outputs["RoleArn"]
	}
	modules := []manifest.Module{manifest.ModuleInventory, manifest.ModuleOrg}
	w.role = deploy(admin, modules)
	for _, a := range memberAdmins {
		deploy(a, onboarding.MemberModules(modules))
	}
	// Verified and listed once without faults: every run starts from a
	// verified connection and 12 verified members.
	if _, e, code := runCLI(t, w.orgDir, "connect", "verify", "--tenant", "acme", "--role-arn", w.role, "--endpoint-url", srv.URL, "--wait", "2s"); code != 0 {
		t.Fatalf("verify: %d %s", code, e)
	}
	if _, e, code := runCLI(t, w.orgDir, "connect", "members", "--tenant", "acme", "--endpoint-url", srv.URL, "--verify"); code != 0 {
		t.Fatalf("members: %d %s", code, e)
	}
	if w.orgProxy, err = emulator.StartFaultProxy(srv.URL, 1); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.orgProxy.Close)

	// The bill: a 3-period export, several files a period, in the
	// customer's bucket; the connection's role is the way in.
	s3srv := emulator.Own(t, emulator.Options{IsolateS3Accounts: true})
	s3root, err := s3srv.RootConfig(ctx)
	mustNoErr(t, err)
	const customer = "222222222222"
	setup, err := sts.NewFromConfig(s3root).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + customer + ":role/Setup"), RoleSessionName: aws.String("setup")})
	mustNoErr(t, err)
	cust, err := s3srv.Config(ctx, aws.ToString(setup.Credentials.AccessKeyId), aws.ToString(setup.Credentials.SecretAccessKey), aws.ToString(setup.Credentials.SessionToken))
	mustNoErr(t, err)
	custS3 := s3.NewFromConfig(cust, func(o *s3.Options) { o.UsePathStyle = true })
	_, err = custS3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bills")})
	mustNoErr(t, err)
	gen, err := cur.Generate(ctx, cur.GenerateOptions{Dir: t.TempDir(), Seed: 22, Accounts: 2, Months: 3, ResourcesPerAccount: 4,
		Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), RowsPerFile: 4000})
	mustNoErr(t, err)
	emulator.UploadDir(t, ctx, custS3, "bills", "", filepath.Join(gen.Dir, gen.Prefix))
	w.billSrc = "s3://bills/" + gen.Export
	w.billRole = crossbill.RoleARN("arn:aws:iam::" + customer + ":role/CrossbillAccess")
	for _, m := range gen.Months {
		w.billTotal += m.UnblendedCost
	}
	w.periods = len(gen.Months)
	if w.s3Proxy, err = emulator.StartFaultProxy(s3srv.URL, 1); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.s3Proxy.Close)
	return w
}

// faultRules injects rate of faults into every call: two thirds throttled
// and one third HTTP 500 (mixed), or responses cut mid-body (cut).
func faultRules(rate float64, cut bool) []emulator.Rule {
	switch {
	case rate == 0:
		return nil
	case cut:
		return []emulator.Rule{{Fault: emulator.FaultCut, Rate: rate}}
	}
	throttle := 2 * rate / 3
	// The second rule sees the requests the first let through.
	return []emulator.Rule{{Fault: emulator.FaultThrottle, Rate: throttle}, {Fault: emulator.Fault500, Rate: (rate / 3) / (1 - throttle)}}
}

// faultRun is the outcome of one command run.
type faultRun struct {
	correct bool
	exit    int
	state   string // what was stored: the connection's status, members' statuses, periods loaded
	took    time.Duration
}

// verifyRun runs `connect verify` through the proxy: correct when it exits
// 0 with every check passed; state is the connection's stored status.
func (w *faultWorld) verifyRun(t *testing.T) faultRun {
	t.Helper()
	start := time.Now()
	stdout, _, code := runCLI(t, w.orgDir, "connect", "verify", "--tenant", "acme", "--role-arn", w.role, "--endpoint-url", w.orgProxy.URL, "--wait", "2s", "--json")
	r := faultRun{exit: code, took: time.Since(start)}
	var res struct{ Status string }
	_ = json.Unmarshal([]byte(stdout), &res)
	st, err := store.Open(context.Background(), w.orgDir)
	mustNoErr(t, err)
	defer st.Close()
	c, err := st.ConnectionByID(context.Background(), crossbill.ConnectionID(w.conn))
	mustNoErr(t, err)
	r.state = string(c.Status)
	r.correct = code == 0 && res.Status == "verified" && c.Status == store.StatusVerified
	return r
}

// membersRun runs `connect members --verify`: correct when it exits 0
// with all 12 members verified; state counts the stored statuses.
func (w *faultWorld) membersRun(t *testing.T) faultRun {
	t.Helper()
	start := time.Now()
	stdout, _, code := runCLI(t, w.orgDir, "connect", "members", "--tenant", "acme", "--endpoint-url", w.orgProxy.URL, "--verify", "--json")
	r := faultRun{exit: code, took: time.Since(start)}
	st, err := store.Open(context.Background(), w.orgDir)
	mustNoErr(t, err)
	defer st.Close()
	ms, err := st.Members(context.Background(), crossbill.ConnectionID(w.conn))
	mustNoErr(t, err)
	counts := map[string]int{}
	for _, m := range ms {
		if m.Status != store.MemberSkipped {
			counts[string(m.Status)]++
		}
	}
	r.state = countString(counts)
	var res membersOut
	r.correct = code == 0 && json.Unmarshal([]byte(stdout), &res) == nil && res.Summary.Verified == w.members && counts["verified"] == w.members
	return r
}

// ingestRun runs `cur ingest --connection` into a fresh data directory:
// correct when it exits 0 with every period loaded and the generator's
// total; state is the periods loaded and whether any was loaded by halves.
func (w *faultWorld) ingestRun(t *testing.T) faultRun {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, dir)
	mustNoErr(t, err)
	acme, err := st.CreateTenant(ctx, "acme")
	mustNoErr(t, err)
	conn, err := st.CreateConnection(ctx, store.NewConnection{TenantID: acme.ID, ExternalID: "cb-faults-ingest-0123456789abcdef",
		HubPrincipal: "arn:aws:iam::" + emulator.DefaultAccount + ":user/crossbill-hub", Modules: []manifest.Module{manifest.ModuleCUR}})
	mustNoErr(t, err)
	_, err = storetest.Bind(ctx, st, conn.ID, w.billRole)
	mustNoErr(t, err)
	mustNoErr(t, st.Close())

	start := time.Now()
	_, _, code := runCLI(t, dir, "cur", "ingest", "--tenant", "acme", "--source", w.billSrc, "--connection", string(conn.ID), "--endpoint-url", w.s3Proxy.URL, "--json")
	r := faultRun{exit: code, took: time.Since(start)}
	out, _, pcode := runCLI(t, dir, "costs", "--tenant", "acme", "--metric", "unblended", "--granularity", "monthly", "--from", "2026-01-01", "--to", "2026-04-01", "--json")
	var costs struct {
		Total float64 `json:"total"`
		Rows  []struct {
			Period string  `json:"period"`
			Value  float64 `json:"value"`
		} `json:"rows"`
	}
	_ = json.Unmarshal([]byte(out), &costs)
	loaded := map[string]bool{}
	for _, row := range costs.Rows {
		loaded[row.Period] = true
	}
	r.state = fmt.Sprintf("%d/%d periods", len(loaded), w.periods)
	r.correct = code == 0 && pcode == 0 && len(loaded) == w.periods && math.Abs(costs.Total-w.billTotal) < 0.01
	return r
}

func countString(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", m[k], k)
	}
	return strings.Join(parts, ", ")
}

// TestThirtyPercentFaults: with 30% of every call to AWS throttled or
// failing (seeded), verify, members --verify (12 members) and cur ingest
// --connection (3 periods) all end correct, given their retries.
func TestThirtyPercentFaults(t *testing.T) {
	w := newFaultWorld(t, 12)
	for name, run := range map[string]func(*testing.T) faultRun{"verify": w.verifyRun, "members": w.membersRun, "ingest": w.ingestRun} {
		w.orgProxy.SetRules(30, faultRules(0.3, false)...)
		w.s3Proxy.SetRules(30, faultRules(0.3, false)...)
		r := run(t)
		injected := w.orgProxy.InjectedTotal() + w.s3Proxy.InjectedTotal()
		if !r.correct || injected == 0 {
			t.Errorf("%s at 30%% faults: exit %d, state %s, %d faults injected", name, r.exit, r.state, injected)
		}
		t.Logf("%s at 30%% faults: exit %d, %s, %s, %d faults injected", name, r.exit, r.state, r.took.Round(time.Millisecond), injected)
	}
}

// TestFaultMatrix measures the table: for each fault level, how
// many runs of each command end correct, their exit codes, what they
// stored and their wall time. Minutes long: it runs only with
// CROSSBILL_FAULTS=1 (CROSSBILL_FAULTS_RUNS sets the runs per cell,
// default 6, and 4 for cut responses), e.g.
//
//	CROSSBILL_FAULTS=1 go test ./cmd/crossbill -run TestFaultMatrix -v -timeout 60m
func TestFaultMatrix(t *testing.T) {
	if os.Getenv("CROSSBILL_FAULTS") == "" {
		t.Skip("set CROSSBILL_FAULTS=1 to measure the fault matrix (minutes)")
	}
	runs := 6
	if n, err := strconv.Atoi(os.Getenv("CROSSBILL_FAULTS_RUNS")); err == nil && n > 0 {
		runs = n
	}
	w := newFaultWorld(t, 12)
	rows := []struct {
		name string
		rate float64
		cut  bool
	}{{"0%", 0, false}, {"10%", 0.1, false}, {"30%", 0.3, false}, {"50%", 0.5, false}, {"cut 5%", 0.05, true}, {"cut 10%", 0.1, true}}
	var table strings.Builder
	table.WriteString("| faults | verify | members --verify (12) | cur ingest --connection (3 periods) |\n|---|---|---|---|\n")
	for _, row := range rows {
		n := runs
		if row.cut {
			n = max(1, runs*2/3)
		}
		cells := make([]string, 0, 3)
		for _, cmd := range []struct {
			name string
			run  func(*testing.T) faultRun
		}{{"verify", w.verifyRun}, {"members", w.membersRun}, {"ingest", w.ingestRun}} {
			correct, exits, states := 0, map[string]int{}, map[string]int{}
			var total, worst time.Duration
			for i := range n {
				seed := uint64(1000*(len(table.String())%97) + i)
				w.orgProxy.SetRules(seed, faultRules(row.rate, row.cut)...)
				w.s3Proxy.SetRules(seed, faultRules(row.rate, row.cut)...)
				r := cmd.run(t)
				if r.correct {
					correct++
				}
				exits["exit "+strconv.Itoa(r.exit)]++
				states[r.state]++
				total += r.took
				worst = max(worst, r.took)
				t.Logf("%s %s run %d: correct %v exit %d state %q %s (faults %d)", row.name, cmd.name, i+1, r.correct, r.exit, r.state,
					r.took.Round(time.Millisecond), w.orgProxy.InjectedTotal()+w.s3Proxy.InjectedTotal())
			}
			cells = append(cells, fmt.Sprintf("%d of %d correct; %s; stored: %s; mean %.1fs, max %.1fs",
				correct, n, countString(exits), countString(states), total.Seconds()/float64(n), worst.Seconds()))
		}
		fmt.Fprintf(&table, "| %s | %s |\n", row.name, strings.Join(cells, " | "))
	}
	t.Logf("fault matrix (%d runs a cell, %d for cut responses):\n%s", runs, max(1, runs*2/3), table.String())
	if path := os.Getenv("CROSSBILL_FAULTS_OUT"); path != "" {
		mustNoErr(t, os.WriteFile(path, []byte(table.String()), 0o644))
	}
}
