package policy

import (
	"strings"
	"testing"

	"github.com/crossbill/crossbill/internal/wildcard"
)

func TestResolve(t *testing.T) {
	t.Parallel()
	ctx := newContext(map[string][]string{"aws:username": {"ana"}, "aws:PrincipalTag/team": nil, "multi": {"a", "b"}})
	tests := []struct {
		in, out           string
		unresolved, known bool
	}{
		{"arn:aws:s3:::b/${aws:username}/*", "arn:aws:s3:::b/ana/*", false, true},
		{"arn:aws:s3:::b/${AWS:UserName}/*", "arn:aws:s3:::b/ana/*", false, true},
		{"${aws:PrincipalTag/team}", "", false, false},
		{"${aws:PrincipalTag/team, 'none'}", "none", false, true},
		{"${aws:userid}", "*", true, true},
		{"${multi}", "*", true, true},
		{"a${*}b", "a*b", false, true},
		{"unterminated ${aws:username", "unterminated ${aws:username", false, true},
	}
	for _, tt := range tests {
		out, unresolved, known := resolve(tt.in, Version2012, ctx)
		if out != tt.out || unresolved != tt.unresolved || known != tt.known {
			t.Errorf("resolve(%q) = %q, %v, %v; want %q, %v, %v", tt.in, out, unresolved, known, tt.out, tt.unresolved, tt.known)
		}
	}
	if out, _, _ := resolve("${aws:username}", Version2008, ctx); out != "${aws:username}" {
		t.Errorf("2008-10-17 substituted: %q", out)
	}
}

// FuzzMatchARN checks the ARN matchers against the plain glob: a
// component-by-component match (ArnLike) is also a whole-string match, and
// without variables a Resource match is exactly the glob.
func FuzzMatchARN(f *testing.F) {
	f.Add("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/key")
	f.Add("arn:aws:iam::*:role/*", "arn:aws:iam::111122223333:role/a/b")
	f.Add("arn:aws:*:role/*", "arn:aws:iam::111122223333:role/x")
	f.Add("arn:aws:s3:::b/${aws:username}/*", "arn:aws:s3:::b/ana/x")
	f.Add("*", "")
	f.Fuzz(func(t *testing.T, pattern, arn string) {
		if matchARN(pattern, arn) && !wildcard.Match(pattern, arn, false) {
			t.Fatalf("matchARN(%q, %q) but the whole glob does not match", pattern, arn)
		}
		ctx := newContext(map[string][]string{"aws:username": {"ana"}})
		got := matchResource(pattern, arn, Version2012, ctx)
		if !strings.Contains(pattern, "${") {
			want := no
			if wildcard.Match(pattern, arn, false) {
				want = yes
			}
			if got != want {
				t.Fatalf("matchResource(%q, %q) = %d, want %d", pattern, arn, got, want)
			}
		}
	})
}
