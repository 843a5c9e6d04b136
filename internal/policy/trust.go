package policy

import (
	"fmt"
	"slices"
	"strings"
)

// PrincipalKind classifies a principal named in a trust policy.
type PrincipalKind string

// Principal kinds.
const (
	KindAny           PrincipalKind = "any"            // "*": every AWS principal, anonymous included
	KindAccountRoot   PrincipalKind = "account-root"   // arn:aws:iam::123456789012:root
	KindAccount       PrincipalKind = "account"        // a bare account ID: same as its root
	KindRole          PrincipalKind = "role"           // arn:aws:iam::123456789012:role/name
	KindUser          PrincipalKind = "user"           // arn:aws:iam::123456789012:user/name
	KindAssumedRole   PrincipalKind = "assumed-role"   // arn:aws:sts::123456789012:assumed-role/role/session
	KindService       PrincipalKind = "service"        // ec2.amazonaws.com
	KindOIDC          PrincipalKind = "federated-oidc" // OIDC provider (GitHub Actions, EKS, Cognito, Google ...)
	KindSAML          PrincipalKind = "federated-saml" // SAML provider
	KindCanonicalUser PrincipalKind = "canonical-user" // S3 canonical user ID
	KindOther         PrincipalKind = "other"          // unparsed, e.g. an unresolved template parameter
)

// Severity ranks a finding.
type Severity string

// Severities, lowest first.
const (
	SeverityInfo     Severity = "info"
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical"
)

// Rank orders severities: info 0 ... critical 4 (-1 if unknown).
func (s Severity) Rank() int {
	return slices.Index([]Severity{SeverityInfo, SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}, s)
}

// TrustPrincipal is one principal a trust policy lets in.
type TrustPrincipal struct {
	Statement   int           `json:"statement"`
	Sid         string        `json:"sid,omitempty"`
	Kind        PrincipalKind `json:"kind"`
	Value       string        `json:"value"`
	Account     string        `json:"account,omitempty"`    // the principal's account, for AWS principals
	Vendor      string        `json:"vendor,omitempty"`     // known vendor owning Account, "" if none
	AWSService  bool          `json:"awsService,omitempty"` // the list marks Vendor as an AWS service (type: aws)
	SameAccount bool          `json:"sameAccount,omitempty"`
	Actions     []string      `json:"actions"`
}

// TrustFinding is one observation about a trust policy.
type TrustFinding struct {
	ID        string   `json:"id"` // stable identifier, e.g. "no-external-id"
	Severity  Severity `json:"severity"`
	Statement int      `json:"statement"`
	Principal string   `json:"principal,omitempty"` // the principal concerned, "" for the whole statement
	Message   string   `json:"message"`
}

// Trust finding IDs.
const (
	FindingWildcardPrincipal     = "wildcard-principal"
	FindingNotPrincipalAllow     = "not-principal-allow"
	FindingNoExternalID          = "no-external-id"
	FindingExternalIDWildcard    = "external-id-wildcard"
	FindingExternalIDIfExists    = "external-id-ifexists"
	FindingExternalIDShort       = "external-id-short"
	FindingExternalIDLiteral     = "external-id-literal"
	FindingExternalIDPlaceholder = "external-id-placeholder"
	FindingExternalID            = "external-id"
	FindingAccountRoot           = "account-root"
	FindingKnownVendor           = "known-vendor"
	FindingUnknownAccount        = "unknown-account"
	FindingSameAccount           = "same-account"
	FindingServiceWithoutSource  = "service-without-source"
	FindingFederated             = "federated"
	FindingOIDCNoSubject         = "oidc-without-subject"
	FindingMFARequired           = "mfa-required"
	FindingMFAIfExists           = "mfa-ifexists"
	FindingCanonicalUser         = "canonical-user"
	FindingPrincipalWildcardARN  = "principal-wildcard-arn"
)

