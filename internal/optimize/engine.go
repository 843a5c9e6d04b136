package optimize

import (
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/crossbill/crossbill/internal/inventory"
)

// Settings are every rule's thresholds by rule name, defaults filled in.
type Settings map[string]Thresholds

// DefaultSettings are the rules' defaults.
func DefaultSettings() Settings {
	s := Settings{}
	for _, r := range Rules() {
		th := Thresholds{}
		for _, p := range r.paramsOf() {
			th[p.Name] = p.Default
		}
		s[r.Name] = th
	}
	return s
}

// Run evaluates every enabled rule on every resource and returns the
// recommendations, biggest saving first. util gives a resource's
// utilization by ARN (nil when none was read; called from several
// goroutines at once, so it must only read). It is pure: the use case
// Evaluate reads the inventory and stores the result.
func Run(resources []inventory.Resource, util func(arn string) *inventory.Utilization, set Settings, now time.Time) []*Recommendation {
	if util == nil {
		util = func(string) *inventory.Utilization { return nil }
	}
	c := &evalCtx{now: now, util: util, volumes: map[string][]*inventory.Resource{}, addresses: map[string][]*inventory.Resource{}, used: map[string]bool{}}
	for i := range resources {
		c.index(&resources[i])
	}
	byType := map[resourceType][]*Rule{}
	rules := Rules()
	for i := range rules {
		r := &rules[i]
		if th := set[r.Name]; th == nil || th["enabled"] == 0 {
			continue
		}
		for _, t := range strings.Split(r.Resource, ",") {
			svc, typ, _ := strings.Cut(t, "/")
			byType[resourceType{svc, typ}] = append(byType[resourceType{svc, typ}], r)
		}
	}
	// The rules are independent per resource: split the resources over
	// the cores, each worker with its own scratch buffers.
	workers := min(runtime.GOMAXPROCS(0), max(1, len(resources)/10000))
	parts := make([][]*Recommendation, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wc := *c
		wc.bufs = [4][]day{}
		lo, hi := len(resources)*w/workers, len(resources)*(w+1)/workers
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				res := &resources[i]
				for _, rule := range byType[resourceType{res.Service, res.Type}] {
					th := set[rule.Name]
					rec := rule.eval(&wc, rule, res, th)
					if rec == nil || rec.Savings.Monthly < th["min_monthly_savings"] {
						continue
					}
					rec.ID, rec.EvaluatedAt = RecommendationID(rule.Name, res.ARN), now
					parts[w] = append(parts[w], rec)
				}
			}
		})
	}
	wg.Wait()
	var out []*Recommendation
	for _, p := range parts {
		out = append(out, p...)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Savings.Monthly != out[j].Savings.Monthly {
			return out[i].Savings.Monthly > out[j].Savings.Monthly
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// resourceType keys rules by service and type without building strings.
type resourceType struct{ service, typ string }

// index records what other resources' rules need to know of r: which
// instance a volume or address belongs to, which snapshots images and
// launch templates use.
func (c *evalCtx) index(r *inventory.Resource) {
	switch typeOf(r) {
	case typeVolume:
		for _, rel := range r.Relations {
			if rel.Kind == "attached-to" {
				c.volumes[rel.Target] = append(c.volumes[rel.Target], r)
			}
		}
	case typeAddress:
		if id := r.MetaString("instance_id"); id != "" {
			c.addresses[id] = append(c.addresses[id], r)
		}
		for _, rel := range r.Relations {
			if rel.Kind == "associated-with" && rel.Target != r.MetaString("instance_id") {
				c.addresses[rel.Target] = append(c.addresses[rel.Target], r)
			}
		}
	case typeImage, typeLaunchTpl:
		for _, rel := range r.Relations {
			c.used[rel.Target] = true
		}
		for _, id := range snapshotIDs(r) {
			c.used[id] = true
		}
	}
}

// snapshotIDs reads the snapshots an image or launch template names in
// its metadata (snapshot_ids, a list of strings).
func snapshotIDs(r *inventory.Resource) []string {
	var out []string
	switch v := r.Metadata["snapshot_ids"].(type) {
	case []string:
		out = v
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// Summary totals recommendations by rule and by account. A resource with
// several recommendations counts once in Total, at its biggest saving:
// stopping an idle instance and resizing it do not add up.
type Summary struct {
	Total     float64            `json:"total_monthly"`
	Count     int                `json:"count"`
	ByRule    []Group            `json:"by_rule"`
	ByAccount []Group            `json:"by_account"`
	ByAction  map[Action]float64 `json:"by_action"`
}

// Group is one rule's or account's recommendations.
type Group struct {
	Key     string  `json:"key"`
	Count   int     `json:"count"`
	Monthly float64 `json:"monthly"` // the resource's biggest saving counted once
}

// Summarize totals recs.
func Summarize(recs []*Recommendation) Summary {
	best := map[string]float64{}
	bestAcct := map[string]string{}
	rules, accts := map[string]*Group{}, map[string]*Group{}
	s := Summary{Count: len(recs), ByAction: map[Action]float64{}}
	for _, r := range recs {
		g := rules[r.Rule]
		if g == nil {
			g = &Group{Key: r.Rule}
			rules[r.Rule] = g
		}
		g.Count++
		g.Monthly += r.Savings.Monthly
		s.ByAction[r.Action] = round2(s.ByAction[r.Action] + r.Savings.Monthly)
		if r.Savings.Monthly >= best[r.ARN] {
			best[r.ARN] = r.Savings.Monthly
		}
		bestAcct[r.ARN] = string(r.AccountID)
		a := accts[string(r.AccountID)]
		if a == nil {
			a = &Group{Key: string(r.AccountID)}
			accts[string(r.AccountID)] = a
		}
		a.Count++
	}
	for arn, v := range best {
		s.Total += v
		accts[bestAcct[arn]].Monthly += v
	}
	s.Total = round2(s.Total)
	s.ByRule, s.ByAccount = groups(rules), groups(accts)
	return s
}

func groups(m map[string]*Group) []Group {
	out := make([]Group, 0, len(m))
	for _, g := range m {
		g.Monthly = round2(g.Monthly)
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Monthly != out[j].Monthly {
			return out[i].Monthly > out[j].Monthly
		}
		return out[i].Key < out[j].Key
	})
	return out
}
