package onboarding

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/manifest"
)

// TemplateVersion is stamped on every generated stack (a tag and the
// description), so crossbill can tell which template a customer deployed.
const TemplateVersion = "2026-11-23"

// Format is a template file format.
type Format string

// Formats. YAML is what people read; JSON is what some pipelines want.
const (
	FormatYAML Format = "yaml"
	FormatJSON Format = "json"
)

// ParseFormat checks a --format value; "" means YAML.
func ParseFormat(s string) (Format, error) {
	switch Format(strings.ToLower(s)) {
	case "", FormatYAML:
		return FormatYAML, nil
	case FormatJSON:
		return FormatJSON, nil
	}
	return "", crossbill.Errorf(crossbill.CodeInvalid, "format", "unknown template format %q: use yaml or json", s)
}

// obj is a CloudFormation object. Maps marshal with sorted keys, so
// templates are byte-for-byte reproducible.
type obj = map[string]any

func ref(name string) obj           { return obj{"Ref": name} }
func getAtt(res, attr string) obj   { return obj{"Fn::GetAtt": []any{res, attr}} }
func sub(s string) obj              { return obj{"Fn::Sub": s} }
func tag(key string, value any) obj { return obj{"Key": key, "Value": value} }

// subIfNeeded wraps a string in Fn::Sub when it names template values.
func subIfNeeded(s string) any {
	if strings.Contains(s, "${") {
		return sub(s)
	}
	return s
}

// encode writes a template tree in the given format.
func encode(tree obj, f Format) ([]byte, error) {
	switch f {
	case FormatJSON:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false) // CloudFormation reads & < > as they are
		enc.SetIndent("", "  ")
		if err := enc.Encode(tree); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, "template", "encoding JSON: %w", err)
		}
		return buf.Bytes(), nil
	case FormatYAML, "":
		var buf bytes.Buffer
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(tree); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, "template", "encoding YAML: %w", err)
		}
		if err := enc.Close(); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, "template", "encoding YAML: %w", err)
		}
		return buf.Bytes(), nil
	}
	return nil, crossbill.Errorf(crossbill.CodeInvalid, "template", "unknown format %q", f)
}

// policyDocument turns permissions into an IAM policy: one statement per
// distinct resource set and condition, actions sorted, "*" resources plain
// and ARN patterns through Fn::Sub.
func policyDocument(sidPrefix string, perms []manifest.Permission) obj {
	type group struct {
		key       string
		resources []string
		condition map[string]map[string]any
		actions   []string
	}
	var groups []*group
	byKey := map[string]*group{}
	for _, p := range perms {
		if p.NoPermission {
			continue
		}
		cond, err := json.Marshal(p.Condition) // maps marshal sorted: a stable key
		if err != nil {
			cond = []byte(fmt.Sprint(p.Condition))
		}
		key := strings.Join(p.Resources(), "|") + "#" + string(cond)
		g, ok := byKey[key]
		if !ok {
			g = &group{key: key, resources: p.Resources(), condition: p.Condition}
			byKey[key] = g
			groups = append(groups, g)
		}
		if !contains(g.actions, p.Action) {
			g.actions = append(g.actions, p.Action)
		}
	}
	var statements []any
	for i, g := range groups {
		sort.Strings(g.actions)
		st := obj{
			"Sid":    fmt.Sprintf("%s%d", sidPrefix, i+1),
			"Effect": "Allow",
			"Action": g.actions,
		}
		var res []any
		for _, r := range g.resources {
			res = append(res, subIfNeeded(r))
		}
		if len(res) == 1 {
			st["Resource"] = res[0]
		} else {
			st["Resource"] = res
		}
		if g.condition != nil {
			st["Condition"] = conditionTree(g.condition)
		}
		statements = append(statements, st)
	}
	return obj{"Version": "2012-10-17", "Statement": statements}
}

func conditionTree(c map[string]map[string]any) obj {
	out := obj{}
	for op, kv := range c {
		inner := obj{}
		for k, v := range kv {
			switch v := v.(type) {
			case string:
				inner[k] = subIfNeeded(v)
			case []string:
				var list []any
				for _, s := range v {
					list = append(list, subIfNeeded(s))
				}
				inner[k] = list
			default:
				inner[k] = v
			}
		}
		out[op] = inner
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// camel turns "access-read" into "AccessRead", for logical IDs and Sids.
func camel(s string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == '-' || r == '_' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}
