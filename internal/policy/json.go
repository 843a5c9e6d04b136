package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// node is a JSON value decoded in document order, so that duplicate
// object keys can be refused (encoding/json would keep the last silently)
// and errors can name elements in the order the author wrote them.
type node struct {
	kind  kind
	text  string // string value, or a number's literal text
	bool  bool
	items []node   // array
	keys  []string // object keys, in order
	vals  []node   // object values, parallel to keys
}

type kind uint8

const (
	kindNull kind = iota
	kindString
	kindNumber
	kindBool
	kindArray
	kindObject
)

func (k kind) String() string {
	return [...]string{"null", "a string", "a number", "a boolean", "a list", "an object"}[k]
}

// decodeJSON decodes exactly one JSON value from data.
func decodeJSON(data []byte) (node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n, err := decodeNode(dec)
	if err != nil {
		return node{}, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return node{}, fmt.Errorf("unexpected data after the policy document")
	}
	return n, nil
}

func decodeNode(dec *json.Decoder) (node, error) {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return node{}, fmt.Errorf("unexpected end of JSON")
		}
		return node{}, err
	}
	switch t := tok.(type) {
	case nil:
		return node{kind: kindNull}, nil
	case string:
		return node{kind: kindString, text: t}, nil
	case json.Number:
		return node{kind: kindNumber, text: t.String()}, nil
	case bool:
		return node{kind: kindBool, bool: t}, nil
	case json.Delim:
		switch t {
		case '[':
			n := node{kind: kindArray, items: []node{}}
			for dec.More() {
				item, err := decodeNode(dec)
				if err != nil {
					return node{}, err
				}
				n.items = append(n.items, item)
			}
			if _, err := dec.Token(); err != nil {
				return node{}, err
			}
			return n, nil
		case '{':
			n := node{kind: kindObject}
			seen := map[string]bool{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return node{}, err
				}
				key, ok := kt.(string)
				if !ok {
					return node{}, fmt.Errorf("object key is not a string")
				}
				if seen[key] {
					return node{}, fmt.Errorf("duplicate key %q: AWS keeps only one of them, so say it once", key)
				}
				seen[key] = true
				val, err := decodeNode(dec)
				if err != nil {
					return node{}, err
				}
				n.keys = append(n.keys, key)
				n.vals = append(n.vals, val)
			}
			if _, err := dec.Token(); err != nil {
				return node{}, err
			}
			return n, nil
		}
	}
	return node{}, fmt.Errorf("unexpected JSON token %v", tok)
}

// scalarText returns the text of a string, number or boolean.
func (n node) scalarText() (string, bool) {
	switch n.kind {
	case kindString, kindNumber:
		return n.text, true
	case kindBool:
		if n.bool {
			return "true", true
		}
		return "false", true
	}
	return "", false
}