// TrustReport is the analysis of one trust policy.
type TrustReport struct {
	Principals []TrustPrincipal `json:"principals"`
	Findings   []TrustFinding   `json:"findings"` // highest severity first, then by statement
}

// MaxSeverity returns the highest severity among the findings ("" if none).
func (r TrustReport) MaxSeverity() Severity {
	var max Severity
	for _, f := range r.Findings {
		if f.Severity.Rank() > max.Rank() {
			max = f.Severity
		}
	}
	return max
}

// minExternalIDLength is the shortest literal external ID not flagged:
// AWS suggests a UUID-like value, and crossbill's carry 128 bits.
const minExternalIDLength = 16

// ownComputeService reports whether a service assumes roles for the
// customer's own compute (instance profiles, function and task roles):
// such a service does not act for other customers, so aws:SourceArn and
// aws:SourceAccount are not expected in the trust policy.
func ownComputeService(s string) bool {
	switch strings.ToLower(s) {
	case "ec2.amazonaws.com", "lambda.amazonaws.com", "edgelambda.amazonaws.com", "ecs-tasks.amazonaws.com",
		"eks.amazonaws.com", "eks-fargate-pods.amazonaws.com", "pods.eks.amazonaws.com", "batch.amazonaws.com",
		"states.amazonaws.com", "codebuild.amazonaws.com", "build.apprunner.amazonaws.com", "tasks.apprunner.amazonaws.com":
		return true
	}
	return false
}

// AnalyzeTrust reads a role trust policy (or any resource policy with
// principals) the way a security reviewer does: who may get in, under what
// conditions, and what is missing. known may be nil (then no account is
// reported as unknown); ownAccount, the
// account the role lives in, may be "" when unknown.
func AnalyzeTrust(doc *Document, known *KnownAccounts, ownAccount string) TrustReport {
	var r TrustReport
	for _, st := range doc.Statements {
		if st.Effect != Allow {
			continue
		}
		add := func(id string, sev Severity, principal, format string, args ...any) {
			r.Findings = append(r.Findings, TrustFinding{ID: id, Severity: sev, Statement: st.Index, Principal: principal, Message: fmt.Sprintf(format, args...)})
		}
		if st.NotPrincipal != nil {
			add(FindingNotPrincipalAllow, SeverityHigh, "", "Allow with NotPrincipal lets in every principal except those listed; name the principals instead")
			continue
		}
		if st.Principal == nil {
			continue
		}
		principals := classifyPrincipals(st, known, ownAccount)
		r.Principals = append(r.Principals, principals...)
		restricted := principalRestrictions(st)
		mfa := mfaConditions(st)

		for _, p := range principals {
			switch p.Kind {
			case KindAny:
				narrowed, derived := narrowingConditions(st, known, ownAccount)
				r.Principals = append(r.Principals, derived...)
				switch {
				case len(restricted) == 0:
					add(FindingWildcardPrincipal, SeverityCritical, p.Value, "principal \"*\" with no condition on the caller: anyone with an AWS account can use this")
				case len(narrowed) > 0:
					add(FindingWildcardPrincipal, SeverityLow, p.Value, "principal \"*\", narrowed by %s: AWS grants it only to callers that match, so it is no wider than naming them", strings.Join(narrowed, " and "))
				default:
					add(FindingWildcardPrincipal, SeverityMedium, p.Value, "principal \"*\" limited only by conditions on %s; name the trusted principals instead", strings.Join(restricted, ", "))
				}
			case KindService:
				if ownComputeService(p.Value) {
					continue
				}
				if !hasAnyKey(st, "aws:SourceArn", "aws:SourceAccount", "aws:SourceOrgID", "aws:SourceOrgPaths") {
					add(FindingServiceWithoutSource, SeverityMedium, p.Value, "service principal %s without an aws:SourceArn or aws:SourceAccount condition: the service could be made to act for another account (cross-service confused deputy)", p.Value)
				}
			case KindOIDC:
				add(FindingFederated, SeverityInfo, p.Value, "web identity federation through %s", p.Value)
				if !oidcSubjectChecked(st, p.Value) {
					sev := SeverityHigh
					if strings.Contains(p.Value, "token.actions.githubusercontent.com") {
						sev = SeverityCritical
					}
					add(FindingOIDCNoSubject, sev, p.Value, "no condition on the token's subject (%s:sub): any identity the provider issues tokens to can assume the role", oidcHost(p.Value))
				}
			case KindSAML:
				add(FindingFederated, SeverityInfo, p.Value, "SAML federation through %s", p.Value)
			case KindCanonicalUser:
				add(FindingCanonicalUser, SeverityInfo, p.Value, "S3 canonical user %s", p.Value)
			case KindAccountRoot, KindAccount, KindRole, KindUser, KindAssumedRole, KindOther:
				analyzeAWSPrincipal(st, p, known.Len() > 0, add)
			}
		}
		if len(st.Principal.AWS) > 0 || st.Principal.Any {
			switch mfa {
			case mfaRequired:
				add(FindingMFARequired, SeverityInfo, "", "requires MFA (aws:MultiFactorAuthPresent or aws:MultiFactorAuthAge)")
			case mfaIfExists:
				add(FindingMFAIfExists, SeverityMedium, "", "the MFA condition uses ...IfExists, which passes when the key is absent (long-term access keys); use Bool, not BoolIfExists")
			}
		}
	}
	slices.SortStableFunc(r.Findings, func(a, b TrustFinding) int {
		if d := b.Severity.Rank() - a.Severity.Rank(); d != 0 {
			return d
		}
		return a.Statement - b.Statement
	})
	return r
}

