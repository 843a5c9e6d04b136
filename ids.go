package crossbill

import (
	"log/slog"
	"regexp"
)

// TenantID names a tenant: one customer of a crossbill operator, or the
// operator's own organization.
type TenantID string

// ConnectionID identifies one connected AWS account or organization.
type ConnectionID string

// AccountID is a 12-digit AWS account ID.
type AccountID string

// RoleARN is the ARN of an IAM role.
type RoleARN string

// ExternalID is the sts:ExternalId crossbill generates for one connection.
// It is not a secret in AWS's model, but it is shown only where needed:
// logs get a redacted form.
type ExternalID string

// LogValue keeps the full external ID out of logs.
func (e ExternalID) LogValue() slog.Value {
	if len(e) <= 8 {
		return slog.StringValue("[redacted]")
	}
	return slog.StringValue(string(e[:8]) + "…")
}

var accountIDPattern = regexp.MustCompile(`^\d{12}$`)

// Valid reports whether a is a well-formed 12-digit account ID.
func (a AccountID) Valid() bool { return accountIDPattern.MatchString(string(a)) }
