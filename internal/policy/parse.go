package policy

import (
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/crossbill/crossbill"
)

// maxDocument bounds the input: AWS's largest policy (an SCP or a bucket
// policy) is 20 KiB, so a megabyte is certainly not a policy.
const maxDocument = 1 << 20

// Parse reads a policy document in any legal form: Statement as one object
// or a list; Action, Resource, Principal values and condition values as a
// string or a list. Errors have code Invalid and name the element, e.g.
// "Statement[2].Effect: must be Allow or Deny" (indexes are 0-based).
//
// Strings such as "${ExternalId}" or "${MyRole.Arn}" are kept as written.
func Parse(data []byte) (*Document, error) {
	if len(data) > maxDocument {
		return nil, invalid("", "document is %d bytes; AWS policies are at most 20 KiB, is this the right file?", len(data))
	}
	// Editors on Windows save a byte-order mark; JSON has no place for it.
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	root, err := decodeJSON(data)
	if err != nil {
		return nil, invalid("", "not valid JSON: %v", err)
	}
	if root.kind != kindObject {
		return nil, invalid("", "must be a JSON object with Version and Statement, got %s", root.kind)
	}
	doc := &Document{}
	var statements *node
	for i, key := range root.keys {
		val := root.vals[i]
		switch key {
		case "Version":
			if val.kind != kindString || (val.text != Version2012 && val.text != Version2008) {
				return nil, invalid("Version", "must be %q (or the legacy %q)", Version2012, Version2008)
			}
			doc.Version = val.text
		case "Id":
			if val.kind != kindString {
				return nil, invalid("Id", "must be a string, got %s", val.kind)
			}
			doc.ID = val.text
		case "Statement":
			statements = &root.vals[i]
		default:
			return nil, invalid(key, "unknown element%s; a policy has Version, Id and Statement", hint(key, "Version", "Id", "Statement"))
		}
	}
	if statements == nil {
		return nil, invalid("Statement", "missing: a policy needs at least one statement")
	}
	switch statements.kind {
	case kindObject:
		st, err := parseStatement(*statements, "Statement", 0)
		if err != nil {
			return nil, err
		}
		doc.Statements = []Statement{st}
	case kindArray:
		if len(statements.items) == 0 {
			return nil, invalid("Statement", "is empty: a policy needs at least one statement")
		}
		for i, item := range statements.items {
			st, err := parseStatement(item, fmt.Sprintf("Statement[%d]", i), i)
			if err != nil {
				return nil, err
			}
			doc.Statements = append(doc.Statements, st)
		}
	default:
		return nil, invalid("Statement", "must be an object or a list of objects, got %s", statements.kind)
	}
	sids := map[string]int{}
	for _, st := range doc.Statements {
		if st.Sid == "" {
			continue
		}
		if prev, dup := sids[st.Sid]; dup {
			return nil, invalid(statementPath(doc, st.Index)+".Sid", "%q is also the Sid of Statement[%d]; Sids must be unique within a policy", st.Sid, prev)
		}
		sids[st.Sid] = st.Index
	}
	return doc, nil
}

func statementPath(doc *Document, i int) string {
	if len(doc.Statements) == 1 {
		return "Statement"
	}
	return fmt.Sprintf("Statement[%d]", i)
}

func invalid(path, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = path + ": " + msg
	}
	return crossbill.Errorf(crossbill.CodeInvalid, "policy parse", "%s", msg)
}

// hint suggests the element the author probably meant when only the case
// differs ("effect" for "Effect").
func hint(key string, known ...string) string {
	for _, k := range known {
		if strings.EqualFold(key, k) {
			return fmt.Sprintf(" (element names are case-sensitive: write %q)", k)
		}
	}
	return ""
}

