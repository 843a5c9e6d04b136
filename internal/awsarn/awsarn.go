// Package awsarn parses and checks AWS ARNs, IAM role ARNs in particular.
package awsarn

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/crossbill/crossbill"
)

// Partitions crossbill knows. Others (aws-iso...) are refused: crossbill has
// never been tried there.
var partitions = []string{"aws", "aws-cn", "aws-us-gov"}

// ARN is a parsed Amazon Resource Name.
type ARN struct {
	Partition string
	Service   string
	Region    string
	Account   crossbill.AccountID
	Resource  string
}

// String puts the ARN back together.
func (a ARN) String() string {
	return "arn:" + a.Partition + ":" + a.Service + ":" + a.Region + ":" + string(a.Account) + ":" + a.Resource
}

// Parse splits an ARN into its six parts. It checks the shape only:
// "arn", a known partition, a service, and a 12-digit account when present.
func Parse(s string) (ARN, error) {
	const op = "parse arn"
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return ARN{}, crossbill.Errorf(crossbill.CodeInvalid, op, "%q is not an ARN: expected arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE, e.g. arn:aws:iam::123456789012:role/CrossbillAccess", s)
	}
	a := ARN{Partition: parts[1], Service: parts[2], Region: parts[3], Account: crossbill.AccountID(parts[4]), Resource: parts[5]}
	if !knownPartition(a.Partition) {
		return ARN{}, crossbill.Errorf(crossbill.CodeInvalid, op, "ARN %q has unknown partition %q: use one of %s", s, a.Partition, strings.Join(partitions, ", "))
	}
	if a.Service == "" {
		return ARN{}, crossbill.Errorf(crossbill.CodeInvalid, op, "ARN %q has no service", s)
	}
	if a.Account != "" && !a.Account.Valid() {
		return ARN{}, crossbill.Errorf(crossbill.CodeInvalid, op, "ARN %q: account %q is not 12 digits", s, a.Account)
	}
	if a.Resource == "" {
		return ARN{}, crossbill.Errorf(crossbill.CodeInvalid, op, "ARN %q has no resource", s)
	}
	return a, nil
}

func knownPartition(p string) bool {
	for _, k := range partitions {
		if p == k {
			return true
		}
	}
	return false
}

// PartitionOf returns the partition a region belongs to.
func PartitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	default:
		return "aws"
	}
}

// Role is a parsed IAM role ARN.
type Role struct {
	Partition string
	Account   crossbill.AccountID
	Path      string // "/" or "/a/b/"
	Name      string
}

// ARN returns the role's ARN.
func (r Role) ARN() crossbill.RoleARN {
	return crossbill.RoleARN(fmt.Sprintf("arn:%s:iam::%s:role%s%s", r.Partition, r.Account, r.Path, r.Name))
}

// IAM role names: 1-64 of [\w+=,.@-]; path segments use the same set.
var (
	roleNamePattern = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	pathPattern     = regexp.MustCompile(`^/([\x21-\x7e]*/)?$`)
)

// ParseRole parses an IAM role ARN such as
// arn:aws:iam::123456789012:role/path/Name. partition, when not empty, is
// the partition crossbill is configured for; a role in another one is refused.
func ParseRole(s, partition string) (Role, error) {
	const op = "parse role arn"
	a, err := Parse(s)
	if err != nil {
		return Role{}, err
	}
	if err := checkIAM(s, a, partition, op); err != nil {
		return Role{}, err
	}
	rest, ok := strings.CutPrefix(a.Resource, "role/")
	if !ok {
		return Role{}, crossbill.Errorf(crossbill.CodeInvalid, op, "ARN %q is not a role (resource %q): give the role ARN, arn:%s:iam::%s:role/NAME, from the stack's RoleArn output", s, a.Resource, a.Partition, a.Account)
	}
	i := strings.LastIndex(rest, "/")
	r := Role{Partition: a.Partition, Account: a.Account, Path: "/" + rest[:i+1], Name: rest[i+1:]}
	if !roleNamePattern.MatchString(r.Name) {
		return Role{}, crossbill.Errorf(crossbill.CodeInvalid, op, "ARN %q: role name %q must be 1-64 letters, digits or +=,.@_-", s, r.Name)
	}
	if len(r.Path) > 512 || !pathPattern.MatchString(r.Path) || strings.Contains(r.Path, "//") {
		return Role{}, crossbill.Errorf(crossbill.CodeInvalid, op, "ARN %q: role path %q is not a valid IAM path", s, r.Path)
	}
	return r, nil
}

func checkIAM(s string, a ARN, partition, op string) error {
	if partition != "" && a.Partition != partition {
		return crossbill.Errorf(crossbill.CodeInvalid, op, "ARN %q is in partition %q but crossbill is configured for %q: use an ARN from the %s partition or change the configured partition", s, a.Partition, partition, partition)
	}
	if a.Service != "iam" {
		return crossbill.Errorf(crossbill.CodeInvalid, op, "ARN %q is a %s ARN, not an IAM one (arn:%s:iam::ACCOUNT:...)", s, a.Service, a.Partition)
	}
	if a.Region != "" {
		return crossbill.Errorf(crossbill.CodeInvalid, op, "ARN %q has region %q: IAM ARNs have an empty region (iam::ACCOUNT)", s, a.Region)
	}
	if a.Account == "" {
		return crossbill.Errorf(crossbill.CodeInvalid, op, "ARN %q has no account ID", s)
	}
	return nil
}

// ParsePrincipal parses the hub principal a customer role trusts: an IAM
// role, an IAM user, or an account root (arn:aws:iam::123456789012:root).
// Assumed-role session ARNs are refused: trust policies cannot name them.
func ParsePrincipal(s, partition string) (ARN, error) {
	const op = "parse principal arn"
	a, err := Parse(s)
	if err != nil {
		return ARN{}, err
	}
	if err := checkIAM(s, a, partition, op); err != nil {
		return ARN{}, err
	}
	switch {
	case a.Resource == "root":
		return a, nil
	case strings.HasPrefix(a.Resource, "role/"):
		if _, err := ParseRole(s, partition); err != nil {
			return ARN{}, err
		}
		return a, nil
	case strings.HasPrefix(a.Resource, "user/"):
		name := a.Resource[strings.LastIndex(a.Resource, "/")+1:]
		if !roleNamePattern.MatchString(name) {
			return ARN{}, crossbill.Errorf(crossbill.CodeInvalid, op, "ARN %q: user name %q must be 1-64 letters, digits or +=,.@_-", s, name)
		}
		return a, nil
	}
	return ARN{}, crossbill.Errorf(crossbill.CodeInvalid, op, "ARN %q cannot be a trusted principal: give the hub's IAM role (arn:%s:iam::%s:role/NAME), IAM user, or account root; not an assumed-role session", s, a.Partition, a.Account)
}
