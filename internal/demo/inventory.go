package demo

import (
	"context"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/commitments"
	"github.com/crossbill/crossbill/internal/cur"
	"github.com/crossbill/crossbill/internal/inventory"
	"github.com/crossbill/crossbill/internal/optimize"
	"github.com/crossbill/crossbill/internal/store"
)

// The demo's inventory is the synthetic organization's own resources
// (cur.Inventory: the IDs its CUR line items carry), each with its
// amortized cost read back from the ingested CUR, and 14 days of metrics
// drawn from a profile per resource (idle, oversized or busy instances,
// idle or oversized databases...). It is written to the inventory store
// (inventory.Save, as a sync would), so the Inventory and Optimize pages
// show it, at each start.

// buildInventory saves the demo tenant's inventory and evaluates it.
func buildInventory(ctx context.Context, st *store.Store, t store.Tenant, o Options, _ *Report) (string, bool, error) {
	items, err := cur.Inventory(cur.GenerateOptions{Seed: uint64(o.Seed), Accounts: o.Accounts - 1, Months: o.Months, Start: o.Start, ResourcesPerAccount: o.Resources})
	if err != nil {
		return "", false, err
	}
	costs, err := resourceCosts(ctx, o, t.ID)
	if err != nil {
		return "", false, err
	}
	now := st.Now()
	res, utils := demoResources(items, costs, now)
	if err := inventory.Save(ctx, st, t.ID, res, utils); err != nil {
		return "", false, err
	}
	e, err := optimize.Evaluate(ctx, st, t.ID, optimize.InventoryStore{Store: st})
	if err != nil {
		return "", false, err
	}
	return fmt.Sprintf("%d resources, %d recommendations worth $%.0f a month", e.Resources, e.Summary.Count, e.Summary.Total), false, nil
}

// resourceCosts is each resource's cost over the CUR's last 30 days,
// stated per 730-hour month: amortized (after Savings Plans and
// reservations) and on demand, and whether a commitment covered any of
// it. A database's storage lines are left out: the rules resize or
// delete its instance.
func resourceCosts(ctx context.Context, o Options, tenant crossbill.TenantID) (map[string]inventory.Cost, error) {
	db := o.Costs.DB()
	end, err := commitments.DataEnd(ctx, commitments.DB(db), tenant)
	if err != nil {
		return nil, err
	}
	const days = 30
	rows, err := db.QueryContext(ctx, `SELECT line_item_resource_id,
		sum(CASE line_item_line_item_type
			WHEN 'SavingsPlanCoveredUsage' THEN coalesce(savings_plan_savings_plan_effective_cost, 0)
			WHEN 'DiscountedUsage' THEN coalesce(reservation_effective_cost, 0)
			ELSE coalesce(line_item_unblended_cost, 0) END),
		sum(coalesce(pricing_public_on_demand_cost, 0)),
		bool_or(line_item_line_item_type IN ('SavingsPlanCoveredUsage', 'DiscountedUsage'))
		FROM cur
		WHERE tenant = ? AND line_item_usage_start_date >= ? AND line_item_usage_start_date < ?
			AND coalesce(line_item_resource_id, '') <> ''
			AND line_item_line_item_type IN ('Usage', 'SavingsPlanCoveredUsage', 'DiscountedUsage')
			AND NOT (line_item_product_code = 'AmazonRDS' AND line_item_usage_type NOT LIKE '%InstanceUsage%')
		GROUP BY 1`, string(tenant), end.AddDate(0, 0, -days), end)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, "demo inventory", "reading resource costs: %w", err)
	}
	defer rows.Close()
	scale := optimize.HoursPerMonth / float64(days*24)
	out := map[string]inventory.Cost{}
	for rows.Next() {
		var id string
		var amortized, onDemand float64
		var covered bool
		if err := rows.Scan(&id, &amortized, &onDemand, &covered); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, "demo inventory", "%w", err)
		}
		out[id] = inventory.Cost{MonthlyAmortized: amortized * scale, MonthlyOnDemand: onDemand * scale, Currency: "USD", Source: inventory.CostFromCUR, CoveredByCommitment: covered}
	}
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, "demo inventory", "%w", err)
	}
	return out, nil
}

