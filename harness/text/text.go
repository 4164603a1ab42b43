// Package text holds the small string helpers messages share.
package text

import (
	"strings"
	"unicode/utf8"
)

// FirstLine is the first line of s that says something, trimmed: what a
// one-line message quotes of a longer text (a tool's output, a splat).
func FirstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return ""
}

// OneLine is s on one line, every run of white space (line breaks too)
// one space: a message that must fit a table cell or an attribute.
func OneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Trunc cuts s to at most n bytes, "..." saying so, without splitting a
// UTF-8 character: a quote that must not push a column or a message wide.
func Trunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if n < 3 {
		return s[:n]
	}
	cut := n - 3
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