func analyzeAWSPrincipal(st Statement, p TrustPrincipal, haveList bool, add func(string, Severity, string, string, ...any)) {
	if strings.ContainsAny(p.Value, "*?") {
		add(FindingPrincipalWildcardARN, SeverityMedium, p.Value, "AWS does not accept wildcards inside a principal ARN, so this policy is refused or names no one; use \"*\" with an aws:PrincipalArn condition, or name the principal exactly")
		return
	}
	switch {
	case p.AWSService:
		add(FindingKnownVendor, SeverityInfo, p.Value, "account %s belongs to AWS itself (%s), per the known accounts list", p.Account, p.Vendor)
	case p.Vendor != "":
		add(FindingKnownVendor, SeverityInfo, p.Value, "account %s belongs to %s, per the known accounts list", p.Account, p.Vendor)
	}
	if p.SameAccount {
		add(FindingSameAccount, SeverityInfo, p.Value, "principal in the role's own account")
		return
	}
	if p.Kind == KindAccountRoot || p.Kind == KindAccount {
		add(FindingAccountRoot, SeverityLow, p.Value, "trusts the whole account %s: any of its principals that its administrators allow can assume the role; prefer a specific role ARN", p.Account)
	}
	if haveList && p.Vendor == "" && isAccountID(p.Account) {
		add(FindingUnknownAccount, SeverityLow, p.Value, "account %s is not in the known vendor accounts list; confirm who owns it", p.Account)
	}
	if !assumesRole(st) {
		return
	}
	ext := st.ConditionsOn("sts:ExternalId")
	switch check := externalIDCheck(ext); check {
	case extMissing:
		add(FindingNoExternalID, SeverityHigh, p.Value, "cross-account trust without an sts:ExternalId condition: a third party's role can be used against this account by any of its other customers (confused deputy); require StringEquals sts:ExternalId")
	case extWildcard:
		add(FindingExternalIDWildcard, SeverityHigh, p.Value, "sts:ExternalId is tested with %s and a wildcard value, which any caller can satisfy; use StringEquals with the exact value", ext[0].Operator)
	case extIfExists:
		add(FindingExternalIDIfExists, SeverityHigh, p.Value, "sts:ExternalId is tested with %s, which passes when no external ID is sent; use StringEquals", ext[0].Operator)
	case extNegated:
		add(FindingNoExternalID, SeverityHigh, p.Value, "sts:ExternalId appears only in a negated test (%s), which does not require it; use StringEquals", ext[0].Operator)
	case extExact:
		var placeholder, short bool
		for _, c := range ext {
			for _, v := range c.Values {
				switch {
				case strings.Contains(v, "${"):
				case placeholderExternalID(v):
					placeholder = true
				case len(v) < minExternalIDLength:
					short = true
				}
			}
		}
		switch {
		case placeholder:
			add(FindingExternalIDPlaceholder, SeverityHigh, p.Value, "the external ID is a documentation placeholder, not a value: whoever deploys the template as written shares it with every other customer who did the same, which is no protection against the confused deputy; the vendor must give each customer its own value")
		case short:
			add(FindingExternalIDShort, SeverityMedium, p.Value, "the external ID is shorter than %d characters and guessable (a default or an organization ID); use a random value of at least 128 bits that the vendor generates for this customer", minExternalIDLength)
		default:
			add(FindingExternalID, SeverityInfo, p.Value, "requires an exact sts:ExternalId")
		}
	}
}

