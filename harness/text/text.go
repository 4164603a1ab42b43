// Package text holds the small string helpers messages share.
package text

import "strings"

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
