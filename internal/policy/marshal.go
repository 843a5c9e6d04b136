package policy

import (
	"bytes"
)

// MarshalJSON writes the document in canonical form: elements in AWS's
// usual order, Statement and every value list as JSON lists, condition
// values as strings. Parse reads it back to an equal Document.
func (d *Document) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	w := jsonWriter{&b}
	b.WriteByte('{')
	first := true
	field := func(name string) {
		if !first {
			b.WriteByte(',')
		}
		first = false
		w.str(name)
		b.WriteByte(':')
	}
	if d.Version != "" {
		field("Version")
		w.str(d.Version)
	}
	if d.ID != "" {
		field("Id")
		w.str(d.ID)
	}
	field("Statement")
	b.WriteByte('[')
	for i, st := range d.Statements {
		if i > 0 {
			b.WriteByte(',')
		}
		w.statement(st)
	}
	b.WriteString("]}")
	return b.Bytes(), nil
}

type jsonWriter struct{ b *bytes.Buffer }

// str writes s as a JSON string. Parsed documents hold valid UTF-8 (the
// decoder replaces invalid bytes), so only quotes, backslashes and control
// characters need escaping.
func (w jsonWriter) str(s string) {
	const hex = "0123456789abcdef"
	w.b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			w.b.WriteByte('\\')
			w.b.WriteByte(c)
		case c < 0x20:
			w.b.WriteString(`\u00`)
			w.b.WriteByte(hex[c>>4])
			w.b.WriteByte(hex[c&0xf])
		default:
			w.b.WriteByte(c)
		}
	}
	w.b.WriteByte('"')
}

func (w jsonWriter) list(vals []string) {
	w.b.WriteByte('[')
	for i, v := range vals {
		if i > 0 {
			w.b.WriteByte(',')
		}
		w.str(v)
	}
	w.b.WriteByte(']')
}

func (w jsonWriter) statement(st Statement) {
	b := w.b
	b.WriteByte('{')
	first := true
	field := func(name string) {
		if !first {
			b.WriteByte(',')
		}
		first = false
		w.str(name)
		b.WriteByte(':')
	}
	if st.Sid != "" {
		field("Sid")
		w.str(st.Sid)
	}
	field("Effect")
	w.str(string(st.Effect))
	if st.Principal != nil {
		field("Principal")
		w.principal(st.Principal)
	}
	if st.NotPrincipal != nil {
		field("NotPrincipal")
		w.principal(st.NotPrincipal)
	}
	for _, e := range []struct {
		name string
		vals []string
	}{{"Action", st.Action}, {"NotAction", st.NotAction}, {"Resource", st.Resource}, {"NotResource", st.NotResource}} {
		if e.vals != nil {
			field(e.name)
			w.list(e.vals)
		}
	}
	if len(st.Conditions) > 0 {
		field("Condition")
		w.conditions(st.Conditions)
	}
	b.WriteByte('}')
}

func (w jsonWriter) principal(p *Principal) {
	if p.Any && p.AWS == nil && p.Service == nil && p.Federated == nil && p.CanonicalUser == nil {
		w.str("*")
		return
	}
	w.b.WriteByte('{')
	first := true
	for _, e := range []struct {
		name string
		vals []string
	}{{"AWS", p.AWS}, {"Service", p.Service}, {"Federated", p.Federated}, {"CanonicalUser", p.CanonicalUser}} {
		if e.vals == nil {
			continue
		}
		if !first {
			w.b.WriteByte(',')
		}
		first = false
		w.str(e.name)
		w.b.WriteByte(':')
		w.list(e.vals)
	}
	w.b.WriteByte('}')
}

// conditions groups conditions by operator, in order of first appearance.
func (w jsonWriter) conditions(conds []Condition) {
	var ops []string
	byOp := map[string][]Condition{}
	for _, c := range conds {
		if _, seen := byOp[c.Operator]; !seen {
			ops = append(ops, c.Operator)
		}
		byOp[c.Operator] = append(byOp[c.Operator], c)
	}
	w.b.WriteByte('{')
	for i, op := range ops {
		if i > 0 {
			w.b.WriteByte(',')
		}
		w.str(op)
		w.b.WriteString(":{")
		for j, c := range byOp[op] {
			if j > 0 {
				w.b.WriteByte(',')
			}
			w.str(c.Key)
			w.b.WriteByte(':')
			w.list(c.Values)
		}
		w.b.WriteByte('}')
	}
	w.b.WriteByte('}')
}
