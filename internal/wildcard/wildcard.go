// Package wildcard matches strings against IAM-style patterns, where `*`
// matches any run of characters (including none) and `?` exactly one.
package wildcard

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Match reports whether s matches pattern. With fold set, letters compare
// case-insensitively (IAM action names); without, exactly (ARNs).
// There is no escape character: IAM has none.
func Match(pattern, s string, fold bool) bool {
	// Iterative matching with one backtrack point: on a mismatch, retry
	// from the last `*` with it swallowing one more character. This is
	// linear in practice and never exponential.
	p, i := 0, 0
	starP, starI := -1, 0
	for i < len(s) {
		if p < len(pattern) {
			switch pattern[p] {
			case '*':
				starP, starI = p, i
				p++
				continue
			case '?':
				_, n := utf8.DecodeRuneInString(s[i:])
				p++
				i += n
				continue
			default:
				pr, pn := utf8.DecodeRuneInString(pattern[p:])
				sr, sn := utf8.DecodeRuneInString(s[i:])
				if pr == sr || (fold && equalFold(pr, sr)) {
					p += pn
					i += sn
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starI:])
		starI += n
		p, i = starP+1, starI
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

func equalFold(a, b rune) bool {
	return unicode.ToLower(a) == unicode.ToLower(b)
}

// HasWildcard reports whether pattern contains `*` or `?`.
func HasWildcard(pattern string) bool {
	return strings.ContainsAny(pattern, "*?")
}

// Segment, in a pattern given to Intersect, matches any run of
// characters without a slash: a placeholder such as an S3 bucket name in
// an ARN pattern. (It is a private-use character, never in real ARNs.)
const Segment = '\uE000'

// Intersect reports whether some string matches both patterns (exact
// comparison, no case folding); either may also hold Segment. Patterns
// here are short (ARNs), so a table over both patterns' positions is cheap.
func Intersect(a, b string) bool {
	ra, rb := []rune(a), []rune(b)
	n, m := len(ra), len(rb)
	// ok[i][j]: the suffixes a[i:] and b[j:] can match a common string.
	ok := make([][]bool, n+1)
	for i := range ok {
		ok[i] = make([]bool, m+1)
	}
	ok[n][m] = true
	for i := n; i >= 0; i-- {
		for j := m; j >= 0; j-- {
			if i == n && j == m {
				continue
			}
			var r bool
			switch {
			case i < n && ra[i] == '*':
				// The star matches nothing, or swallows b's next element.
				r = ok[i+1][j] || (j < m && ok[i][j+1])
			case j < m && rb[j] == '*':
				r = ok[i][j+1] || (i < n && ok[i+1][j])
			case i < n && ra[i] == Segment:
				r = ok[i+1][j] || (j < m && rb[j] != '/' && ok[i][j+1])
			case j < m && rb[j] == Segment:
				r = ok[i][j+1] || (i < n && ra[i] != '/' && ok[i+1][j])
			case i < n && j < m:
				r = (ra[i] == rb[j] || ra[i] == '?' || rb[j] == '?') && ok[i+1][j+1]
			}
			ok[i][j] = r
		}
	}
	return ok[0][0]
}
