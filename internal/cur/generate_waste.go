package cur

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// addWaste gives each linked account what an optimization review finds:
// an unattached gp2 volume, snapshots months old that nothing uses, and
// (every other account) an Elastic IP associated with nothing. They are
// billed like any other line (EBS storage, snapshot storage, idle public
// IPv4 hours) and listed by Inventory. Their own random stream leaves the
// rest of the organization as it was; none is compute, so the
// commitments' coverage is unchanged.
func (o *org) addWaste(seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x7761737465))
	regs := regions()
	for i, a := range o.accounts {
		r := regs[0]
		if i%3 == 1 {
			r = regs[1+i%(len(regs)-1)]
		}
		az := r.code + "b"
		o.addEBS(rng, a, r, az, 100*(2+rng.IntN(7)), "gp2", a.Team+"-scratch")
		o.res[len(o.res)-1].detached = true
		for range 1 + rng.IntN(2) {
			size := float64(50 * (1 + rng.IntN(10)))
			rate := snapshotRate * r.price
			o.add(&resource{
				acct: a, kind: kSnapshot, productCode: "AmazonEC2", servicecode: "AmazonEC2", productName: "Amazon Elastic Compute Cloud",
				family: "Storage Snapshot", usageType: r.prefix + "EBS:SnapshotUsage", operation: "CreateSnapshot", region: r, az: az,
				resourceID:  "snap-0" + hexID(rng, 16),
				description: fmt.Sprintf("$%.3g per GB-Month of snapshot data stored - %s", rate, r.name),
				unit:        "GB-Mo", odRate: rate, productMap: map[string]string{"product_name": "Amazon Elastic Compute Cloud", "region": r.code, "usagetype": "EBS:SnapshotUsage"},
				tags: map[string]string{"user_team": a.Team, "user_env": a.Env}, base: size,
				created: o.start.AddDate(0, 0, -(100 + rng.IntN(300))),
			})
		}
		if i%2 == 0 {
			o.add(&resource{
				acct: a, kind: kIPv4, productCode: "AmazonVPC", servicecode: "AmazonVPC", productName: "Amazon Virtual Private Cloud",
				family: "VPC Public IPv4 Address", usageType: r.prefix + "PublicIPv4:IdleAddress", operation: "AllocateAddressVPC", region: r,
				resourceID:  "eipalloc-0" + hexID(rng, 16),
				description: "$0.005 per Idle public IPv4 address per hour", unit: "Hrs", odRate: publicIPv4Rate,
				productMap: map[string]string{"product_name": "Amazon Virtual Private Cloud", "region": r.code},
				tags:       map[string]string{}, base: 1,
			})
		}
	}
}

// List prices of the waste lines (us-east-1; other regions scale by the
// region's price factor, as EBS storage does).
const (
	snapshotRate   = 0.05
	publicIPv4Rate = 0.005
)

// InventoryItem is one resource of the synthetic organization as a
// resource inventory describes it: the demo builds its inventory from
// these, so the resource IDs are the CUR line items' and the costs agree.
type InventoryItem struct {
	AccountID string `json:"account_id"`
	Region    string `json:"region"`
	// Kind is instance, volume, snapshot, elastic-ip, db, bucket or
	// natgateway.
	Kind string `json:"kind"`
	// ID is the CUR's line_item_resource_id (an ARN for databases and
	// NAT gateways, as AWS writes them).
	ID           string            `json:"id"`
	InstanceType string            `json:"instance_type,omitempty"`
	Platform     string            `json:"platform,omitempty"`
	Engine       string            `json:"engine,omitempty"`
	VolumeType   string            `json:"volume_type,omitempty"`
	SizeGB       float64           `json:"size_gb,omitempty"`
	AttachedTo   string            `json:"attached_to,omitempty"` // a volume's instance
	Created      time.Time         `json:"created,omitzero"`
	Tags         map[string]string `json:"tags,omitempty"` // as tagged in AWS: team, env, app
	// GroupSize is the auto scaling group's usual size (1: a lone instance).
	GroupSize int `json:"group_size,omitempty"`
	// HourlyUsage is the usage the bill counts per hour at demand 1 (NAT
	// gateways: GB processed).
	HourlyUsage float64 `json:"hourly_usage,omitempty"`
}

// Inventory lists the organization Generate writes with the same options
// (Seed included): its instances (each auto scaling group at its usual
// size), volumes, snapshots, Elastic IPs, databases, buckets and NAT
// gateways. It simulates nothing and writes nothing.
func Inventory(opts GenerateOptions) ([]InventoryItem, error) {
	if opts.Dir == "" {
		opts.Dir = "." // not written to; setDefaults wants one
	}
	if err := opts.setDefaults(time.Now()); err != nil {
		return nil, err
	}
	o := newOrg(opts)
	var out []InventoryItem
	// The fleet's data volumes are attached to an instance of their account
	// and region (the last one listed before them).
	lastInstance := map[string]*resource{}
	for _, r := range o.res {
		it := InventoryItem{AccountID: r.acct.ID, Region: r.region.code, ID: r.resourceID, Tags: map[string]string{}}
		for k, v := range r.tags {
			it.Tags[strings.TrimPrefix(k, "user_")] = v
		}
		switch r.kind {
		case kEC2:
			if r.slots > 1 && r.slot >= r.slots {
				continue // a burst slot: runs only while the group is past its usual size
			}
			it.Kind, it.InstanceType, it.Platform, it.GroupSize = "instance", r.itype, r.os, max(1, r.slots)
			lastInstance[r.acct.ID+r.region.code] = r
		case kEBS:
			it.Kind, it.VolumeType, it.SizeGB = "volume", r.productMap["volume_api_name"], r.base
			switch inst := lastInstance[r.acct.ID+r.region.code]; {
			case r.attachedTo != nil:
				it.AttachedTo = r.attachedTo.resourceID
			case !r.detached && inst != nil:
				it.AttachedTo = inst.resourceID
			}
		case kSnapshot:
			it.Kind, it.SizeGB, it.Created = "snapshot", r.base, r.created
		case kIPv4:
			it.Kind = "elastic-ip"
		case kRDS:
			it.Kind, it.InstanceType, it.Engine = "db", r.itype, r.engine
		case kS3Storage:
			it.Kind = "bucket"
		case kNATHours:
			it.Kind = "natgateway"
		case kNATBytes:
			// the same gateway's data: its usage, for the traffic metrics
			for i := range out {
				if out[i].ID == r.resourceID {
					out[i].HourlyUsage = r.base
				}
			}
			continue
		default:
			continue
		}
		out = append(out, it)
	}
	return out, nil
}
