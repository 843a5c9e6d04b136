package crossbill

import (
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"
)

// hiddenRune reports whether r must not reach a terminal or a page as is:
// C0 and C1 controls and DEL (terminal escape sequences start with them),
// bidirectional overrides, isolates and marks (they reorder what a reader
// sees, "Trojan Source"), line and paragraph separators, and invisible
// characters that make two different names look the same. ZWNJ and ZWJ
// stay allowed: scripts such as Persian and emoji sequences need them.
func hiddenRune(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f: // C0, DEL, C1
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f: // bidi marks ALM, LRM, RLM
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069: // bidi embeddings, overrides, isolates
		return true
	case r == 0x200b, r >= 0x2060 && r <= 0x2064, r == 0xfeff: // zero-width space, word joiner, invisible operators, BOM
		return true
	case r == 0x2028, r == 0x2029: // line and paragraph separators
		return true
	}
	return false
}

// CheckText accepts text a tenant supplies (names, labels, paths) only if it
// is valid UTF-8 without control, bidirectional or invisible characters; the
// error names the field and the first offending character.
func CheckText(op, field, s string) error {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return Errorf(CodeInvalid, op, "%s is not valid UTF-8 (byte %d): send UTF-8 text", field, i)
			}
		}
		if hiddenRune(r) {
			return Errorf(CodeInvalid, op, "%s has the control or invisible character %U at byte %d: remove it", field, r, i)
		}
	}
	return nil
}

// Printable returns s with every character CheckText refuses (and every
// invalid UTF-8 byte) written as an escape, \x1b or \u202e, so that text
// printed to a terminal shows what it holds and cannot move the cursor,
// recolor, forge a table row or reorder the screen.
func Printable(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || hiddenRune(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x80 && hiddenRune(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case hiddenRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// PrintableArgs returns args for a fmt format with every text argument
// (strings and string types, fmt.Stringers, errors) passed through
// Printable; numbers and other values are left to fmt. Printers of text
// that came from tenants, AWS, bills or vendors' documents format with it.
func PrintableArgs(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = a
		rv := reflect.ValueOf(a)
		switch {
		case !rv.IsValid():
		case rv.Kind() == reflect.String:
			out[i] = Printable(rv.String())
		case rv.CanInt() || rv.CanUint() || rv.CanFloat() || rv.Kind() == reflect.Bool:
			// Numbers stay numbers for %d and %.2f, even with a String method.
		default:
			switch v := a.(type) {
			case error:
				out[i] = Printable(v.Error())
			case fmt.Stringer:
				out[i] = Printable(v.String())
			}
		}
	}
	return out
}
