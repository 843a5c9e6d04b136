// Package policy reads IAM policy documents, evaluates requests against
// them as AWS does, lists what a policy allows, and analyses trust policies.
package policy

import (
	"strings"
)

// Effect is a statement's Effect.
type Effect string

// Effects.
const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Versions of the policy language. Only 2012-10-17 knows policy variables
// such as ${aws:username}; under 2008-10-17 they are literal text.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// Document is a parsed IAM policy document (identity, resource, trust,
// boundary, SCP or RCP: they share one grammar).
type Document struct {
	Version    string // "" when absent (AWS then uses 2008-10-17)
	ID         string
	Statements []Statement
}

// Statement is one statement of a policy.
type Statement struct {
	Index        int // position in the document, 0-based
	Sid          string
	Effect       Effect
	Principal    *Principal // nil when absent
	NotPrincipal *Principal // nil when absent
	// Exactly one of Action and NotAction is non-nil.
	Action, NotAction []string
	// Both nil is legal: trust policies name no resource.
	Resource, NotResource []string
	// Conditions in the order the document writes them.
	Conditions []Condition
}

// Principal is the value of a Principal or NotPrincipal element.
type Principal struct {
	// Any is set for "*" and for {"AWS": "*"}: every principal, anonymous
	// ones included.
	Any           bool
	AWS           []string // account IDs, account roots, role/user ARNs
	Service       []string // e.g. "ec2.amazonaws.com"
	Federated     []string // OIDC provider ARN or host, SAML provider ARN, cognito-identity.amazonaws.com ...
	CanonicalUser []string
}

// Operator is a base condition operator, without the ForAnyValue: or
// ForAllValues: qualifier and the IfExists suffix.
type Operator string

// Condition operators.
const (
	StringEquals              Operator = "StringEquals"
	StringNotEquals           Operator = "StringNotEquals"
	StringEqualsIgnoreCase    Operator = "StringEqualsIgnoreCase"
	StringNotEqualsIgnoreCase Operator = "StringNotEqualsIgnoreCase"
	StringLike                Operator = "StringLike"
	StringNotLike             Operator = "StringNotLike"
	NumericEquals             Operator = "NumericEquals"
	NumericNotEquals          Operator = "NumericNotEquals"
	NumericLessThan           Operator = "NumericLessThan"
	NumericLessThanEquals     Operator = "NumericLessThanEquals"
	NumericGreaterThan        Operator = "NumericGreaterThan"
	NumericGreaterThanEquals  Operator = "NumericGreaterThanEquals"
	DateEquals                Operator = "DateEquals"
	DateNotEquals             Operator = "DateNotEquals"
	DateLessThan              Operator = "DateLessThan"
	DateLessThanEquals        Operator = "DateLessThanEquals"
	DateGreaterThan           Operator = "DateGreaterThan"
	DateGreaterThanEquals     Operator = "DateGreaterThanEquals"
	Bool                      Operator = "Bool"
	BinaryEquals              Operator = "BinaryEquals"
	IPAddress                 Operator = "IpAddress"
	NotIPAddress              Operator = "NotIpAddress"
	ArnEquals                 Operator = "ArnEquals"
	ArnLike                   Operator = "ArnLike"
	ArnNotEquals              Operator = "ArnNotEquals"
	ArnNotLike                Operator = "ArnNotLike"
	Null                      Operator = "Null"
)

// parseOperator finds a base operator by name, ignoring case.
func parseOperator(name string) (Operator, bool) {
	for _, o := range [...]Operator{
		StringEquals, StringNotEquals, StringEqualsIgnoreCase, StringNotEqualsIgnoreCase, StringLike, StringNotLike,
		NumericEquals, NumericNotEquals, NumericLessThan, NumericLessThanEquals, NumericGreaterThan, NumericGreaterThanEquals,
		DateEquals, DateNotEquals, DateLessThan, DateLessThanEquals, DateGreaterThan, DateGreaterThanEquals,
		Bool, BinaryEquals, IPAddress, NotIPAddress, ArnEquals, ArnLike, ArnNotEquals, ArnNotLike, Null,
	} {
		if strings.EqualFold(name, string(o)) {
			return o, true
		}
	}
	return "", false
}

// SetOp is a condition's set qualifier for multivalued keys.
type SetOp string

// Set qualifiers.
const (
	Single       SetOp = ""
	ForAnyValue  SetOp = "ForAnyValue"
	ForAllValues SetOp = "ForAllValues"
)

// Condition is one key test of a Condition block:
// {"ForAllValues:StringLikeIfExists": {"aws:TagKeys": ["team", "env"]}}.
type Condition struct {
	Operator string // as written, canonical case, e.g. "ForAllValues:StringLikeIfExists"
	Base     Operator
	Set      SetOp
	IfExists bool
	Key      string   // as written, e.g. "sts:ExternalId"; compared case-insensitively
	Values   []string // numbers and booleans as their JSON text
}

// ConditionsOn returns the statement's conditions on key (case-insensitive).
func (s Statement) ConditionsOn(key string) []Condition {
	var out []Condition
	for _, c := range s.Conditions {
		if strings.EqualFold(c.Key, key) {
			out = append(out, c)
		}
	}
	return out
}
