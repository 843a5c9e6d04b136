package review

import (
	"fmt"
	"strings"

	"github.com/crossbill/crossbill"
)

// Severity ranks a finding.
type Severity string

// Severities, lowest first.
const (
	SeverityInfo     Severity = "info"
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical"
)

// Rank orders severities: info 0 ... critical 4; unknown values rank -1.
func (s Severity) Rank() int {
	switch s {
	case SeverityInfo:
		return 0
	case SeverityLow:
		return 1
	case SeverityMedium:
		return 2
	case SeverityHigh:
		return 3
	case SeverityCritical:
		return 4
	}
	return -1
}

func (s Severity) valid() bool { return s.Rank() >= 0 }

// lower returns the next severity down (info stays info).
func (s Severity) lower() Severity {
	switch s {
	case SeverityCritical:
		return SeverityHigh
	case SeverityHigh:
		return SeverityMedium
	case SeverityMedium:
		return SeverityLow
	}
	return SeverityInfo
}

// ParseSeverity reads a severity name as given on the command line.
func ParseSeverity(s string) (Severity, error) {
	v := Severity(strings.ToLower(strings.TrimSpace(s)))
	if !v.valid() {
		return "", crossbill.Errorf(crossbill.CodeInvalid, "review", "unknown severity %q; use info, low, medium, high or critical", s)
	}
	return v, nil
}

func (s Severity) String() string { return string(s) }

// maxSeverity returns the higher of two severities.
func maxSeverity(a, b Severity) Severity {
	if b.Rank() > a.Rank() {
		return b
	}
	return a
}

var _ fmt.Stringer = SeverityLow
