package manifest

import (
	"fmt"
	"strings"
)

// Markdown renders the annex for a security reviewer.
func (a Annex) Markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	var names []string
	for _, m := range a.Modules {
		names = append(names, string(m.Module))
	}
	w("# crossbill AWS access annex\n\n")
	w("Modules: %s. Generated from crossbill's permission manifest: the same source that builds the CloudFormation policies.\n\n", strings.Join(names, ", "))

	w("## How crossbill gets in\n\n")
	for _, s := range a.AccessPath {
		w("- %s\n", s)
	}
	w("\n## What crossbill can do\n\n")
	for _, s := range a.CanDo {
		w("- %s\n", s)
	}
	w("\n## What crossbill cannot do\n\n")
	for _, s := range a.CannotDo {
		w("- %s\n", s)
	}

	w("\n## Permissions by module\n")
	for _, m := range a.Modules {
		mode := "read-only"
		if !m.ReadOnly {
			mode = "includes writes"
		}
		w("\n### %s (%s)\n\n%s\n\n", m.Module, mode, m.Summary)
		if m.Preview != "" {
			w("**%s**\n\n", m.Preview)
		}
		w("Used by: %s.\n\nVerification probe: %s\n\n", orNone(strings.Join(m.Features, "; ")), m.Probe)
		if len(m.Actions) > 0 {
			w("| Action | Level | Resource | Condition | Why | Cost | Used by |\n|---|---|---|---|---|---|---|\n")
			for _, x := range m.Actions {
				w("| `%s` | %s | %s | %s | %s | %s | %s |\n", x.Action, x.Level, cell(strings.Join(x.Resources, ", ")), cell(x.Condition), cell(x.Why), cell(x.Cost), cell(strings.Join(x.UsedBy, "; ")))
			}
		}
		for _, o := range m.Options {
			w("\n#### Option: %s\n\n%s\n\nEnabled by: %s.\n\nVerification probe: %s\n\n", o.Name, o.Summary, o.EnabledBy, o.Probe)
			w("| Action | Level | Resource | Why | Cost | Used by |\n|---|---|---|---|---|---|\n")
			for _, x := range o.Actions {
				w("| `%s` | %s | %s | %s | %s | %s |\n", x.Action, x.Level, cell(strings.Join(x.Resources, ", ")), cell(x.Why), cell(x.Cost), cell(strings.Join(x.UsedBy, "; ")))
			}
		}
		if len(m.Pending) > 0 {
			w("\nDeclared but not granted until the feature that calls them lands:\n\n| Action | Issue | Feature |\n|---|---|---|\n")
			for _, p := range m.Pending {
				w("| `%s` | %s | %s |\n", p.Action, cell(p.Issue), cell(p.Feature))
			}
		}
	}

	w("\n## Cost impact on your AWS bill\n\n")
	if len(a.Cost.Items) == 0 {
		w("None: every call these modules make is free.\n")
	} else {
		w("| Item | Unit | Unit price (USD) | Units a month | USD a month | Basis |\n|---|---|---|---|---|---|\n")
		for _, it := range a.Cost.Items {
			w("| %s | %s | %s | %s | %.2f | %s |\n", cell(it.What), it.Unit, trimFloat(it.UnitUSD), trimFloat(it.MonthlyUnits), it.MonthlyUSD, cell(it.Basis))
		}
		w("| **Total** | | | | **%.2f** | |\n", a.Cost.MonthlyUSD)
	}
	if len(a.Cost.Assumptions) > 0 {
		w("\n")
		for _, s := range a.Cost.Assumptions {
			w("- %s\n", s)
		}
	}

	if a.Sharing != nil {
		w("\n## Commitment-sharing organization (optional)\n\nWith commitments-purchase, crossbill's hub may invite the account into its AWS Organization to share the commitments it buys. Accepting is the customer's action:\n\n")
		for _, m := range a.Sharing.Meaning {
			w("- %s\n", m)
		}
		w("\nThe service control policy the hub attaches to enrolled accounts (reviewed by `crossbill review`):\n\n```json\n%s```\n", a.Sharing.SCP)
	}
	w("\n## SOC 2 and ISO/IEC 27001\n\n%s\n\n", a.Note)
	w("| Framework | Control | How the integration supports it |\n|---|---|---|\n")
	for _, c := range a.Compliance {
		w("| %s | %s | %s |\n", c.Framework, c.Control, cell(c.Supports))
	}
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "none yet"
	}
	return s
}

// cell makes text safe inside a Markdown table cell.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

func trimFloat(f float64) string {
	s := fmt.Sprintf("%.5f", f)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
