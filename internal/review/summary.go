package review

import (
	"fmt"
	"sort"
	"strings"

	"github.com/crossbill/crossbill/internal/iamdata"
)

// levelOrder is the order access levels are shown in.
func levelOrder() []iamdata.Level {
	return []iamdata.Level{iamdata.LevelList, iamdata.LevelRead, iamdata.LevelWrite, iamdata.LevelTagging, iamdata.LevelPermissions}
}

func (a *analyzer) identities(ids []*analyzed, fs []Finding) []Identity {
	out := make([]Identity, 0, len(ids))
	for _, x := range ids {
		id := Identity{Kind: x.id.Kind, Name: x.id.Name, Location: x.id.Where, TrustedBy: x.trusted, Actions: len(x.held), ByLevel: map[string]int{}}
		for _, h := range x.sorted {
			id.ByLevel[string(h.action.Level)]++
			if h.action.Level != iamdata.LevelRead && h.action.Level != iamdata.LevelList {
				id.Writes = append(id.Writes, h.action.String())
			}
		}
		for _, f := range fs {
			if f.Identity == x.label {
				id.Highest = maxSeverity(id.Highest, f.Severity)
			}
		}
		out = append(out, id)
	}
	return out
}

func (a *analyzer) summary(fs []Finding, ids []*analyzed, unreviewed bool) Summary {
	s := Summary{BySeverity: map[Severity]int{}, Actions: len(a.allowed)}
	for _, f := range fs {
		s.BySeverity[f.Severity]++
		s.Highest = maxSeverity(s.Highest, f.Severity)
	}
	byLevel := map[iamdata.Level]int{}
	cats := map[string]*CategoryCount{}
	catOf := func(c string) *CategoryCount {
		if cats[c] == nil {
			cats[c] = &CategoryCount{Category: c}
		}
		return cats[c]
	}
	for _, hs := range a.allowed {
		h := hs[0]
		byLevel[h.action.Level]++
		c := catOf(a.category(h.action.Service))
		c.Actions++
		if h.action.Level != iamdata.LevelRead && h.action.Level != iamdata.LevelList {
			c.Writes++
		}
	}
	for c, n := range a.grants {
		catOf(c).Grants += n
	}
	for _, l := range levelOrder() {
		s.ByLevel = append(s.ByLevel, LevelCount{Level: string(l), Actions: byLevel[l]})
	}
	for _, c := range cats {
		s.ByCategory = append(s.ByCategory, *c)
	}
	sort.Slice(s.ByCategory, func(i, j int) bool {
		if s.ByCategory[i].Grants != s.ByCategory[j].Grants {
			return s.ByCategory[i].Grants > s.ByCategory[j].Grants
		}
		return s.ByCategory[i].Category < s.ByCategory[j].Category
	})
	s.Can, s.Cannot, s.Unknown = a.canCannot(ids, unreviewed)
	for _, f := range fs {
		if len(s.TopRisks) == 5 || f.Severity.Rank() < SeverityMedium.Rank() {
			break
		}
		who := ""
		if f.Identity != "" {
			who = f.Identity + ": "
		}
		s.TopRisks = append(s.TopRisks, fmt.Sprintf("[%s] %s%s", f.Severity, who, f.Title))
	}
	return s
}

// canCannot writes the plain-language lines of the summary, from the
// identities the vendor can use only. A capability not granted is "cannot"
// only when everything those identities hold was seen; otherwise it is
// "unknown", with the reason.
func (a *analyzer) canCannot(ids []*analyzed, unreviewed bool) (can, cannot, unknown []string) {
	allowed := map[string][]*held{}
	viaManaged := map[string][]string{} // capability text -> managed policy names
	var reasons []string
	if unreviewed {
		reasons = append(reasons, "part of the integration is not in the input")
	}
	for _, x := range ids {
		if !x.vendor {
			continue
		}
		for _, h := range x.sorted {
			allowed[h.key] = append(allowed[h.key], h)
		}
		for _, m := range x.id.ManagedARNs {
			mp, ok := a.kb.managed(m.ARN)
			name := firstNonEmpty(mp.Name, m.ARN)
			for _, c := range mp.Can {
				viaManaged[c] = appendNew(viaManaged[c], name)
			}
			if !ok || !mp.Complete {
				reasons = appendNew(reasons, "policy "+name+" is attached and not expanded")
			}
		}
	}
	for _, c := range a.kb.Capabilities {
		var hs []*held
		for _, act := range c.Actions {
			hs = append(hs, allowed[strings.ToLower(act)]...)
		}
		managed := append(append([]string(nil), viaManaged[c.Text]...), viaManaged["*"]...)
		switch {
		case len(hs) > 0:
			line := c.Text
			if _, scoped := a.split(hs); len(scoped) == len(hs) {
				line += ", limited to " + strings.Join(a.describeScopes(hs), ", ")
			}
			can = append(can, line)
		case len(managed) > 0:
			can = append(can, c.Text+" (through "+strings.Join(managed, ", ")+")")
		case len(reasons) > 0:
			unknown = append(unknown, c.Text+": unknown, because "+strings.Join(reasons, "; "))
		default:
			cannot = append(cannot, c.Text)
		}
	}
	var reads []string
	seen := map[string]bool{}
	writesByCat := map[string][]string{}
	for _, all := range allowed {
		h := all[0]
		c := a.category(h.action.Service)
		if h.action.Level != iamdata.LevelRead && h.action.Level != iamdata.LevelList {
			writesByCat[c] = append(writesByCat[c], h.action.String())
			continue
		}
		if !seen[c] {
			seen[c] = true
			reads = append(reads, c)
		}
	}
	sort.Strings(reads)
	if len(reads) > 0 {
		can = append(can, "read and list metadata in: "+strings.Join(reads, ", "))
	}
	cats := make([]string, 0, len(writesByCat))
	for c := range writesByCat {
		cats = append(cats, c)
	}
	sort.Strings(cats)
	for _, c := range cats {
		acts := writesByCat[c]
		sort.Strings(acts)
		if len(acts) > 6 {
			can = append(can, fmt.Sprintf("change %s: %d actions, e.g. %s", c, len(acts), strings.Join(acts[:5], ", ")))
		} else {
			can = append(can, fmt.Sprintf("change %s: %s", c, strings.Join(acts, ", ")))
		}
	}
	return can, cannot, unknown
}