func parseStatement(n node, path string, index int) (Statement, error) {
	st := Statement{Index: index}
	if n.kind != kindObject {
		return st, invalid(path, "must be an object, got %s", n.kind)
	}
	seenEffect := false
	for i, key := range n.keys {
		val := n.vals[i]
		p := path + "." + key
		var err error
		switch key {
		case "Sid":
			if val.kind != kindString {
				return st, invalid(p, "must be a string, got %s", val.kind)
			}
			st.Sid = val.text
		case "Effect":
			if val.kind != kindString || (val.text != string(Allow) && val.text != string(Deny)) {
				return st, invalid(p, "must be Allow or Deny")
			}
			st.Effect = Effect(val.text)
			seenEffect = true
		case "Action":
			st.Action, err = parseActions(val, p)
		case "NotAction":
			st.NotAction, err = parseActions(val, p)
		case "Resource":
			st.Resource, err = parseStrings(val, p)
		case "NotResource":
			st.NotResource, err = parseStrings(val, p)
		case "Principal":
			st.Principal, err = parsePrincipal(val, p)
		case "NotPrincipal":
			st.NotPrincipal, err = parsePrincipal(val, p)
		case "Condition":
			st.Conditions, err = parseConditions(val, p)
		default:
			return st, invalid(p, "unknown element%s; a statement has Sid, Effect, Principal, NotPrincipal, Action, NotAction, Resource, NotResource and Condition",
				hint(key, "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"))
		}
		if err != nil {
			return st, err
		}
	}
	switch {
	case !seenEffect:
		return st, invalid(path+".Effect", "missing: say Allow or Deny")
	case st.Action == nil && st.NotAction == nil:
		return st, invalid(path+".Action", "missing: a statement needs Action or NotAction")
	case st.Action != nil && st.NotAction != nil:
		return st, invalid(path+".NotAction", "a statement has Action or NotAction, not both")
	case st.Resource != nil && st.NotResource != nil:
		return st, invalid(path+".NotResource", "a statement has Resource or NotResource, not both")
	case st.Principal != nil && st.NotPrincipal != nil:
		return st, invalid(path+".NotPrincipal", "a statement has Principal or NotPrincipal, not both")
	}
	return st, nil
}

// parseStrings reads a string or a non-empty list of non-empty strings.
func parseStrings(n node, path string) ([]string, error) {
	switch n.kind {
	case kindString:
		if n.text == "" {
			return nil, invalid(path, "is empty")
		}
		return []string{n.text}, nil
	case kindArray:
		if len(n.items) == 0 {
			return nil, invalid(path, "is an empty list; give at least one value or leave the element out")
		}
		out := make([]string, len(n.items))
		for i, item := range n.items {
			if item.kind != kindString {
				return nil, invalid(fmt.Sprintf("%s[%d]", path, i), "must be a string, got %s", item.kind)
			}
			if item.text == "" {
				return nil, invalid(fmt.Sprintf("%s[%d]", path, i), "is empty")
			}
			out[i] = item.text
		}
		return out, nil
	}
	return nil, invalid(path, "must be a string or a list of strings, got %s", n.kind)
}

func parseActions(n node, path string) ([]string, error) {
	acts, err := parseStrings(n, path)
	if err != nil {
		return nil, err
	}
	for i, a := range acts {
		if a == "*" {
			continue
		}
		svc, name, ok := strings.Cut(a, ":")
		if !ok || svc == "" || name == "" || strings.ContainsAny(a, " \t\n") {
			p := path
			if n.kind == kindArray {
				p = fmt.Sprintf("%s[%d]", path, i)
			}
			return nil, invalid(p, "%q is not an action: write service:Action, e.g. s3:GetObject, or *", a)
		}
	}
	return acts, nil
}

func parsePrincipal(n node, path string) (*Principal, error) {
	if n.kind == kindString {
		if n.text != "*" {
			return nil, invalid(path, "a string principal must be \"*\"; name others as {\"AWS\": %q}", n.text)
		}
		return &Principal{Any: true}, nil
	}
	if n.kind != kindObject {
		return nil, invalid(path, "must be \"*\" or an object such as {\"AWS\": \"arn:aws:iam::123456789012:root\"}, got %s", n.kind)
	}
	if len(n.keys) == 0 {
		return nil, invalid(path, "is empty: name at least one principal")
	}
	p := &Principal{}
	for i, key := range n.keys {
		vals, err := parseStrings(n.vals[i], path+"."+key)
		if err != nil {
			return nil, err
		}
		switch key {
		case "AWS":
			p.AWS = vals
			for _, v := range vals {
				if v == "*" {
					p.Any = true
				}
			}
		case "Service":
			p.Service = vals
		case "Federated":
			p.Federated = vals
		case "CanonicalUser":
			p.CanonicalUser = vals
		default:
			return nil, invalid(path+"."+key, "unknown principal type%s; use AWS, Service, Federated or CanonicalUser",
				hint(key, "AWS", "Service", "Federated", "CanonicalUser"))
		}
	}
	return p, nil
}

