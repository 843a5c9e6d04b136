package review

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/crossbill/crossbill"
)

// Formats a report can be written in.
const (
	FormatText     = "text"
	FormatJSON     = "json"
	FormatMarkdown = "md"
	FormatSARIF    = "sarif"
)

// Write renders the report in one of the formats; version names the tool
// version in SARIF output.
func (r Report) Write(w io.Writer, format, version string) error {
	switch format {
	case FormatText, "":
		return r.WriteText(w)
	case FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case FormatMarkdown, "markdown":
		return r.WriteMarkdown(w)
	case FormatSARIF:
		return r.WriteSARIF(w, version)
	}
	return fmt.Errorf("unknown format %q; use text, json, md or sarif", format)
}

// MarshalJSON writes the report with [] for empty lists, for the CLI and
// the API alike.
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report // without this method
	return json.Marshal(plain(r.withEmptyLists()))
}

// withEmptyLists returns r with every nil list that JSON always shows set
// to an empty one, so that consumers read [] and never null.
func (r Report) withEmptyLists() Report {
	empty := func(l *[]string) {
		if *l == nil {
			*l = []string{}
		}
	}
	empty(&r.Files)
	empty(&r.Summary.Can)
	empty(&r.Summary.Cannot)
	empty(&r.Summary.Unknown)
	empty(&r.Summary.TopRisks)
	if r.Summary.ByLevel == nil {
		r.Summary.ByLevel = []LevelCount{}
	}
	if r.Summary.ByCategory == nil {
		r.Summary.ByCategory = []CategoryCount{}
	}
	if r.Identities == nil {
		r.Identities = []Identity{}
	}
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	return r
}

// errWriter keeps the first write error so rendering code stays linear. It
// escapes control, bidi and invisible characters in text arguments: names
// and conditions come from the vendor's document, which must not be able to
// drive the reviewer's terminal.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, crossbill.PrintableArgs(args)...)
	}
}

func severityCounts(s Summary) string {
	var parts []string
	for _, sev := range []Severity{SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow, SeverityInfo} {
		if n := s.BySeverity[sev]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, sev))
		}
	}
	if len(parts) == 0 {
		return "no findings"
	}
	return strings.Join(parts, ", ")
}

func levelLine(ls []LevelCount) string {
	parts := make([]string, 0, len(ls))
	for _, l := range ls {
		parts = append(parts, fmt.Sprintf("%s %d", l.Level, l.Actions))
	}
	return strings.Join(parts, " · ")
}

func trustLine(id Identity) string {
	if len(id.TrustedBy) == 0 {
		return ""
	}
	var parts []string
	for _, p := range id.TrustedBy {
		s := p.Value
		if p.Vendor != "" {
			s += " (" + p.Vendor + ")"
		}
		if p.ExternalID {
			s += " with external ID"
		}
		parts = append(parts, s)
	}
	return "trusted by " + strings.Join(parts, "; ")
}

// shortList shows at most n items and how many more there are.
func shortList(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:n], ", "), len(items)-n)
}

