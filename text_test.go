package crossbill

import "testing"

func TestCheckText(t *testing.T) {
	for _, s := range []string{"ci deploy", "Zoë's token", "財務", "نیم\u200cفاصله", "👩\u200d💻", "a\\b"} {
		if err := CheckText("op", "name", s); err != nil {
			t.Errorf("CheckText(%q) = %v, want nil", s, err)
		}
	}
	for _, s := range []string{"\x1b[2J", "a\tb", "line\nbreak", "\x7f", "\u009b31m", "evil\u202etxt.exe", "x\u2066y", "zero\u200bwidth", "\ufeffbom", "bad\xffutf8", "sep\u2028x"} {
		err := CheckText("token create", "name", s)
		if ErrorCode(err) != CodeInvalid {
			t.Errorf("CheckText(%q) = %v, want an invalid error", s, err)
		}
	}
	if err := CheckText("token create", "name", "a\x1bb"); err == nil || err.Error() != "token create: name has the control or invisible character U+001B at byte 1: remove it" {
		t.Errorf("message: %v", err)
	}
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"plain":            "plain",
		"\x1b]0;pwned\x07": `\x1b]0;pwned\x07`,
		"a\tb\nc":          `a\x09b\x0ac`,
		"\u009b2J":         `\u009b2J`,
		"gpj.\u202eexe":    `gpj.\u202eexe`,
		"bad\xff":          `bad\xff`,
		"Zoë":              "Zoë",
	} {
		if got := Printable(in); got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
	}
}

type tag string

type shown struct{ s string }

func (s shown) String() string { return s.s }

func TestPrintableArgs(t *testing.T) {
	got := PrintableArgs([]any{"a\x1b", tag("b\u202e"), shown{"c\x07"}, 42, 1.5, nil})
	want := []any{`a\x1b`, `b\u202e`, `c\x07`, 42, 1.5, nil}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("arg %d: %#v, want %#v", i, got[i], want[i])
		}
	}
}
