package review

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/crossbill/crossbill"
)

// nodeKind says what a tree node holds.
type nodeKind int

const (
	nullNode nodeKind = iota
	scalarNode
	listNode
	mapNode
)

// node is a YAML or JSON value with the line it starts on. Maps keep their
// keys in document order so findings come out in a stable, readable order.
type node struct {
	Kind nodeKind
	Str  string
	List []*node
	Keys []string
	Vals []*node
	Line int
	// KeyLines[i] is the line of Keys[i] in a map.
	KeyLines []int
}

// get returns the value under key in a map node, or nil.
func (n *node) get(key string) *node {
	if n == nil || n.Kind != mapNode {
		return nil
	}
	for i, k := range n.Keys {
		if k == key {
			return n.Vals[i]
		}
	}
	return nil
}

// items returns a list node's elements (nil for anything else).
func (n *node) items() []*node {
	if n == nil || n.Kind != listNode {
		return nil
	}
	return n.List
}

// str returns a scalar's text, or "" for anything else.
func (n *node) str() string {
	if n == nil || n.Kind != scalarNode {
		return ""
	}
	return n.Str
}

// line returns the node's line, or fallback when the node is missing.
func (n *node) line(fallback int) int {
	if n == nil || n.Line == 0 {
		return fallback
	}
	return n.Line
}

// maxNodes bounds the tree built from one document: YAML aliases can make a
// small file expand into a huge tree, and a review must not exhaust memory.
const maxNodes = 1 << 18

// maxDepth bounds nesting; real templates stay far below it.
const maxDepth = 200

// longForm maps CloudFormation's YAML short-form tags to their long keys.
func longForm(tag string) (string, bool) {
	switch tag {
	case "!Ref":
		return "Ref", true
	case "!Condition":
		return "Condition", true
	case "!Sub", "!GetAtt", "!If", "!Join", "!Select", "!Split", "!FindInMap", "!Equals", "!Not",
		"!And", "!Or", "!Base64", "!ImportValue", "!GetAZs", "!Cidr", "!Transform", "!ToJsonString", "!Length":
		return "Fn::" + tag[1:], true
	}
	return "", false
}

// parseDocument reads YAML or JSON into a tree. name is used in errors so the
// user knows which file and line to fix.
func parseDocument(name string, data []byte) (*node, error) {
	const op = "review"
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "%s: the file is empty; give a CloudFormation template or an IAM policy document", name)
	}
	// JSON allows tabs as whitespace where YAML does not; valid JSON can hold
	// a raw tab only outside strings, so turning tabs into spaces keeps its
	// meaning and lets one parser track lines for both formats.
	if trimmed := bytes.TrimSpace(data); (trimmed[0] == '{' || trimmed[0] == '[') && json.Valid(data) {
		data = bytes.ReplaceAll(data, []byte("\t"), []byte(" "))
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "%s: not valid YAML or JSON (%s); fix the syntax at that line", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "%s: no YAML or JSON document found", name)
	}
	c := converter{name: name}
	root, err := c.convert(doc.Content[0], 0)
	if err != nil {
		return nil, err
	}
	return root, nil
}

type converter struct {
	name  string
	count int
}

func (c *converter) errorf(line int, format string, args ...any) error {
	return crossbill.Errorf(crossbill.CodeInvalid, "review", "%s: line %d: %s", c.name, line, fmt.Sprintf(format, args...))
}

func (c *converter) convert(y *yaml.Node, depth int) (*node, error) {
	c.count++
	if c.count > maxNodes {
		return nil, c.errorf(y.Line, "the document expands to more than %d values (aliases?)", maxNodes)
	}
	if depth > maxDepth {
		return nil, c.errorf(y.Line, "nesting deeper than %d levels", maxDepth)
	}
	if y.Kind == yaml.AliasNode {
		if y.Alias == nil {
			return nil, c.errorf(y.Line, "alias to an unknown anchor")
		}
		n, err := c.convert(y.Alias, depth+1)
		if err != nil {
			return nil, err
		}
		return n, nil
	}
	n, err := c.plain(y, depth)
	if err != nil {
		return nil, err
	}
	long, ok := longForm(y.Tag)
	if !ok {
		return n, nil
	}
	// !GetAtt takes "Resource.Attribute" in short form; the long form is a
	// two-element list.
	if long == "Fn::GetAtt" && n.Kind == scalarNode {
		res, attr, _ := strings.Cut(n.Str, ".")
		n = &node{Kind: listNode, Line: n.Line, List: []*node{
			{Kind: scalarNode, Str: res, Line: n.Line},
			{Kind: scalarNode, Str: attr, Line: n.Line},
		}}
	}
	if n.Kind == nullNode {
		n = &node{Kind: scalarNode, Line: y.Line}
	}
	return &node{Kind: mapNode, Line: y.Line, Keys: []string{long}, Vals: []*node{n}}, nil
}

// plain converts a node ignoring its tag.
func (c *converter) plain(y *yaml.Node, depth int) (*node, error) {
	switch y.Kind {
	case yaml.ScalarNode:
		if y.Tag == "!!null" {
			return &node{Kind: nullNode, Line: y.Line}, nil
		}
		return &node{Kind: scalarNode, Str: y.Value, Line: y.Line}, nil
	case yaml.SequenceNode:
		n := &node{Kind: listNode, Line: y.Line, List: make([]*node, 0, len(y.Content))}
		for _, item := range y.Content {
			v, err := c.convert(item, depth+1)
			if err != nil {
				return nil, err
			}
			n.List = append(n.List, v)
		}
		return n, nil
	case yaml.MappingNode:
		n := &node{Kind: mapNode, Line: y.Line}
		for i := 0; i+1 < len(y.Content); i += 2 {
			k, v := y.Content[i], y.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				return nil, c.errorf(k.Line, "a mapping key must be a plain string")
			}
			val, err := c.convert(v, depth+1)
			if err != nil {
				return nil, err
			}
			n.Keys = append(n.Keys, k.Value)
			n.Vals = append(n.Vals, val)
			n.KeyLines = append(n.KeyLines, k.Line)
		}
		return n, nil
	case yaml.DocumentNode:
		if len(y.Content) == 0 {
			return &node{Kind: nullNode, Line: y.Line}, nil
		}
		return c.convert(y.Content[0], depth+1)
	}
	return nil, c.errorf(y.Line, "unsupported YAML node")
}
