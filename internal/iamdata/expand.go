package iamdata

import (
	"errors"
	"strings"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/wildcard"
)

var (
	errUnknownService = errors.New("unknown service prefix")
	errNoMatch        = errors.New("no action matches")
)

// IsUnknownService reports whether err from Expand means the pattern's
// service prefix is not in the catalog.
func IsUnknownService(err error) bool { return errors.Is(err, errUnknownService) }

// IsNoMatch reports whether err from Expand means the service is known but
// no action of it matches the pattern.
func IsNoMatch(err error) bool { return errors.Is(err, errNoMatch) }

// Expand returns the actions an IAM Action element value matches, as IAM
// matches them: `*` any run of characters, `?` one character, letters
// case-insensitive, over "service:action"; "*" alone is every action.
//
// Errors have code Invalid for a malformed pattern and NotFound for an
// unknown service prefix (IsUnknownService) or a pattern that matches no
// action (IsNoMatch): such grants are reported, never dropped silently.
func (c *Catalog) Expand(pattern string) ([]Action, error) {
	const op = "expand action"
	if pattern == "*" {
		return c.All(), nil
	}
	svc, name, ok := strings.Cut(pattern, ":")
	if !ok || svc == "" || name == "" {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "%q is not an action: write service:Action, e.g. s3:GetObject", pattern)
	}
	if !wildcard.HasWildcard(svc) {
		acts := c.Actions(svc)
		if acts == nil {
			return nil, crossbill.Errorf(crossbill.CodeNotFound, op, "%s: %w %q; check the spelling, or update the catalog (go generate ./internal/iamdata)", pattern, errUnknownService, svc)
		}
		if !wildcard.HasWildcard(name) {
			if a, ok := c.Action(pattern); ok {
				return []Action{a}, nil
			}
			return nil, crossbill.Errorf(crossbill.CodeNotFound, op, "%s: %w in service %s; check the spelling, or update the catalog (go generate ./internal/iamdata)", pattern, errNoMatch, svc)
		}
		var out []Action
		for _, a := range acts {
			if wildcard.Match(name, a.Name, true) {
				out = append(out, a)
			}
		}
		if len(out) == 0 {
			return nil, crossbill.Errorf(crossbill.CodeNotFound, op, "%s: %w in service %s", pattern, errNoMatch, svc)
		}
		return out, nil
	}
	// A wildcard in the service part is legal and matches across services.
	var out []Action
	matchedService := false
	for i, s := range c.services {
		if !wildcard.Match(svc, s.Prefix, true) {
			continue
		}
		matchedService = true
		span := c.svcSpan[i]
		for _, a := range c.actions[span[0]:span[1]] {
			if wildcard.Match(name, a.Name, true) {
				out = append(out, a)
			}
		}
	}
	if !matchedService {
		return nil, crossbill.Errorf(crossbill.CodeNotFound, op, "%s: %w: no service prefix matches %q", pattern, errUnknownService, svc)
	}
	if len(out) == 0 {
		return nil, crossbill.Errorf(crossbill.CodeNotFound, op, "%s: %w", pattern, errNoMatch)
	}
	return out, nil
}
