package review

import (
	"regexp"
	"strconv"
	"strings"
)

// scope is what intrinsic functions can refer to in one template.
type scope struct {
	params map[string]bool
	// defaults holds the Default of parameters that have one: a reviewer
	// reads the template as it deploys when nobody overrides it, so a
	// vendor account or an external ID given as a default is named.
	defaults  map[string]*node
	resources map[string]string // logical ID -> type
	mappings  *node
}

func newScope(tmpl *node) *scope {
	s := &scope{params: map[string]bool{}, defaults: map[string]*node{}, resources: map[string]string{}, mappings: tmpl.get("Mappings")}
	if p := tmpl.get("Parameters"); p != nil && p.Kind == mapNode {
		for i, k := range p.Keys {
			s.params[k] = true
			d := p.Vals[i].get("Default")
			if d == nil || d.Kind != scalarNode || d.Str == "" {
				continue
			}
			if typ := p.Vals[i].get("Type").str(); typ == "CommaDelimitedList" || strings.HasPrefix(typ, "List<") {
				list := &node{Kind: listNode, Line: d.Line}
				for _, part := range strings.Split(d.Str, ",") {
					list.List = append(list.List, scalar(strings.TrimSpace(part), d.Line))
				}
				s.defaults[k] = list
				continue
			}
			s.defaults[k] = d
		}
	}
	if r := tmpl.get("Resources"); r != nil && r.Kind == mapNode {
		for i, k := range r.Keys {
			s.resources[k] = r.Vals[i].get("Type").str()
		}
	}
	return s
}

// resolve returns n with intrinsic functions replaced by readable strings:
// parameters and resources become ${Name}, attributes ${Name.Attr}, pseudo
// parameters ${AWS::AccountId}; AWS::Partition becomes "aws" so that ARNs
// read naturally. A nil result means AWS::NoValue (the value is dropped).
// Inside lists, Fn::If contributes both branches, because a reviewer must
// see everything either branch could grant; elsewhere it takes the first
// branch that has a value.
func (s *scope) resolve(n *node) *node {
	return s.resolveDepth(n, 0)
}

func (s *scope) resolveDepth(n *node, depth int) *node {
	if n == nil || depth > maxDepth {
		return n
	}
	switch n.Kind {
	case listNode:
		out := &node{Kind: listNode, Line: n.Line}
		for _, item := range n.List {
			if fn, arg := intrinsic(item); fn == "Fn::If" && arg.Kind == listNode && len(arg.List) == 3 {
				for _, branch := range arg.List[1:] {
					appendResolved(out, s.resolveDepth(branch, depth+1), true)
				}
				continue
			}
			fn, _ := intrinsic(item)
			appendResolved(out, s.resolveDepth(item, depth+1), fn != "")
		}
		return out
	case mapNode:
		if fn, arg := intrinsic(n); fn != "" {
			return s.call(fn, arg, n.Line, depth)
		}
		out := &node{Kind: mapNode, Line: n.Line}
		for i, k := range n.Keys {
			val := n.Vals[i]
			if fn, _ := intrinsic(val); fn == "Fn::If" && listKey(k) {
				// A principal, action or resource chosen by a condition:
				// the reviewer must see every branch, as in a list.
				val = &node{Kind: listNode, Line: val.Line, List: []*node{val}}
			}
			v := s.resolveDepth(val, depth+1)
			if v == nil {
				continue
			}
			out.Keys = append(out.Keys, k)
			out.Vals = append(out.Vals, v)
		}
		return out
	}
	return n
}

// listKey reports whether a policy element takes a list, so that an
// Fn::If there stands for both branches.
func listKey(k string) bool {
	switch k {
	case "AWS", "Service", "Federated", "CanonicalUser", "Action", "NotAction", "Resource", "NotResource":
		return true
	}
	return false
}

// appendResolved adds v to list out; a list that a function (an If branch,
// a Split) produced in place of one element is flattened into out.
func appendResolved(out, v *node, fromFunction bool) {
	if v == nil {
		return
	}
	if fromFunction && v.Kind == listNode {
		out.List = append(out.List, v.List...)
		return
	}
	out.List = append(out.List, v)
}

// intrinsic reports whether n is a one-key map naming an intrinsic function.
func intrinsic(n *node) (string, *node) {
	if n == nil || n.Kind != mapNode || len(n.Keys) != 1 {
		return "", nil
	}
	k := n.Keys[0]
	if k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::") {
		return k, n.Vals[0]
	}
	return "", nil
}

func scalar(s string, line int) *node { return &node{Kind: scalarNode, Str: s, Line: line} }

