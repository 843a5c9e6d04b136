package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"
)

func TestInventoryResourcesAndPruning(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	acme, err := s.CreateTenant(ctx, "acme")
	mustOK(t, err)
	other, err := s.CreateTenant(ctx, "other")
	mustOK(t, err)
	day1 := time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC)
	row := func(arn, acct, region, svc, typ string, at time.Time) store.InventoryRow {
		return store.InventoryRow{ARN: arn, ConnectionID: "conn-1", AccountID: crossbill.AccountID(acct), Region: region, Service: svc, Type: typ, FetchedAt: at, Data: []byte(`{"arn":"` + arn + `"}`)}
	}
	vol := func(n int) string { return fmt.Sprintf("arn:aws:ec2:us-east-1:111111111111:volume/vol-%d", n) }
	first := []store.InventoryRow{row(vol(1), "111111111111", "us-east-1", "ec2", "volume", day1), row(vol(2), "111111111111", "us-east-1", "ec2", "volume", day1),
		row("arn:aws:lambda:eu-west-1:111111111111:function:f", "111111111111", "eu-west-1", "lambda", "function", day1),
		row("arn:aws:s3:::logs", "111111111111", "eu-west-1", "s3", "bucket", day1)}
	util := []store.InventoryUtilRow{{ARN: vol(2), From: day1.Add(-14 * 24 * time.Hour), To: day1, Data: []byte(`{"series":[]}`)}}
	mustOK(t, s.SaveInventory(ctx, acme.ID, first, util, nil, day1))
	// The same ARN in another tenant is that tenant's own row.
	mustOK(t, s.SaveInventory(ctx, other.ID, []store.InventoryRow{row(vol(1), "999999999999", "us-east-1", "ec2", "volume", day1)}, nil, nil, day1))

	all, err := s.InventoryResources(ctx, acme.ID, store.InventoryFilter{})
	mustOK(t, err)
	if len(all) != 4 || all[0].AccountID != "111111111111" {
		t.Fatalf("acme's resources = %+v", all)
	}
	vols, err := s.InventoryResources(ctx, acme.ID, store.InventoryFilter{Service: "ec2", Type: "volume", Limit: 1})
	mustOK(t, err)
	if len(vols) != 1 || vols[0].ARN != vol(1) || !vols[0].FetchedAt.Equal(day1) {
		t.Fatalf("one volume = %+v", vols)
	}
	if _, err := s.InventoryResource(ctx, other.ID, "arn:aws:s3:::logs"); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("another tenant's bucket: %v, want not found", err)
	}
	if r, err := s.InventoryResource(ctx, other.ID, vol(1)); err != nil || r.AccountID != "999999999999" {
		t.Fatalf("other's own vol-1 = %+v %v", r, err)
	}

	// Day 2: vol-2 is gone; ec2 and s3 read in full, lambda in eu-west-1
	// failed (not pruned).
	day2 := day1.Add(24 * time.Hour)
	mustOK(t, s.SaveInventory(ctx, acme.ID, []store.InventoryRow{row(vol(1), "111111111111", "us-east-1", "ec2", "volume", day2)}, nil,
		[]store.InventoryScope{{AccountID: "111111111111", Region: "us-east-1", Service: "ec2"}, {AccountID: "111111111111", Service: "s3"}}, day2))
	all, err = s.InventoryResources(ctx, acme.ID, store.InventoryFilter{})
	mustOK(t, err)
	var arns []string
	for _, r := range all {
		arns = append(arns, r.ARN)
	}
	if len(all) != 2 || all[0].ARN != "arn:aws:lambda:eu-west-1:111111111111:function:f" || all[1].ARN != vol(1) || !all[1].FetchedAt.Equal(day2) {
		t.Fatalf("after pruning: %v", arns)
	}
	if u, err := s.InventoryUtilization(ctx, acme.ID, nil); err != nil || len(u) != 0 {
		t.Fatalf("the pruned volume's utilization is left: %+v %v", u, err)
	}
	if r, err := s.InventoryResources(ctx, other.ID, store.InventoryFilter{}); err != nil || len(r) != 1 {
		t.Fatalf("pruning reached another tenant: %+v %v", r, err)
	}

	// Utilization by ARN, in chunks past 500.
	var many []store.InventoryUtilRow
	var ask []string
	for i := range 600 {
		many = append(many, store.InventoryUtilRow{ARN: vol(100 + i), From: day1, To: day2, Data: []byte(`{}`)})
		ask = append(ask, vol(100+i))
	}
	mustOK(t, s.SaveInventory(ctx, acme.ID, nil, many, nil, day2))
	got, err := s.InventoryUtilization(ctx, acme.ID, ask)
	mustOK(t, err)
	if len(got) != 600 || !got[0].To.Equal(day2) {
		t.Fatalf("%d utilization rows, want 600", len(got))
	}
	if got, _ := s.InventoryUtilization(ctx, other.ID, ask); len(got) != 0 {
		t.Fatalf("another tenant reads acme's utilization: %d rows", len(got))
	}

	// Syncs: the newest per connection.
	for i, at := range []time.Time{day1, day2} {
		_, err := s.SaveInventorySync(ctx, store.InventorySync{TenantID: acme.ID, ConnectionID: "conn-1", StartedAt: at, FinishedAt: at.Add(time.Minute),
			Accounts: 2, Regions: 3, Resources: 10 + i, Failures: []byte(`[{"service":"lambda"}]`)})
		mustOK(t, err)
	}
	syncs, err := s.LatestInventorySyncs(ctx, acme.ID)
	mustOK(t, err)
	if len(syncs) != 1 || syncs[0].Resources != 11 || string(syncs[0].Failures) != `[{"service":"lambda"}]` {
		t.Fatalf("latest syncs = %+v", syncs)
	}
	if syncs, _ := s.LatestInventorySyncs(ctx, other.ID); len(syncs) != 0 {
		t.Fatalf("other's syncs = %+v", syncs)
	}
}
