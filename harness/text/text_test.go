package text

import "testing"

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