func (s *scope) call(fn string, arg *node, line, depth int) *node {
	switch fn {
	case "Ref":
		return s.ref(arg.str(), line)
	case "Fn::GetAtt":
		parts := s.strings(arg, depth)
		return scalar("${"+strings.Join(parts, ".")+"}", line)
	case "Fn::Sub":
		return s.sub(arg, line, depth)
	case "Fn::Join":
		if arg.Kind != listNode || len(arg.List) != 2 {
			return scalar("${Join}", line)
		}
		delim := s.text(arg.List[0], depth)
		return scalar(strings.Join(s.strings(arg.List[1], depth), delim), line)
	case "Fn::Select":
		if arg.Kind != listNode || len(arg.List) != 2 {
			return scalar("${Select}", line)
		}
		i, err := strconv.Atoi(s.text(arg.List[0], depth))
		list := s.resolveDepth(arg.List[1], depth+1)
		if err != nil || list == nil || list.Kind != listNode || i < 0 || i >= len(list.List) {
			return scalar("${Select}", line)
		}
		return list.List[i]
	case "Fn::Split":
		if arg.Kind != listNode || len(arg.List) != 2 {
			return scalar("${Split}", line)
		}
		out := &node{Kind: listNode, Line: line}
		for _, part := range strings.Split(s.text(arg.List[1], depth), s.text(arg.List[0], depth)) {
			out.List = append(out.List, scalar(part, line))
		}
		return out
	case "Fn::If":
		if arg.Kind != listNode || len(arg.List) != 3 {
			return scalar("${If}", line)
		}
		if v := s.resolveDepth(arg.List[1], depth+1); v != nil {
			return v
		}
		return s.resolveDepth(arg.List[2], depth+1)
	case "Fn::FindInMap":
		return s.findInMap(arg, line, depth)
	case "Fn::Base64":
		return s.resolveDepth(arg, depth+1)
	case "Fn::ImportValue":
		return scalar("${ImportValue:"+s.text(arg, depth)+"}", line)
	case "Fn::GetAZs":
		return scalar("${GetAZs}", line)
	}
	// Conditions, Cidr, Transform and language extensions yield no value a
	// policy reviewer can use; keep a marker naming the function.
	return scalar("${"+strings.TrimPrefix(fn, "Fn::")+"}", line)
}

func (s *scope) ref(name string, line int) *node {
	switch name {
	case "AWS::NoValue":
		return nil
	case "AWS::Partition":
		return scalar("aws", line)
	case "AWS::URLSuffix":
		return scalar("amazonaws.com", line)
	}
	if d, ok := s.defaults[name]; ok {
		return d
	}
	return scalar("${"+name+"}", line)
}

// text resolves n and returns it as one string.
func (s *scope) text(n *node, depth int) string {
	return textOf(s.resolveDepth(n, depth+1))
}

// strings resolves n and returns its elements as strings.
func (s *scope) strings(n *node, depth int) []string {
	return stringsOf(s.resolveDepth(n, depth+1))
}

// textOf returns a resolved value as one string. It never resolves again:
// re-resolving at every level of nested functions would cost exponential time.
func textOf(v *node) string {
	if v == nil {
		return ""
	}
	if v.Kind == listNode {
		return strings.Join(stringsOf(v), ",")
	}
	return v.Str
}

// stringsOf returns the scalar elements of a resolved value.
func stringsOf(v *node) []string {
	if v == nil {
		return nil
	}
	if v.Kind != listNode {
		return []string{v.Str}
	}
	out := make([]string, 0, len(v.List))
	for _, item := range v.List {
		if item.Kind == scalarNode {
			out = append(out, item.Str)
		}
	}
	return out
}

var subVar = regexp.MustCompile(`\$\{([^}]*)\}`)

// sub resolves Fn::Sub: variables given in the map form are replaced by
// their resolved values, ${!Literal} loses its "!", pseudo parameters that
// read better as text are replaced, and other variables stay as ${Name}.
func (s *scope) sub(arg *node, line, depth int) *node {
	tmpl, vars := arg, (*node)(nil)
	if arg.Kind == listNode && len(arg.List) == 2 {
		tmpl, vars = arg.List[0], arg.List[1]
	}
	if tmpl.Kind != scalarNode {
		return scalar("${Sub}", line)
	}
	out := subVar.ReplaceAllStringFunc(tmpl.Str, func(m string) string {
		name := m[2 : len(m)-1]
		if strings.HasPrefix(name, "!") {
			return "${" + name[1:] + "}"
		}
		if v := vars.get(name); v != nil {
			return s.text(v, depth)
		}
		if r := s.ref(name, line); r != nil {
			return r.Str
		}
		return ""
	})
	return scalar(out, line)
}

func (s *scope) findInMap(arg *node, line, depth int) *node {
	if arg.Kind != listNode || len(arg.List) < 3 {
		return scalar("${FindInMap}", line)
	}
	m := s.mappings.get(s.text(arg.List[0], depth))
	v := m.get(s.text(arg.List[1], depth)).get(s.text(arg.List[2], depth))
	if v == nil {
		return scalar("${FindInMap:"+s.text(arg.List[0], depth)+"}", line)
	}
	return s.resolveDepth(v, depth+1)
}
