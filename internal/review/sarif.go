package review

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/url"
	"path/filepath"
	"strings"
)

// SARIF 2.1.0 output, the subset code-scanning tools read.

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID                   string            `json:"id"`
	Name                 string            `json:"name"`
	ShortDescription     sarifText         `json:"shortDescription"`
	FullDescription      sarifText         `json:"fullDescription"`
	DefaultConfiguration map[string]string `json:"defaultConfiguration"`
	Properties           map[string]any    `json:"properties,omitempty"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Properties          map[string]any    `json:"properties,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical  `json:"physicalLocation"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifLogical struct {
	FullyQualifiedName string `json:"fullyQualifiedName"`
}

// sarifLevel maps severities to SARIF levels.
func sarifLevel(s Severity) string {
	switch s {
	case SeverityCritical, SeverityHigh:
		return "error"
	case SeverityMedium:
		return "warning"
	}
	return "note"
}

// securitySeverity is the CVSS-like score GitHub code scanning reads.
func securitySeverity(s Severity) string {
	switch s {
	case SeverityCritical:
		return "9.5"
	case SeverityHigh:
		return "8.0"
	case SeverityMedium:
		return "5.5"
	case SeverityLow:
		return "3.0"
	}
	return "0.0"
}

// artifactURI turns a file name into a SARIF artifact URI: relative paths
// stay relative (resolved against the repository root by scanners).
func artifactURI(name string) string {
	p := filepath.ToSlash(name)
	if filepath.IsAbs(name) {
		return (&url.URL{Scheme: "file", Path: p}).String()
	}
	return (&url.URL{Path: p}).String()
}

// WriteSARIF renders the report as SARIF 2.1.0.
func (r Report) WriteSARIF(w io.Writer, version string) error {
	run := sarifRun{Tool: sarifTool{Driver: sarifDriver{Name: "crossbill", Version: version, InformationURI: "https://github.com/crossbill/crossbill", Rules: []sarifRule{}}}, Results: []sarifResult{}}
	index := map[string]int{}
	for _, f := range r.Findings {
		i, ok := index[f.ID]
		if !ok {
			i = len(run.Tool.Driver.Rules)
			index[f.ID] = i
			title := strings.TrimSuffix(strings.TrimSuffix(f.Title, " on any resource"), ", scoped")
			run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{
				ID: f.ID, Name: ruleName(f.ID), ShortDescription: sarifText{title}, FullDescription: sarifText{f.Why},
				DefaultConfiguration: map[string]string{"level": sarifLevel(f.Severity)},
				Properties:           map[string]any{"security-severity": securitySeverity(f.Severity), "tags": []string{"security", "iam"}},
			})
		}
		msg := f.Title
		if f.Identity != "" {
			msg = f.Identity + ": " + msg
		}
		if len(f.Actions) > 0 {
			msg += ". Actions: " + shortList(f.Actions, 20)
		}
		if len(f.Resources) > 0 {
			msg += ". Resources: " + shortList(f.Resources, 10)
		}
		msg += ". " + f.Why
		loc := sarifLocation{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: artifactURI(f.Location.File)}}}
		if f.Location.Line > 0 {
			loc.PhysicalLocation.Region = &sarifRegion{StartLine: f.Location.Line}
		}
		if f.Location.Path != "" {
			loc.LogicalLocations = []sarifLogical{{FullyQualifiedName: f.Location.Path}}
		}
		run.Results = append(run.Results, sarifResult{RuleID: f.ID, RuleIndex: i, Level: sarifLevel(f.Severity), Message: sarifText{msg}, Locations: []sarifLocation{loc},
			PartialFingerprints: map[string]string{"crossbillFinding/v1": fingerprint(f)},
			Properties:          map[string]any{"severity": string(f.Severity), "scoped": f.Scoped}})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}})
}

// fingerprint identifies a finding across runs without its line number, so
// code-scanning alerts survive edits elsewhere in the file.
func fingerprint(f Finding) string {
	h := sha256.Sum256([]byte(strings.Join([]string{f.ID, f.Identity, f.Title, f.Location.File, f.Location.Path, strings.Join(f.Actions, ",")}, "\x00")))
	return hex.EncodeToString(h[:16])
}

// ruleName turns "escalation/passrole-ec2" into "EscalationPassroleEc2".
func ruleName(id string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(id, func(r rune) bool { return r == '/' || r == '-' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}