func parseConditions(n node, path string) ([]Condition, error) {
	if n.kind != kindObject {
		return nil, invalid(path, "must be an object of operators, e.g. {\"StringEquals\": {\"sts:ExternalId\": \"...\"}}, got %s", n.kind)
	}
	var out []Condition
	for i, opName := range n.keys {
		opPath := path + "." + opName
		c, err := parseOperatorName(opName, opPath)
		if err != nil {
			return nil, err
		}
		block := n.vals[i]
		if block.kind != kindObject {
			return nil, invalid(opPath, "must be an object of condition keys and values, got %s", block.kind)
		}
		if len(block.keys) == 0 {
			return nil, invalid(opPath, "is empty: give at least one condition key")
		}
		for j, key := range block.keys {
			keyPath := fmt.Sprintf("%s[%q]", opPath, key)
			if key == "" {
				return nil, invalid(keyPath, "condition key is empty")
			}
			vals, err := conditionValues(block.vals[j], keyPath)
			if err != nil {
				return nil, err
			}
			if err := checkValues(c.Base, vals, keyPath); err != nil {
				return nil, err
			}
			cc := c
			cc.Key = key
			cc.Values = vals
			out = append(out, cc)
		}
	}
	return out, nil
}

// parseOperatorName splits "ForAllValues:StringLikeIfExists" into its
// parts. Operator names are matched ignoring case and kept in canonical case.
func parseOperatorName(name, path string) (Condition, error) {
	c := Condition{}
	rest := name
	if q, op, ok := strings.Cut(name, ":"); ok {
		switch {
		case strings.EqualFold(q, string(ForAnyValue)):
			c.Set = ForAnyValue
		case strings.EqualFold(q, string(ForAllValues)):
			c.Set = ForAllValues
		default:
			return c, invalid(path, "unknown qualifier %q; use ForAnyValue: or ForAllValues:", q)
		}
		rest = op
	}
	if len(rest) > len("IfExists") && strings.EqualFold(rest[len(rest)-len("IfExists"):], "IfExists") {
		c.IfExists = true
		rest = rest[:len(rest)-len("IfExists")]
	}
	base, ok := parseOperator(rest)
	if !ok {
		return c, invalid(path, "unknown condition operator %q (e.g. StringEquals, StringLike, ArnLike, Bool, IpAddress, NumericLessThan, DateGreaterThan, Null)", rest)
	}
	if base == Null && (c.IfExists || c.Set != Single) {
		return c, invalid(path, "Null takes neither IfExists nor a set qualifier")
	}
	c.Base = base
	c.Operator = string(base)
	if c.Set != Single {
		c.Operator = string(c.Set) + ":" + c.Operator
	}
	if c.IfExists {
		c.Operator += "IfExists"
	}
	return c, nil
}

func conditionValues(n node, path string) ([]string, error) {
	if s, ok := n.scalarText(); ok {
		return []string{s}, nil
	}
	if n.kind != kindArray {
		return nil, invalid(path, "must be a string, number, boolean or a list of them, got %s", n.kind)
	}
	if len(n.items) == 0 {
		return nil, invalid(path, "is an empty list; give at least one value")
	}
	out := make([]string, len(n.items))
	for i, item := range n.items {
		s, ok := item.scalarText()
		if !ok {
			return nil, invalid(fmt.Sprintf("%s[%d]", path, i), "must be a string, number or boolean, got %s", item.kind)
		}
		out[i] = s
	}
	return out, nil
}

// checkValues refuses values the operator cannot compare. Values holding
// a template placeholder or policy variable ("${...}") are left to
// evaluation, which treats them as unknown.
func checkValues(op Operator, vals []string, path string) error {
	for _, v := range vals {
		if strings.Contains(v, "${") {
			continue
		}
		var ok bool
		var want string
		switch op {
		case Bool, Null:
			ok, want = v == "true" || v == "false", "true or false"
		case NumericEquals, NumericNotEquals, NumericLessThan, NumericLessThanEquals, NumericGreaterThan, NumericGreaterThanEquals:
			_, err := strconv.ParseFloat(v, 64)
			ok, want = err == nil, "a number"
		case DateEquals, DateNotEquals, DateLessThan, DateLessThanEquals, DateGreaterThan, DateGreaterThanEquals:
			_, ok = parseDate(v)
			want = "a date (2026-01-31T00:00:00Z) or epoch seconds"
		case IPAddress, NotIPAddress:
			_, ok = parseCIDR(v)
			want = "an IP address or CIDR range"
		default:
			ok = true
		}
		if !ok {
			return invalid(path, "%q is not %s, as %s needs", v, want, op)
		}
	}
	return nil
}

// parseDate reads the date forms IAM accepts: ISO 8601 date-times, dates,
// and epoch seconds.
func parseDate(s string) (time.Time, bool) {
	if secs, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(secs, 0).UTC(), true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// parseCIDR reads an IPv4/IPv6 address or CIDR range.
func parseCIDR(s string) (netip.Prefix, bool) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	return netip.Prefix{}, false
}
