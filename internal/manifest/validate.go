package manifest

import (
	"fmt"
	"regexp"
	"strings"
)

var (
	actionPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*:[A-Z][A-Za-z0-9]*$`)
	// Template values a Resource or Condition may name; the templates
	// resolve each of them.
	placeholderPattern = regexp.MustCompile(`\$\{([^}]*)\}`)
)

// allowedPlaceholders are the ${...} names templates can resolve.
func allowedPlaceholder(name string) bool {
	switch name {
	case "AWS::Partition", "AWS::AccountId", "CurBucket", "CurPrefix":
		return true
	}
	return false
}

// deprecatedPrefix reports IAM prefixes AWS retired; granting them does
// nothing today and signals a copied, stale policy.
func deprecatedPrefix(prefix string) bool {
	switch prefix {
	case "aws-portal", "awsbillingconsole":
		return true
	}
	return false
}

// needsScope reports actions known to support resource-level permissions,
// which must therefore never be granted on "*".
func needsScope(p Permission) bool {
	prefix, name, _ := strings.Cut(p.Action, ":")
	if p.Level == LevelWrite || p.Level == LevelTagging || p.Level == LevelPermissions {
		return !noResourceTypes[p.Action]
	}
	switch prefix {
	case "s3":
		return name != "ListAllMyBuckets"
	case "iam":
		switch name {
		case "ListUsers", "ListGroups", "ListRoles", "ListPolicies", "ListAccountAliases",
			"GetAccountAuthorizationDetails", "GenerateCredentialReport", "GetCredentialReport":
			return false
		}
		return true
	}
	return false
}

// Validate checks every permission (customer modules and hub) and returns
// one error per problem. known, when not nil, says whether an action exists
// in AWS's catalog (the IAM catalog package plugs in here).
func Validate(known func(action string) bool) []error {
	return validate(append(append(All(), CURAthena()...), Hub()...), known)
}

func validate(perms []Permission, known func(action string) bool) []error {
	var errs []error
	bad := func(p Permission, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s %s: %s", p.Module, p.Action, fmt.Sprintf(format, args...)))
	}
	seen := map[string]bool{}
	for _, p := range perms {
		if !p.Module.valid() && p.Module != ModuleHub {
			bad(p, "unknown module")
		}
		if !actionPattern.MatchString(p.Action) {
			bad(p, "action must be service:Action with a lowercase service and a PascalCase action, no wildcards")
		}
		prefix, _, _ := strings.Cut(p.Action, ":")
		if deprecatedPrefix(prefix) {
			bad(p, "service prefix %q is deprecated", prefix)
		}
		if known != nil && !p.NoPermission && !known(p.Action) {
			bad(p, "not in the AWS action catalog")
		}
		switch p.Level {
		case LevelList, LevelRead, LevelWrite, LevelTagging, LevelPermissions:
		default:
			bad(p, "unknown access level %q", p.Level)
		}
		if strings.TrimSpace(p.Why) == "" {
			bad(p, "no Why")
		}
		key := string(p.Module) + " " + p.Action + " " + strings.Join(p.Resources(), ",")
		if seen[key] {
			bad(p, "declared twice for the same resources")
		}
		seen[key] = true
		for _, r := range p.Resources() {
			if r == "" {
				bad(p, "empty resource")
			}
			if r == "*" && needsScope(p) {
				bad(p, "resource \"*\" but the action supports resource-level permissions: scope it")
			}
			if r != "*" && !strings.HasPrefix(r, "arn:${AWS::Partition}:") {
				bad(p, "resource %q must start with arn:${AWS::Partition}:", r)
			}
			checkPlaceholders(r, func(name string) { bad(p, "resource names unknown template value ${%s}", name) })
		}
		for op, kv := range p.Condition {
			for k, v := range kv {
				for _, s := range conditionStrings(v) {
					checkPlaceholders(s, func(name string) { bad(p, "condition %s %s names unknown template value ${%s}", op, k, name) })
				}
			}
		}
		for _, c := range p.Calls {
			if !actionPattern.MatchString(c) || !strings.HasPrefix(c, prefix+":") {
				bad(p, "call %q must be %s:OperationName", c, prefix)
			}
		}
	}
	return errs
}

func checkPlaceholders(s string, report func(name string)) {
	for _, m := range placeholderPattern.FindAllStringSubmatch(s, -1) {
		if !allowedPlaceholder(m[1]) {
			report(m[1])
		}
	}
}

// conditionStrings returns the string values of a condition value (a string
// or a list of strings).
func conditionStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []string:
		return v
	}
	return nil
}
