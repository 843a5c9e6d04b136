package server_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/onboarding"
	"github.com/crossbill/crossbill/internal/server"
	"github.com/crossbill/crossbill/internal/store"
)

// TestAccountSquatting is the squatting scenario against moto with
// IAM enforced. A squatter registers another company's role (the Flexera
// bill connect, then the verify route) before its owner connects: the
// calls fail and bind nothing. The owner then connects, deploys the role
// with its own external ID and verifies it. A second squatter repeating the
// calls after that gets answers identical to the first squatter's (status,
// checks, classes, messages, advice; IDs and times aside) and that take
// as long: nothing tells it the account is another tenant's. Tenant tokens
// cannot see or release bindings; the operator can, with an audit line,
// after which the owner's role binds again on its next verification.
func TestAccountSquatting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	moto := emulator.Own(t, emulator.Options{NoAuthActions: 1 << 20})
	root, err := moto.RootConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	adminUser, err := emulator.CreateUser(ctx, root, "admin", emulator.AdminPolicy)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := moto.Config(ctx, adminUser.KeyID, adminUser.Secret, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := moto.EnforceIAM(ctx); err != nil {
		t.Fatal(err)
	}
	hub, err := emulator.CreateUser(ctx, admin, "crossbill-hub", emulator.HubPolicy)
	if err != nil {
		t.Fatal(err)
	}
	const wait = 2 * time.Second // how long verify retries a role it cannot assume
	ts := startServer(t, func(m *server.Main) {
		m.Hub = awsclient.HubOptions{EndpointURL: moto.URL, Region: "us-east-1", AccessKey: &awsclient.AccessKey{ID: hub.KeyID, Secret: hub.Secret}}
		m.HubPrincipal = hub.ARN
		m.VerifyWait = wait
	})
	squatT, _, squatTok := ts.tenantWithTokens(t, "squat")
	lateT, _, lateTok := ts.tenantWithTokens(t, "late")
	ownerT, _, ownerTok := ts.tenantWithTokens(t, "owner")
	account := emulator.DefaultAccount

	// The owner's connection, and its role deployed by the customer with
	// the owner's external ID. The squatter learns the role ARN.
	var created struct {
		Connection struct{ ID string }
		ExternalID string `json:"external_id"`
	}
	if st := ts.do(t, "POST", "/api/v1/tenants/owner/connections", ownerTok, map[string]any{"modules": []string{"inventory"}}, &created); st != 201 {
		t.Fatalf("owner init: %d", st)
	}
	body, err := onboarding.AccountRoleTemplate(onboarding.RoleOptions{ExternalID: crossbill.ExternalID(created.ExternalID), HubPrincipal: hub.ARN, Modules: []manifest.Module{manifest.ModuleInventory}})
	if err != nil {
		t.Fatal(err)
	}
	outputs, err := emulator.CreateStack(ctx, admin, "crossbill", body, nil)
	if err != nil {
		t.Fatal(err)
	}
	role := outputs["RoleArn"]

	bill := map[string]string{"aws_bill_account_id": account, "aws_bucket_name": "owner-bills", "aws_bucket_path": "cur/export", "aws_sts_role_arn": role}
	type answer struct {
		status  int
		body    map[string]any
		elapsed time.Duration
	}
	call := func(method, path, token string, in any) answer {
		t.Helper()
		var out map[string]any
		start := time.Now()
		st := ts.do(t, method, path, token, in, &out)
		return answer{st, out, time.Since(start)}
	}
	// squat: the Flexera call, then the verify route on the connection it made.
	squat := func(tenant, token string) (flexera, verified answer) {
		t.Helper()
		flexera = call("POST", "/api/onboarding/orgs/"+tenant+"/bill_connects/aws/iam_role", token, bill)
		conn, _ := flexera.body["connection"].(map[string]any)
		id, _ := conn["id"].(string)
		verified = call("POST", "/api/v1/tenants/"+tenant+"/connections/"+id+"/verify", token, map[string]string{"role_arn": role})
		return flexera, verified
	}
	holds := func(tenant crossbill.TenantID) []store.Binding {
		t.Helper()
		bs, err := ts.Store().Bindings(ctx, store.BindingFilter{TenantID: tenant})
		if err != nil {
			t.Fatal(err)
		}
		return bs
	}

	// 1. The squatter, before the owner connects: an ordinary failure.
	f1, v1 := squat("squat", squatTok)
	if f1.status != 201 || v1.status != 200 || verification(f1.body)["status"] != "failed" || v1.body["status"] != "failed" {
		t.Fatalf("squatter: %d %v / %d %v", f1.status, f1.body, v1.status, v1.body)
	}
	if c := check(v1.body, "assume-role"); c["status"] != "fail" || c["class"] != string(awsclient.ClassRoleTrust) || !strings.Contains(c["advice"].(string), "operator") {
		t.Fatalf("squatter's assume-role check: %v", c)
	}
	if bs := holds(crossbill.TenantID(squatT.ID)); len(bs) != 0 {
		t.Fatalf("the squatter's failed calls bound %+v", bs)
	}
	if conn := f1.body["connection"].(map[string]any); conn["role_arn"] != nil || conn["account_id"] != nil {
		t.Fatalf("the squatter's connection shows a bound role: %v", conn)
	}

	// 2. The owner verifies its role: verified, bound to it.
	var v struct{ Status string }
	ownerVerify := "/api/v1/tenants/owner/connections/" + created.Connection.ID + "/verify"
	if st := ts.do(t, "POST", ownerVerify, ownerTok, map[string]string{"role_arn": role}, &v); st != 200 || v.Status != "verified" {
		t.Fatalf("owner verify: %d %+v", st, v)
	}
	if bs := holds(crossbill.TenantID(ownerT.ID)); len(bs) != 1 || bs[0].AccountID != crossbill.AccountID(account) || len(bs[0].Roles) != 1 || string(bs[0].Roles[0].RoleARN) != role {
		t.Fatalf("owner's binding: %+v", bs)
	}

	// 3. A second squatter, now that the account is the owner's: the same
	// answers as the first squatter's, taking as long, and nothing bound.
	f2, v2 := squat("late", lateTok)
	replace := []string{squatT.ID, lateT.ID, "squat", "late"}
	for _, a := range []answer{f1, v1, f2, v2} {
		if conn, ok := a.body["connection"].(map[string]any); ok {
			replace = append(replace, conn["id"].(string))
		}
		if id, ok := a.body["connection_id"].(string); ok {
			replace = append(replace, id)
		}
	}
	for _, pair := range [][2]answer{{f1, f2}, {v1, v2}} {
		a, b := pair[0], pair[1]
		na, nb := normalize(a.body, replace), normalize(b.body, replace)
		if a.status != b.status || !reflect.DeepEqual(na, nb) {
			ja, _ := json.MarshalIndent(na, "", " ")
			jb, _ := json.MarshalIndent(nb, "", " ")
			t.Errorf("the answer on the owner's account differs from an ordinary failure:\n%d %s\n---\n%d %s", a.status, ja, b.status, jb)
		}
		// Both went through the same retries of a role that cannot be
		// assumed: verify gives up when its next backoff would end after
		// wait, so anywhere from wait/4 to wait (one AssumeRole to moto
		// takes milliseconds).
		if a.elapsed < wait/4 || b.elapsed < wait/4 {
			t.Errorf("answers took %s and %s: both must retry the AssumeRole for about %s", a.elapsed, b.elapsed, wait)
		}
		t.Logf("ordinary failure %s, refused binding %s", a.elapsed.Round(time.Millisecond), b.elapsed.Round(time.Millisecond))
	}
	if bs := holds(crossbill.TenantID(lateT.ID)); len(bs) != 0 {
		t.Fatalf("the second squatter holds %+v", bs)
	}
	// 3b. Even a role of that account that does trust the second
	// squatter's external ID (its admin deployed one) cannot be bound,
	// and the answer is still the ordinary failure.
	lateConn := f2.body["connection"].(map[string]any)
	body, err = onboarding.AccountRoleTemplate(onboarding.RoleOptions{ExternalID: crossbill.ExternalID(f2.body["external_id"].(string)), HubPrincipal: hub.ARN,
		Modules: []manifest.Module{manifest.ModuleInventory}, RoleName: "CrossbillLate"})
	if err != nil {
		t.Fatal(err)
	}
	outputs, err = emulator.CreateStack(ctx, admin, "crossbill-late", body, nil)
	if err != nil {
		t.Fatal(err)
	}
	lateRole := outputs["RoleArn"]
	v3 := call("POST", "/api/v1/tenants/late/connections/"+lateConn["id"].(string)+"/verify", lateTok, map[string]string{"role_arn": lateRole})
	if na, nb := normalize(v1.body, append(replace, role)), normalize(v3.body, append(replace, lateRole)); v3.status != v1.status || !reflect.DeepEqual(na, nb) {
		ja, _ := json.MarshalIndent(na, "", " ")
		jb, _ := json.MarshalIndent(nb, "", " ")
		t.Errorf("a role trusting the squatter, in the owner's account, answers unlike an ordinary failure:\n%d %s\n---\n%d %s", v1.status, ja, v3.status, jb)
	}
	if v3.elapsed < wait/4 {
		t.Errorf("the refused binding of a role that trusts the caller answered in %s, without the retries of an ordinary failure", v3.elapsed)
	}
	t.Logf("refused binding of a role that trusts the caller: %s", v3.elapsed.Round(time.Millisecond))
	if bs := holds(crossbill.TenantID(lateT.ID)); len(bs) != 0 {
		t.Fatalf("the second squatter holds %+v", bs)
	}
	refusedLog, err := ts.Store().AuditLog(ctx, store.AuditBindingRefused, "")
	if err != nil || len(refusedLog) != 3 {
		t.Fatalf("refused bindings audited: %+v, %v; want the second squatter's three calls", refusedLog, err)
	}
	for _, e := range refusedLog {
		if e.TenantID != crossbill.TenantID(lateT.ID) || (e.Subject != role && e.Subject != lateRole) || !strings.HasPrefix(e.Actor, "token:") {
			t.Errorf("refused binding line %+v", e)
		}
	}

	// 4. Bindings are the operator's: tenant tokens get 403, and a release
	// needs a reason.
	for _, tok := range []string{ownerTok, lateTok} {
		if st := ts.do(t, "GET", "/api/v1/bindings", tok, nil, nil); st != 403 {
			t.Errorf("tenant token lists bindings: %d", st)
		}
		if st := ts.do(t, "POST", "/api/v1/bindings/"+account+"/release", tok, map[string]string{"reason": "mine"}, nil); st != 403 {
			t.Errorf("tenant token releases a binding: %d", st)
		}
	}
	var list []store.Binding
	if st := ts.do(t, "GET", "/api/v1/bindings?tenant=owner", ts.op, nil, &list); st != 200 || len(list) != 1 || list[0].TenantName != "owner" || list[0].Roles[0].AssumedAt == nil {
		t.Fatalf("operator lists bindings: %d %+v", st, list)
	}
	if st := ts.do(t, "GET", "/api/v1/bindings?tenant=squat", ts.op, nil, &list); st != 200 || len(list) != 0 {
		t.Fatalf("squatter's bindings: %d %+v", st, list)
	}
	var e errJSON
	if st := ts.do(t, "POST", "/api/v1/bindings/"+account+"/release", ts.op, map[string]string{}, &e); st != 400 || !strings.Contains(e.Error, "reason") {
		t.Fatalf("release without a reason: %d %+v", st, e)
	}
	if st := ts.do(t, "POST", "/api/v1/bindings/999999999999/release", ts.op, map[string]string{"reason": "x"}, &e); st != 404 {
		t.Fatalf("release of an unbound account: %d %+v", st, e)
	}
	var released store.Binding
	if st := ts.do(t, "POST", "/api/v1/bindings/"+account+"/release", ts.op, map[string]string{"reason": "support ticket 42"}, &released); st != 200 || released.TenantName != "owner" {
		t.Fatalf("operator release: %d %+v", st, released)
	}
	log, err := ts.Store().AuditLog(ctx, store.AuditBindingRelease, "")
	if err != nil || len(log) != 1 || log[0].TenantID != crossbill.TenantID(ownerT.ID) || log[0].Subject != account ||
		!strings.HasPrefix(log[0].Actor, "token:") || !strings.Contains(string(log[0].Detail), "support ticket 42") {
		t.Fatalf("release audit line: %+v, %v", log, err)
	}
	if bs := holds(""); len(bs) != 0 {
		t.Fatalf("bindings after release: %+v", bs)
	}
	// The owner's verify route, with no role given, retries the role of the
	// connection's last attempt, and binds it again.
	if st := ts.do(t, "POST", ownerVerify, ownerTok, map[string]string{}, &v); st != 200 || v.Status != "verified" {
		t.Fatalf("owner verify after release: %d %+v", st, v)
	}
	if bs := holds(crossbill.TenantID(ownerT.ID)); len(bs) != 1 {
		t.Fatalf("owner's binding after release and verify: %+v", bs)
	}
}

func verification(body map[string]any) map[string]any {
	v, _ := body["verification"].(map[string]any)
	return v
}

// check finds a check by name in a verification answer (or a bill
// connect's verification).
func check(body map[string]any, name string) map[string]any {
	if v := verification(body); v != nil {
		body = v
	}
	checks, _ := body["checks"].([]any)
	for _, c := range checks {
		if m, ok := c.(map[string]any); ok && m["name"] == name {
			return m
		}
	}
	return nil
}

// normalize drops what differs between any two answers (IDs, times,
// durations, the ingest job's progress) and replaces the tenants' names
// and IDs inside strings.
func normalize(v any, replace []string) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, val := range x {
			switch k {
			case "id", "tenant_id", "connection_id", "external_id", "verification_id", "started_at", "finished_at", "duration_ms", "created_at", "updated_at", "tenant":
				continue
			case "ingest_job":
				if j, ok := val.(map[string]any); ok {
					out[k] = j["kind"]
				}
				continue
			}
			out[k] = normalize(val, replace)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e, replace)
		}
		return out
	case string:
		for _, r := range replace {
			if r != "" {
				x = strings.ReplaceAll(x, r, "X")
			}
		}
		return x
	}
	return v
}
