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