// profile picks a resource's behaviour from its ID: fixed for an ID, so
// every start shows the same recommendations.
func profile(id string, n uint32) uint32 {
	h := fnv.New32a()
	h.Write([]byte(id)) //nolint:errcheck // hashes do not fail
	return h.Sum32() % n
}

func demoResources(items []cur.InventoryItem, costs map[string]inventory.Cost, now time.Time) ([]inventory.Resource, []inventory.Utilization) {
	var res []inventory.Resource
	var utils []inventory.Utilization
	today := now.UTC().Truncate(24 * time.Hour)
	series := func(ns, metric, stat string, f func(day int) float64) inventory.Series {
		s := inventory.Series{Namespace: ns, Metric: metric, Stat: stat, Period: 86400}
		for d := 0; d < 14; d++ {
			s.Points = append(s.Points, inventory.Datapoint{At: today.AddDate(0, 0, d-14), Value: f(d)})
		}
		return s
	}
	wobble := func(id string, d int) float64 { return float64(profile(fmt.Sprint(id, d), 100)) / 100 } // 0..1, fixed per day
	for _, it := range items {
		r := inventory.Resource{AccountID: crossbill.AccountID(it.AccountID), Region: it.Region, ID: it.ID, Fetched: now, Tags: it.Tags, Metadata: map[string]any{}}
		if c, ok := costs[it.ID]; ok {
			r.Cost = &c
		}
		var u *inventory.Utilization
		switch it.Kind {
		case "instance":
			r.Service, r.Type, r.State = "ec2", "instance", "running"
			r.ARN = fmt.Sprintf("arn:aws:ec2:%s:%s:instance/%s", it.Region, it.AccountID, it.ID)
			r.Metadata["instance_type"], r.Metadata["platform"] = it.InstanceType, strings.ToLower(it.Platform)
			// idle (1 in 10), oversized (3 in 10), busy
			avg, peak, netMB := 45.0, 85.0, 900.0
			switch p := profile(it.ID, 10); {
			case p == 0:
				avg, peak, netMB = 2, 6, 1
			case p <= 3:
				avg, peak, netMB = 9, 18+float64(p)*5, 300
			}
			u = &inventory.Utilization{Series: []inventory.Series{
				series("AWS/EC2", "CPUUtilization", "Average", func(d int) float64 { return avg * (0.8 + 0.4*wobble(it.ID, d)) }),
				series("AWS/EC2", "CPUUtilization", "Maximum", func(d int) float64 {
					if d == 9 {
						return peak
					}
					return peak * (0.6 + 0.3*wobble(it.ID, d))
				}),
				series("AWS/EC2", "NetworkIn", "Sum", func(d int) float64 { return netMB * 1e6 * 0.3 * (0.5 + wobble(it.ID, d)) }),
				series("AWS/EC2", "NetworkOut", "Sum", func(d int) float64 { return netMB * 1e6 * 0.4 * (0.5 + wobble(it.ID, d)) }),
			}}
		case "volume":
			r.Service, r.Type, r.State = "ec2", "volume", "available"
			r.ARN = fmt.Sprintf("arn:aws:ec2:%s:%s:volume/%s", it.Region, it.AccountID, it.ID)
			r.Metadata["volume_type"], r.Metadata["size_gb"] = it.VolumeType, it.SizeGB
			if it.AttachedTo != "" {
				r.State = "in-use"
				r.Relations = []inventory.Relation{{Kind: "attached-to", Target: it.AttachedTo}}
			}
			r.Created = today.AddDate(0, -4, 0)
		case "snapshot":
			r.Service, r.Type, r.State = "ec2", "snapshot", "completed"
			r.ARN = fmt.Sprintf("arn:aws:ec2:%s::snapshot/%s", it.Region, it.ID)
			r.Metadata["size_gb"] = it.SizeGB
			r.Created = it.Created
		case "elastic-ip":
			r.Service, r.Type = "ec2", "elastic-ip"
			r.ARN = fmt.Sprintf("arn:aws:ec2:%s:%s:elastic-ip/%s", it.Region, it.AccountID, it.ID)
			r.Metadata["public_ip"] = fmt.Sprintf("198.51.100.%d", 1+profile(it.ID, 250))
		case "db":
			r.Service, r.Type, r.State, r.ARN = "rds", "db", "available", it.ID
			r.ID = it.ID[strings.LastIndex(it.ID, ":")+1:]
			r.Metadata["instance_class"], r.Metadata["engine"], r.Metadata["multi_az"] = it.InstanceType, strings.ToLower(it.Engine), false
			conns, cpu := 25.0, 70.0
			switch profile(it.ID, 5) {
			case 0:
				conns = 0
			case 1:
				cpu = 30
			}
			u = &inventory.Utilization{Series: []inventory.Series{
				series("AWS/RDS", "DatabaseConnections", "Maximum", func(d int) float64 { return conns * (0.5 + wobble(it.ID, d)) }),
				series("AWS/RDS", "CPUUtilization", "Maximum", func(d int) float64 { return cpu * (0.7 + 0.3*wobble(it.ID, d)) }),
			}}
		case "bucket":
			r.Service, r.Type, r.ARN = "s3", "bucket", "arn:aws:s3:::"+it.ID
			if profile(it.ID, 2) == 0 {
				r.Metadata["lifecycle_rules"] = []any{map[string]any{"ID": "abort-mpu", "Status": "Enabled", "AbortIncompleteMultipartUpload": map[string]any{"DaysAfterInitiation": 7.0}}}
			}
		case "natgateway":
			r.Service, r.Type, r.State, r.ARN = "ec2", "natgateway", "available", it.ID
			r.ID = it.ID[strings.LastIndex(it.ID, "/")+1:]
			gb := it.HourlyUsage * 24 // what the bill counts a day
			u = &inventory.Utilization{Series: []inventory.Series{
				series("AWS/NATGateway", "BytesOutToDestination", "Sum", func(d int) float64 { return gb * 1e9 * 0.7 * (0.8 + 0.4*wobble(it.ID, d)) }),
				series("AWS/NATGateway", "BytesInFromDestination", "Sum", func(d int) float64 { return gb * 1e9 * 0.3 * (0.8 + 0.4*wobble(it.ID, d)) }),
			}}
		}
		r.Console = consoleURL(r)
		res = append(res, r)
		if u != nil {
			u.ARN, u.From, u.To = r.ARN, today.AddDate(0, 0, -14), today
			utils = append(utils, *u)
		}
	}
	return res, utils
}

// consoleURL links a resource to its AWS console page.
func consoleURL(r inventory.Resource) string {
	base := "https://" + r.Region + ".console.aws.amazon.com/"
	switch r.Service + "/" + r.Type {
	case "ec2/instance":
		return base + "ec2/home?region=" + r.Region + "#InstanceDetails:instanceId=" + r.ID
	case "ec2/volume":
		return base + "ec2/home?region=" + r.Region + "#VolumeDetails:volumeId=" + r.ID
	case "ec2/snapshot":
		return base + "ec2/home?region=" + r.Region + "#SnapshotDetails:snapshotId=" + r.ID
	case "ec2/elastic-ip":
		return base + "ec2/home?region=" + r.Region + "#ElasticIpDetails:AllocationId=" + r.ID
	case "ec2/natgateway":
		return base + "vpcconsole/home?region=" + r.Region + "#NatGatewayDetails:natGatewayId=" + r.ID
	case "rds/db":
		return base + "rds/home?region=" + r.Region + "#database:id=" + r.ID
	case "s3/bucket":
		return "https://s3.console.aws.amazon.com/s3/buckets/" + r.ID
	}
	return ""
}