// placeholderExternalID reports whether an external ID is a documentation
// placeholder ("<EXTERNAL_ID>", "YOUR-EXTERNAL-ID", "changeme", "xxxx").
func placeholderExternalID(v string) bool {
	l := strings.ToLower(strings.TrimSpace(v))
	if l == "" || strings.ContainsAny(l, "<>") || strings.Contains(l, "{{") || strings.HasPrefix(l, "your") || strings.Contains(l, "_your") || strings.Contains(l, "-your") {
		return true
	}
	switch strings.NewReplacer("-", "", "_", "", " ", "").Replace(l) {
	case "changeme", "externalid", "placeholder", "todo", "example", "replaceme", "none", "null", "test", "default", "secret", "password":
		return true
	}
	return strings.Trim(l, string(l[0])) == "" // one character repeated: "xxxxxxxx", "00000000"
}

// assumesRole reports whether the statement allows sts:AssumeRole (the
// action the external ID protects).
func assumesRole(st Statement) bool {
	if st.NotAction != nil {
		return !matchAny(st.NotAction, func(p string) tri { return boolTri(matchAction(p, "sts:AssumeRole")) }).isYes()
	}
	return matchAny(st.Action, func(p string) tri { return boolTri(matchAction(p, "sts:AssumeRole")) }).isYes()
}

func (t tri) isYes() bool { return t == yes }

type extCheck int

const (
	extMissing extCheck = iota
	extNegated
	extIfExists
	extWildcard
	extExact
)

// externalIDCheck grades the conditions on sts:ExternalId; the strongest
// test present wins (all conditions of a statement must hold).
func externalIDCheck(conds []Condition) extCheck {
	best := extMissing
	for _, c := range conds {
		var g extCheck
		switch {
		case c.Base.negated():
			g = extNegated
		case c.IfExists:
			g = extIfExists
		case c.Set == ForAllValues:
			// ForAllValues passes on an absent key.
			g = extIfExists
		case c.Base == StringEquals || c.Base == StringEqualsIgnoreCase:
			g = extExact
		case c.Base == StringLike:
			g = extExact
			for _, v := range c.Values {
				if strings.ContainsAny(v, "*?") {
					g = extWildcard
				}
			}
		default:
			g = extWildcard
		}
		if g > best {
			best = g
		}
	}
	return best
}

type mfaCheck int

const (
	mfaNone mfaCheck = iota
	mfaIfExists
	mfaRequired
)

