package costs

import (
	"context"
	"os"
	"sort"
	"time"
	"testing"
)

func TestScratchCounts(t *testing.T) {
	d := os.Getenv("SCRATCH_DATA")
	if d == "" {
		t.Skip()
	}
	s, err := Open(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, q := range []string{
		`SELECT count(*) FROM cost_daily WHERE billing_period='2025-12'`,
		`SELECT count(*) FROM cost_daily_dim WHERE billing_period='2025-12'`,
		`SELECT count(*) FROM cost_daily_dim WHERE billing_period='2025-12' AND kind='tag' AND key='team'`,
		`SELECT count(*) FROM (SELECT DISTINCT day, account, service, region, charge_type FROM cost_daily WHERE billing_period='2025-12')`,
		`SELECT count(*) FROM (SELECT DISTINCT day, service FROM cost_daily WHERE billing_period='2025-12')`,
		`SELECT count(DISTINCT key) FROM cost_daily_dim`,
	} {
		var n int64
		if err := s.db.QueryRow(q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		t.Logf("%d: %s", n, q)
	}
}

func TestScratchLatency(t *testing.T) {
	d := os.Getenv("SCRATCH_DATA")
	if d == "" {
		t.Skip()
	}
	ctx := context.Background()
	s, err := Open(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	from, _ := ParseDate("2025-12")
	for _, g := range []Dim{{Kind: DimService}, {Kind: DimTag, Key: "team"}} {
		q := Query{Tenant: "default", GroupBy: g, From: from, To: from.AddDate(0, 1, 0)}
		var ds []time.Duration
		for i := 0; i < 200; i++ {
			st := time.Now()
			if _, err := s.Query(ctx, q); err != nil {
				t.Fatal(err)
			}
			ds = append(ds, time.Since(st))
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		t.Logf("%s p50 %v p95 %v max %v", g, ds[100], ds[190], ds[199])
	}
}
