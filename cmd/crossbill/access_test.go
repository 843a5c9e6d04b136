package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/access"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
)

// seedAccess stores two syncs of a small account for tenant acme: the
// second adds bob to the admins group. The moto-backed sync itself is
// tested in internal/access.
func seedAccess(t *testing.T, dir string) crossbill.ConnectionID {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tn, err := st.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	c, err := st.CreateConnection(ctx, store.NewConnection{TenantID: tn.ID, ExternalID: "cb-test-external-id-0123456789", HubPrincipal: "arn:aws:iam::123456789012:user/hub",
		Modules: []manifest.Module{manifest.ModuleAccessRead}})
	if err != nil {
		t.Fatal(err)
	}
	if c, err = storetest.Bind(ctx, st, c.ID, "arn:aws:iam::111111111111:role/CrossbillAccess"); err != nil {
		t.Fatal(err)
	}
	created := time.Now().Add(-200 * 24 * time.Hour)
	snap := func(bobGroups []string) *access.Snapshot {
		return &access.Snapshot{ConnectionID: c.ID, TakenAt: time.Now(), Accounts: []access.Account{{ID: "111111111111",
			Groups: []access.Group{{ARN: "arn:aws:iam::111111111111:group/admins", Name: "admins", Inline: []access.InlinePolicy{{Name: "all", Document: `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`}}}},
			Users: []access.User{
				{ARN: "arn:aws:iam::111111111111:user/alice", Name: "alice", CreateDate: created, Groups: []string{"admins"}, LoginProfile: true},
				{ARN: "arn:aws:iam::111111111111:user/bob", Name: "bob", CreateDate: created, Groups: bobGroups,
					AccessKeys: []access.AccessKey{{ID: "AKIAEXAMPLE", Status: "Active", CreateDate: created}}},
			}}}}
	}
	old := access.Build(snap(nil))
	cur := access.Build(snap([]string{"admins"}))
	for i, s := range []*access.Snapshot{old.Snapshot, cur.Snapshot} {
		data, _ := json.Marshal(s)
		var changes []store.AccessChange
		if i == 1 {
			changes = access.Diff(old, cur)
		}
		at := time.Now().Add(time.Duration(i-1) * time.Hour)
		if _, err := st.SaveAccessSync(ctx, store.AccessSync{TenantID: tn.ID, ConnectionID: c.ID, StartedAt: at, FinishedAt: at, Accounts: 1, Snapshot: data}, changes); err != nil {
			t.Fatal(err)
		}
	}
	return c.ID
}

func TestAccessCommands(t *testing.T) {
	dir := t.TempDir()
	seedAccess(t, dir)

	out, errOut, code := runCLI(t, dir, "access", "principals", "--tenant", "acme", "--admin", "--json")
	var pl access.PrincipalList
	if code != 0 || json.Unmarshal([]byte(out), &pl) != nil {
		t.Fatalf("principals: %d %s %s", code, out, errOut)
	}
	if len(pl.Principals) != 2 || pl.Principals[0].Name != "alice" || pl.Principals[1].Name != "bob" {
		t.Errorf("admins = %+v", pl.Principals)
	}

	out, _, code = runCLI(t, dir, "access", "who-can", "iam:PassRole", "--tenant", "acme", "--csv")
	if code != 0 || !strings.Contains(out, "111111111111,iam-user,alice,allowed,alice → admins → all") {
		t.Errorf("who-can CSV (%d):\n%s", code, out)
	}

	out, _, code = runCLI(t, dir, "access", "findings", "--tenant", "acme", "--json")
	var fl access.FindingList
	if code != 0 || json.Unmarshal([]byte(out), &fl) != nil {
		t.Fatalf("findings: %d %s", code, out)
	}
	ids := map[string]int{}
	for _, f := range fl.Findings {
		ids[f.ID]++
	}
	if ids[access.FindAdmin] != 2 || ids[access.FindNoMFA] != 1 || ids[access.FindOldKey] != 1 || ids[access.FindUnusedKey] != 1 || ids[access.FindDormantUser] != 2 {
		t.Errorf("finding counts = %v", ids)
	}
	// A longer key age makes the old-key finding go.
	out, _, _ = runCLI(t, dir, "access", "findings", "--tenant", "acme", "--key-age-days", "365", "--json")
	if strings.Contains(out, access.FindOldKey) {
		t.Error("--key-age-days 365 still reports a 200-day-old key")
	}

	out, _, code = runCLI(t, dir, "access", "changes", "--tenant", "acme", "--since", "48h")
	if code != 0 || !strings.Contains(out, "gained") || !strings.Contains(out, "bob → admins") {
		t.Errorf("changes (%d):\n%s", code, out)
	}

	out, _, code = runCLI(t, dir, "access", "show", "bob", "--tenant", "acme")
	if code != 0 || !strings.Contains(out, "admin-equivalent: true") || !strings.Contains(out, "bob → admins") {
		t.Errorf("show bob (%d):\n%s", code, out)
	}
	if _, _, code = runCLI(t, dir, "access", "show", "nobody", "--tenant", "acme"); code != 3 {
		t.Errorf("show of an unknown principal: exit %d, want 3", code)
	}
	if _, _, code = runCLI(t, dir, "access", "changes", "--tenant", "acme", "--since", "yesterday"); code != 2 {
		t.Errorf("bad --since: exit %d, want 2", code)
	}
}