func mfaConditions(st Statement) mfaCheck {
	best := mfaNone
	for _, c := range st.Conditions {
		var g mfaCheck
		switch {
		case strings.EqualFold(c.Key, "aws:MultiFactorAuthPresent") && c.Base == Bool && slices.ContainsFunc(c.Values, func(v string) bool { return strings.EqualFold(v, "true") }):
			g = mfaRequired
		case strings.EqualFold(c.Key, "aws:MultiFactorAuthAge") && (c.Base == NumericLessThan || c.Base == NumericLessThanEquals):
			g = mfaRequired
		default:
			continue
		}
		if c.IfExists {
			g = mfaIfExists
		}
		if g > best {
			best = g
		}
	}
	return best
}

// narrowingConditions describes the conditions of a "*" statement that
// limit the caller to named organizations, accounts, principals, sources or
// networks, as AWS evaluates them: only positive tests count, and an ARN or
// ID whose account part is a wildcard names no one in particular. Principals
// named by aws:PrincipalArn or aws:PrincipalAccount are returned so that
// they are listed like any other trusted principal.
func narrowingConditions(st Statement, known *KnownAccounts, ownAccount string) (narrowed []string, derived []TrustPrincipal) {
	for _, c := range st.Conditions {
		if c.Base.negated() || c.IfExists || c.Base == Null || c.Set == ForAllValues || len(c.Values) == 0 {
			continue
		}
		key := strings.ToLower(c.Key)
		ok := true
		for _, v := range c.Values {
			if isPlaceholder(v) {
				continue // a template parameter: one value given at deploy time
			}
			switch key {
			case "aws:principalarn", "aws:sourcearn":
				parts := splitARN(v)
				ok = ok && len(parts) == 6 && parts[4] != "" && !strings.ContainsAny(parts[4], "*?")
			case "aws:principalaccount", "aws:sourceaccount", "aws:principalorgid", "aws:sourceorgid", "aws:sourcevpc", "aws:sourcevpce":
				ok = ok && v != "" && !strings.ContainsAny(v, "*?")
			case "aws:principalorgpaths", "aws:sourceorgpaths":
				ok = ok && strings.HasPrefix(v, "o-") && !strings.HasPrefix(v, "o-*")
			case "aws:userid":
				ok = ok && !strings.HasPrefix(v, "*")
			default:
				ok = false
			}
		}
		if !ok {
			continue
		}
		narrowed = append(narrowed, c.Key+" = "+strings.Join(c.Values, ", "))
		if key != "aws:principalarn" && key != "aws:principalaccount" {
			continue
		}
		for _, v := range c.Values {
			tp := TrustPrincipal{Statement: st.Index, Sid: st.Sid, Actions: actionList(st), Value: v}
			tp.Kind, tp.Account = classifyAWS(v)
			if tp.Account != "" {
				if vd, found := known.Vendor(tp.Account); found {
					tp.Vendor, tp.AWSService = vd.Name, vd.Type == "aws"
				}
				tp.SameAccount = ownAccount != "" && tp.Account == ownAccount
			}
			derived = append(derived, tp)
		}
	}
	return narrowed, derived
}

// isPlaceholder reports whether v is only a template placeholder, "${Name}".
func isPlaceholder(v string) bool {
	return strings.HasPrefix(v, "${") && strings.Index(v, "}") == len(v)-1
}

