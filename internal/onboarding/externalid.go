// Package onboarding makes what a customer needs to connect an AWS account:
// external IDs, CloudFormation templates built from the permission manifest,
// and console quick-create links.
package onboarding

import (
	"crypto/rand"
	"encoding/base32"
	"regexp"
	"strings"

	"github.com/crossbill/crossbill"
)

// ExternalIDPrefix makes crossbill's external IDs recognizable in a trust
// policy or a CloudTrail event.
const ExternalIDPrefix = "cb-"

// externalIDBytes is 160 bits of randomness, above the 128 the AWS IAM guide
// asks of a third party.
const externalIDBytes = 20

// externalIDChars is the character set STS accepts for sts:ExternalId
// (2 to 1224 of them; Go's regexp caps repeat counts at 1000, so the length
// is checked apart).
var externalIDChars = regexp.MustCompile(`^[\w+=,.@:/-]*$`)

// stsExternalID reports whether STS would accept s as an external ID.
func stsExternalID(s string) bool {
	return len(s) >= 2 && len(s) <= 1224 && externalIDChars.MatchString(s)
}

// lowercase base32 without padding: letters and digits only, so the ID is
// safe in URLs, shells and YAML.
var externalIDEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewExternalID returns a fresh external ID: the prefix and 160 random bits
// from crypto/rand. crossbill makes it; the customer never chooses it.
func NewExternalID() (crossbill.ExternalID, error) {
	b := make([]byte, externalIDBytes)
	if _, err := rand.Read(b); err != nil {
		return "", crossbill.Errorf(crossbill.CodeInternal, "external id", "reading random bytes: %w", err)
	}
	return crossbill.ExternalID(ExternalIDPrefix + externalIDEncoding.EncodeToString(b)), nil
}

// ValidateExternalID checks that s is an external ID crossbill could have
// made: the prefix, then 32 base32 characters.
func ValidateExternalID(s string) error {
	rest, ok := strings.CutPrefix(s, ExternalIDPrefix)
	if !ok || len(rest) != externalIDEncoding.EncodedLen(externalIDBytes) || !stsExternalID(s) {
		return crossbill.Errorf(crossbill.CodeInvalid, "external id", "%q is not a crossbill external ID (cb- and 32 letters or digits): use the one `crossbill connect init` printed", s)
	}
	if _, err := externalIDEncoding.DecodeString(rest); err != nil {
		return crossbill.Errorf(crossbill.CodeInvalid, "external id", "%q is not a crossbill external ID: %w", s, err)
	}
	return nil
}
