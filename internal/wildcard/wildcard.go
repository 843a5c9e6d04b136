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
