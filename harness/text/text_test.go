package text

import (
	"fmt"
	"strings"
	"testing"
)

func TestFirstLine(t *testing.T) {
	for in, want := range map[string]string{
		"":                     "",
		"one":                  "one",
		"one\ntwo":             "one",
		"\n  \n  two  \nthree": "two",
		"  padded\t\r\nnext":   "padded",
	} {
		if got := FirstLine(in); got != want {
			t.Errorf("FirstLine(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"":                   "",
		"one":                "one",
		" a\r\nb\n\nc  d\t ": "a b c d",
	} {
		if got := OneLine(in); got != want {
			t.Errorf("OneLine(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTrunc(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"a longer subject", 10, "a longe..."},
		{"abcdef", 2, "ab"},
		{"naïve café", 6, "na..."}, // ï is two bytes: not split
	} {
		if got := Trunc(tc.in, tc.n); got != tc.want {
			t.Errorf("Trunc(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
		if len(Trunc(tc.in, tc.n)) > tc.n {
			t.Errorf("Trunc(%q, %d) is longer than %d", tc.in, tc.n, tc.n)
		}
	}
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"plain line\n\tindented":      "plain line\n\tindented",
		"stat x\x1b[2J.yaml":          `stat x\x1b[2J.yaml`,
		"title \x1b]0;pwned\x07 bell": `title \x1b]0;pwned\a bell`,
		"cr\rover":                    `cr\rover`,
		"c1 \u009b2J and ünïcode":     `c1 \u009b2J and ünïcode`,
		"bad utf-8 \xff":              `bad utf-8 \xff`,
	} {
		if got := Printable(in); got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
	}
	var b strings.Builder
	fmt.Fprintf(SafeWriter{&b}, "harness run: %v\n", "stat \x1b[2J")
	if b.String() != "harness run: stat \\x1b[2J\n" {
		t.Errorf("SafeWriter wrote %q", b.String())
	}
}
