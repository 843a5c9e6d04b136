package review

import (
	"strings"

	"github.com/crossbill/crossbill/internal/iamdata"
	"github.com/crossbill/crossbill/internal/policy"
)

// A condition on a resource tag limits a grant only if the identity cannot
// put that tag where it wants. An identity that may tag existing resources
// of the same type can tag any of them first; one that may tag only what it
// creates (ec2:CreateAction) satisfies the condition only on its own
// creations, which matters for reads (a snapshot it takes of any volume
// holds that volume's data) but not for writes or deletes.

// tagRight is what one tagging grant lets the identity tag.
type tagRight struct {
	types      map[string]bool // resource types ("snapshot"), "*" for any
	keys       map[string]bool // lower-case tag keys, "*" for any
	createOnly bool
}

// selfTaggable collects the tagging grants of an identity, per service.
func (a *analyzer) selfTaggable(out *analyzed) map[string][]tagRight {
	m := map[string][]tagRight{}
	for _, h := range out.sorted {
		if h.action.Level != iamdata.LevelTagging || !strings.HasPrefix(h.action.Name, "Create") && !strings.HasPrefix(h.action.Name, "Tag") && !strings.HasPrefix(h.action.Name, "Add") {
			continue
		}
		svc := tagOwner(h.action.Service)
		for _, r := range h.refs {
			right := tagRight{types: resourceTypes(r.scope.Resources), keys: map[string]bool{}}
			keys := requestTagKeys(r.scope.Conditions)
			if keys == nil {
				right.keys["*"] = true
			}
			for _, k := range keys {
				right.keys[k] = true
			}
			for _, c := range r.scope.Conditions {
				if strings.EqualFold(c.Key, "ec2:CreateAction") && !c.Base.Negated() {
					right.createOnly = true
				}
			}
			m[svc] = append(m[svc], right)
		}
	}
	return m
}

// selfTagged reports whether the identity can give the resources of grant
// s of act the tag key itself (see above).
func (a *analyzer) selfTagged(act iamdata.Action, s policy.Scope, key string) bool {
	if act.Service == "" {
		return false
	}
	read := act.Level == iamdata.LevelRead || act.Level == iamdata.LevelList
	types := resourceTypes(s.Resources)
	for _, r := range a.taggable[tagOwner(act.Service)] {
		if !r.keys["*"] && !r.keys[key] || r.createOnly && !read {
			continue
		}
		if r.types["*"] || types["*"] {
			return true
		}
		for t := range types {
			if r.types[t] {
				return true
			}
		}
	}
	return false
}

// resourceTypes returns the resource types ARN patterns name: the part of
// the resource before "/" or ":" ("snapshot" in ...:snapshot/*), "*" when
// any type (a "*" resource, no resources, or a wildcard type).
func resourceTypes(resources []string) map[string]bool {
	out := map[string]bool{}
	if len(resources) == 0 {
		out["*"] = true
	}
	for _, r := range resources {
		r = placeholder.ReplaceAllString(r, "x")
		parts := strings.SplitN(r, ":", 6)
		if len(parts) < 6 {
			out["*"] = true
			continue
		}
		typ := parts[5]
		if i := strings.IndexAny(typ, "/:"); i >= 0 {
			typ = typ[:i]
		}
		if typ == "" || strings.ContainsAny(typ, "*?") {
			out["*"] = true
			continue
		}
		out[strings.ToLower(typ)] = true
	}
	return out
}

// tagOwner returns the service whose tagging actions tag a service's
// resources: EBS direct APIs act on EC2 snapshots, tagged through EC2.
func tagOwner(svc string) string {
	svc = strings.ToLower(svc)
	if svc == "ebs" {
		return "ec2"
	}
	return svc
}

// requestTagKeys returns the tag keys a tagging grant is limited to by
// aws:RequestTag/K or aws:TagKeys conditions (lower case), nil when any.
func requestTagKeys(conds []policy.Condition) []string {
	var keys []string
	limited := false
	for _, c := range conds {
		if c.Base.Negated() || c.IfExists {
			continue
		}
		key := strings.ToLower(c.Key)
		if k, ok := strings.CutPrefix(key, "aws:requesttag/"); ok {
			limited, keys = true, append(keys, k)
		}
		if key == "aws:tagkeys" && c.Set == policy.ForAllValues {
			limited = true
			for _, v := range c.Values {
				keys = append(keys, strings.ToLower(v))
			}
		}
	}
	if !limited {
		return nil
	}
	return keys
}