// WriteText renders the report for a terminal.
func (r Report) WriteText(w io.Writer) error {
	e := &errWriter{w: w}
	s := r.Summary
	e.printf("Review of %s (IAM catalog %s)\n", strings.Join(r.Files, ", "), r.Catalog)
	highest := string(s.Highest)
	if highest == "" {
		highest = "none"
	}
	e.printf("Highest severity: %s (%s)\n\n", strings.ToUpper(highest), severityCounts(s))
	e.printf("Identities:\n")
	for _, id := range r.Identities {
		e.printf("  %s %s (%s:%d): %d actions", id.Kind, id.Name, id.Location.File, id.Location.Line, id.Actions)
		if t := trustLine(id); t != "" {
			e.printf(", %s", t)
		}
		e.printf("\n")
	}
	e.printf("\nAllowed actions by level (%d distinct): %s\n", s.Actions, levelLine(s.ByLevel))
	e.printf("\n  %-26s %7s %8s %7s\n", "Category", "Grants", "Actions", "Writes")
	for _, c := range s.ByCategory {
		e.printf("  %-26s %7d %8d %7d\n", c.Category, c.Grants, c.Actions, c.Writes)
	}
	e.printf("\nThe vendor CAN:\n")
	for _, c := range s.Can {
		e.printf("  - %s\n", c)
	}
	e.printf("The vendor CANNOT:\n")
	for _, c := range s.Cannot {
		e.printf("  - %s\n", c)
	}
	if len(s.Unknown) > 0 {
		e.printf("UNKNOWN (not everything the vendor holds was seen):\n")
		for _, c := range s.Unknown {
			e.printf("  - %s\n", c)
		}
	}
	if len(s.TopRisks) > 0 {
		e.printf("\nHighest risks:\n")
		for i, t := range s.TopRisks {
			e.printf("  %d. %s\n", i+1, t)
		}
	}
	e.printf("\nFindings (%d):\n", len(r.Findings))
	for _, f := range r.Findings {
		e.printf("\n[%s] %s  (%s)\n", strings.ToUpper(string(f.Severity)), f.Title, f.ID)
		if f.Identity != "" {
			e.printf("  who:       %s\n", f.Identity)
		}
		e.printf("  where:     %s\n", f.Location)
		if len(f.Actions) > 0 {
			e.printf("  actions:   %s\n", shortList(f.Actions, 12))
		}
		if len(f.Resources) > 0 {
			e.printf("  resources: %s\n", shortList(f.Resources, 6))
		}
		e.printf("  why:       %s\n", f.Why)
	}
	return e.err
}

// mdEscape keeps table cells on one line and pipes literal.
func mdEscape(s string) string {
	return strings.NewReplacer("|", "\\|", "\n", " ").Replace(s)
}

// WriteMarkdown renders the report for a pull request or a ticket.
func (r Report) WriteMarkdown(w io.Writer) error {
	e := &errWriter{w: w}
	s := r.Summary
	highest := string(s.Highest)
	if highest == "" {
		highest = "none"
	}
	e.printf("# Third-party access review\n\n")
	e.printf("Files: %s. IAM catalog %s.\n\n", "`"+strings.Join(r.Files, "`, `")+"`", r.Catalog)
	e.printf("**Highest severity: %s** (%s)\n\n", highest, severityCounts(s))
	if len(s.TopRisks) > 0 {
		e.printf("## Highest risks\n\n")
		for i, t := range s.TopRisks {
			e.printf("%d. %s\n", i+1, mdEscape(t))
		}
		e.printf("\n")
	}
	e.printf("## What the vendor can and cannot do\n\n**Can:**\n\n")
	for _, c := range s.Can {
		e.printf("- %s\n", mdEscape(c))
	}
	e.printf("\n**Cannot:**\n\n")
	for _, c := range s.Cannot {
		e.printf("- %s\n", mdEscape(c))
	}
	if len(s.Unknown) > 0 {
		e.printf("\n**Unknown** (not everything the vendor holds was seen):\n\n")
		for _, c := range s.Unknown {
			e.printf("- %s\n", mdEscape(c))
		}
	}
	e.printf("\n## Identities\n\n| Kind | Name | Location | Actions | Trusted by |\n|---|---|---|---|---|\n")
	for _, id := range r.Identities {
		e.printf("| %s | %s | %s:%d | %d | %s |\n", id.Kind, mdEscape(id.Name), mdEscape(id.Location.File), id.Location.Line, id.Actions, mdEscape(strings.TrimPrefix(trustLine(id), "trusted by ")))
	}
	e.printf("\n## Access\n\nBy level (%d distinct actions): %s\n\n", s.Actions, levelLine(s.ByLevel))
	e.printf("| Category | Grants | Actions | Writes |\n|---|---:|---:|---:|\n")
	for _, c := range s.ByCategory {
		e.printf("| %s | %d | %d | %d |\n", c.Category, c.Grants, c.Actions, c.Writes)
	}
	e.printf("\n## Findings (%d)\n\n| Severity | Finding | Who | Where | Actions | Resources |\n|---|---|---|---|---|---|\n", len(r.Findings))
	for _, f := range r.Findings {
		e.printf("| %s | **%s** (`%s`)<br>%s | %s | `%s` | %s | %s |\n", f.Severity, mdEscape(f.Title), f.ID, mdEscape(f.Why), mdEscape(f.Identity),
			mdEscape(f.Location.String()), mdEscape(shortList(f.Actions, 12)), mdEscape(shortList(f.Resources, 6)))
	}
	return e.err
}