// principalRestrictions lists the condition keys that narrow "*" to known
// callers.
func principalRestrictions(st Statement) []string {
	var out []string
	for _, c := range st.Conditions {
		if c.Base.negated() || c.IfExists || c.Base == Null {
			continue
		}
		for _, k := range []string{"aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:PrincipalAccount", "aws:PrincipalArn", "aws:SourceAccount", "aws:SourceArn", "aws:SourceOrgID", "aws:SourceOrgPaths", "aws:SourceVpce", "aws:SourceVpc", "aws:userid", "sts:ExternalId"} {
			if strings.EqualFold(c.Key, k) && !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	return out
}

func hasAnyKey(st Statement, keys ...string) bool {
	for _, k := range keys {
		for _, c := range st.ConditionsOn(k) {
			if !c.Base.negated() && c.Base != Null {
				return true
			}
		}
	}
	return false
}

func oidcHost(provider string) string {
	if i := strings.Index(provider, "oidc-provider/"); i >= 0 {
		return provider[i+len("oidc-provider/"):]
	}
	return provider
}

// oidcSubjectChecked reports whether a condition tests the token subject
// (or, for Cognito, the identity pool audience).
func oidcSubjectChecked(st Statement, provider string) bool {
	host := strings.ToLower(oidcHost(provider))
	for _, c := range st.Conditions {
		k := strings.ToLower(c.Key)
		if c.Base.negated() || c.IfExists || c.Base == Null {
			continue
		}
		if k == host+":sub" || (host == "cognito-identity.amazonaws.com" && k == host+":aud") {
			return true
		}
	}
	return false
}

// classifyPrincipals lists the principals of one statement.
func classifyPrincipals(st Statement, known *KnownAccounts, ownAccount string) []TrustPrincipal {
	p := st.Principal
	base := TrustPrincipal{Statement: st.Index, Sid: st.Sid, Actions: actionList(st)}
	var out []TrustPrincipal
	if p.Any && len(p.AWS) == 0 {
		tp := base
		tp.Kind, tp.Value = KindAny, "*"
		out = append(out, tp)
	}
	for _, v := range p.AWS {
		tp := base
		tp.Value = v
		tp.Kind, tp.Account = classifyAWS(v)
		if tp.Account != "" {
			if v, ok := known.Vendor(tp.Account); ok {
				tp.Vendor, tp.AWSService = v.Name, v.Type == "aws"
			}
			tp.SameAccount = ownAccount != "" && tp.Account == ownAccount
		}
		out = append(out, tp)
	}
	for _, v := range p.Service {
		tp := base
		tp.Kind, tp.Value = KindService, v
		out = append(out, tp)
	}
	for _, v := range p.Federated {
		tp := base
		tp.Value = v
		tp.Kind = KindOIDC
		if strings.Contains(v, ":saml-provider/") {
			tp.Kind = KindSAML
		}
		if _, acct := classifyAWS(v); acct != "" {
			tp.Account = acct
			tp.SameAccount = ownAccount != "" && acct == ownAccount
		}
		out = append(out, tp)
	}
	for _, v := range p.CanonicalUser {
		tp := base
		tp.Kind, tp.Value = KindCanonicalUser, v
		out = append(out, tp)
	}
	return out
}

func actionList(st Statement) []string {
	if st.Action != nil {
		return st.Action
	}
	out := make([]string, len(st.NotAction))
	for i, a := range st.NotAction {
		out[i] = "NOT " + a
	}
	return out
}

// classifyAWS classifies an AWS principal value and returns its account.
// Template placeholders (${AWS::AccountId}) are kept opaque: their colons
// do not split the ARN.
func classifyAWS(v string) (PrincipalKind, string) {
	if v == "*" {
		return KindAny, ""
	}
	if isAccountID(v) {
		return KindAccount, v
	}
	parts := splitARN(v)
	if len(parts) != 6 || parts[0] != "arn" {
		return KindOther, ""
	}
	acct, res := parts[4], parts[5]
	switch {
	case parts[2] == "iam" && res == "root":
		return KindAccountRoot, acct
	case parts[2] == "iam" && strings.HasPrefix(res, "role/"):
		return KindRole, acct
	case parts[2] == "iam" && strings.HasPrefix(res, "user/"):
		return KindUser, acct
	case parts[2] == "sts" && strings.HasPrefix(res, "assumed-role/"):
		return KindAssumedRole, acct
	}
	return KindOther, acct
}

// splitARN splits an ARN into at most six parts on colons outside
// ${...} placeholders.
func splitARN(s string) []string {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(s) && len(parts) < 5; i++ {
		switch {
		case s[i] == '$' && i+1 < len(s) && s[i+1] == '{':
			depth++
		case s[i] == '}' && depth > 0:
			depth--
		case s[i] == ':' && depth == 0:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}
