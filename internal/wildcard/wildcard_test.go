package wildcard_test

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/crossbill/crossbill/internal/wildcard"
)

func TestMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, s string
		fold, want bool
	}{
		{"*", "", false, true},
		{"*", "anything", false, true},
		{"", "", false, true},
		{"", "a", false, false},
		{"ec2:Describe*", "ec2:DescribeInstances", false, true},
		{"ec2:describe*", "EC2:DescribeInstances", true, true},
		{"ec2:describe*", "ec2:DescribeInstances", false, false},
		{"s3:Get*Acl", "s3:GetBucketAcl", true, true},
		{"s3:Get*Acl", "s3:GetBucketAclPolicy", true, false},
		{"iam:?etRole", "iam:GetRole", true, true},
		{"iam:?etRole", "iam:SetRole", true, true},
		{"iam:?etRole", "iam:etRole", true, false},
		{"iam:?etRole", "iam:GGetRole", true, false},
		{"arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b/c", false, true},
		{"arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket", false, false},
		{"arn:aws:s3:::bucket*", "arn:aws:s3:::bucket", false, true},
		{"a*b*c", "aXbYc", false, true},
		{"a*b*c", "aXbY", false, false},
		{"a**c", "ac", false, true},
		{"?", "é", false, true},
		{"??", "é", false, false},
		{"*a", "aaaa", false, true},
		{"*ab", "aaab", false, true},
		{"*ab", "aaaba", false, false},
	}
	for _, tt := range tests {
		if got := wildcard.Match(tt.pattern, tt.s, tt.fold); got != tt.want {
			t.Errorf("Match(%q, %q, fold=%v) = %v, want %v", tt.pattern, tt.s, tt.fold, got, tt.want)
		}
	}
}

// FuzzMatch checks Match against a regular expression built from the
// pattern, which is slow but obviously right.
func FuzzMatch(f *testing.F) {
	for _, seed := range [][2]string{
		{"ec2:Describe*", "ec2:DescribeInstances"},
		{"s3:Get*Acl", "s3:getbucketacl"},
		{"iam:?etRole", "iam:GetRole"},
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b/k"},
		{"*?*", "é"},
		{"a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaa"},
	} {
		f.Add(seed[0], seed[1], false)
		f.Add(seed[0], seed[1], true)
	}
	f.Fuzz(func(t *testing.T, pattern, s string, fold bool) {
		if !utf8.ValidString(pattern) || !utf8.ValidString(s) {
			t.Skip()
		}
		var re strings.Builder
		re.WriteString(`^`)
		if fold {
			re.WriteString(`(?i)`)
		}
		re.WriteString(`(?s)`)
		for _, r := range pattern {
			switch r {
			case '*':
				re.WriteString(`.*`)
			case '?':
				re.WriteString(`.`)
			default:
				re.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
		re.WriteString(`$`)
		want := regexp.MustCompile(re.String()).MatchString(s)
		if fold {
			// regexp's (?i) uses full Unicode folding; Match folds by
			// lower-casing. Compare only where both agree on ASCII.
			if !isASCII(pattern) || !isASCII(s) {
				t.Skip()
			}
		}
		if got := wildcard.Match(pattern, s, fold); got != want {
			t.Fatalf("Match(%q, %q, %v) = %v, regexp says %v", pattern, s, fold, got, want)
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func TestIntersect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want bool
	}{
		{"*", "anything", true},
		{"arn:*:s3:::*/*", "arn:aws:s3:::bucket", false},
		{"arn:*:s3:::*/*", "arn:aws:s3:::bucket/*", true},
		{"arn:*:s3:::*", "arn:aws:s3:::bucket", true},
		{"arn:*:ec2:*:*:instance/*", "arn:aws:s3:::bucket/*", true}, // a `*` spans colons
		{"arn:*:ec2:*:*:instance/?", "arn:aws:s3:::bucket/?", false},
		{"a?c", "*b*", true},
		{"a?c", "abd", false},
		{"*x", "y*", true},
		{"x*", "y*", false},
		{"", "*", true},
		{"", "?", false},
		{"\uE000", "cur/*", false},
		{"\uE000", "cur*", true},
		{"\uE000/*", "cur/*", true},
		{"a\uE000b", "a?b", true},
		{"a\uE000b", "a/b", false},
		{"a\uE000\uE000", "a*", true},
	}
	for _, tt := range tests {
		if got := wildcard.Intersect(tt.a, tt.b); got != tt.want {
			t.Errorf("Intersect(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if got := wildcard.Intersect(tt.b, tt.a); got != tt.want {
			t.Errorf("Intersect(%q, %q) = %v, want %v (symmetry)", tt.b, tt.a, got, tt.want)
		}
	}
}

// FuzzIntersect checks Intersect against witnesses: a string built from
// one pattern that the other matches proves the intersection non-empty,
// and Intersect must then say so; a true answer must be symmetric.
func FuzzIntersect(f *testing.F) {
	f.Add("arn:*:s3:::*/*", "arn:aws:s3:::b/k")
	f.Add("a*b?c", "*")
	f.Fuzz(func(t *testing.T, a, b string) {
		if !utf8.ValidString(a) || !utf8.ValidString(b) || len(a) > 64 || len(b) > 64 {
			t.Skip()
		}
		got := wildcard.Intersect(a, b)
		if got != wildcard.Intersect(b, a) {
			t.Fatalf("Intersect(%q, %q) is not symmetric", a, b)
		}
		for _, fill := range []string{"", "x", "/"} {
			for _, w := range []string{witness(a, fill), witness(b, fill)} {
				if wildcard.Match(a, w, false) && wildcard.Match(b, w, false) && !got {
					t.Fatalf("Intersect(%q, %q) = false, but %q matches both", a, b, w)
				}
			}
		}
	})
}

// witness replaces a pattern's wildcards: `*` by fill, `?` by "x".
func witness(p, fill string) string {
	return strings.NewReplacer("*", fill, "?", "x").Replace(p)
}
