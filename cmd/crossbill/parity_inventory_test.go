package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/crossbill/crossbill/internal/inventory"
	"github.com/crossbill/crossbill/internal/store"
)

// seedInventory stores a small inventory for tenant acme, as the demo
// does (no AWS call).
func seedInventory(t *testing.T, dir string) []inventory.Resource {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dir)
	mustNoErr(t, err)
	defer st.Close()
	tn, err := st.CreateTenant(ctx, "acme")
	mustNoErr(t, err)
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	rs := []inventory.Resource{
		{ARN: "arn:aws:ec2:us-east-1:111111111111:instance/i-0abc", AccountID: "111111111111", Region: "us-east-1", Service: "ec2", Type: "instance", ID: "i-0abc",
			Name: "web", State: "running", Tags: map[string]string{"env": "prod"}, Metadata: map[string]any{"instance_type": "m5.large"},
			Cost: &inventory.Cost{MonthlyAmortized: 70.08, MonthlyOnDemand: 70.08, Currency: "USD", Source: inventory.CostFromPriceList}},
		{ARN: "arn:aws:ec2:us-east-1:111111111111:volume/vol-0abc", AccountID: "111111111111", Region: "us-east-1", Service: "ec2", Type: "volume", ID: "vol-0abc",
			State: "in-use", Relations: []inventory.Relation{{Kind: "attached-to", Target: "arn:aws:ec2:us-east-1:111111111111:instance/i-0abc"}}},
		{ARN: "arn:aws:s3:::acme-logs", AccountID: "222222222222", Region: "eu-west-1", Service: "s3", Type: "bucket", ID: "acme-logs"},
	}
	u := inventory.Utilization{ARN: rs[0].ARN, From: day, To: day.AddDate(0, 0, 2), Series: []inventory.Series{{Namespace: "AWS/EC2", Metric: "CPUUtilization", Stat: "Average",
		Period: 86400, Unit: "Percent", Points: []inventory.Datapoint{{At: day, Value: 3}, {At: day.AddDate(0, 0, 1), Value: 4}}}}}
	mustNoErr(t, inventory.Save(ctx, st, tn.ID, rs, []inventory.Utilization{u}))
	return rs
}

// TestParityInventory: `inventory list|show --json` and the inventory
// routes answer the same from the same stored inventory.
func TestParityInventory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rs := seedInventory(t, dir)
	cases := []struct {
		cli  []string
		api  string
		into func() any
		want int // resources in a list answer
	}{
		{[]string{"list"}, "inventory", func() any { return &inventory.List{} }, 3},
		{[]string{"list", "--account", "111111111111", "--type", "volume"}, "inventory?account=111111111111&type=volume", func() any { return &inventory.List{} }, 1},
		{[]string{"show", rs[0].ARN}, "inventory/resource?arn=" + url.QueryEscape(rs[0].ARN), func() any { return &inventory.Detail{} }, -1},
	}
	var cli []string
	for _, c := range cases {
		stdout, stderr, code := runCLI(t, dir, append(append([]string{"inventory"}, c.cli...), "--tenant", "acme", "--json")...)
		if code != 0 {
			t.Fatalf("CLI %v: %d %s", c.cli, code, stderr)
		}
		v := c.into()
		mustNoErr(t, json.Unmarshal([]byte(stdout), v))
		if l, ok := v.(*inventory.List); ok && len(l.Resources) != c.want {
			t.Errorf("CLI %v: %d resources, want %d", c.cli, len(l.Resources), c.want)
		}
		if d, ok := v.(*inventory.Detail); ok && (d.Utilization == nil || len(d.Utilization.Series[0].Points) != 2 || d.Resource.Cost.Source != inventory.CostFromPriceList) {
			t.Errorf("CLI show: %+v", d)
		}
		b, _ := json.Marshal(v)
		cli = append(cli, string(b))
	}
	api := newAPI(t, dir, nil, "")
	for i, c := range cases {
		status, body := api.do(t, "GET", "/api/v1/tenants/acme/"+c.api, nil)
		if status != http.StatusOK {
			t.Fatalf("API %s: %d %s", c.api, status, body)
		}
		v := c.into()
		mustNoErr(t, json.Unmarshal(body, v))
		b, _ := json.Marshal(v)
		if string(b) != cli[i] {
			t.Errorf("%v: CLI and API differ\nCLI %s\nAPI %s", c.cli, cli[i], b)
		}
	}
	// A resource not in the inventory: not found (exit 3, as README's table).
	_, stderr, code := runCLI(t, dir, "inventory", "show", "arn:aws:ec2:us-east-1:111111111111:instance/i-missing", "--tenant", "acme")
	if code != 3 || stderr == "" {
		t.Errorf("show of a missing ARN: exit %d %s", code, stderr)
	}
}
