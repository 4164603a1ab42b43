// Package text holds the small string helpers messages share.
package text

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
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

// Printable is s with every control character but newline and tab
// written as an escape (ESC as \x1b): what reaches a terminal from names,
// errors and relayed output can never move its cursor, clear it, retitle
// it or ring it.
func Printable(s string) string {
	clean := true
	for _, r := range s {
		if isControl(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i, w := 0, 0; i < len(s); i += w {
		r, n := utf8.DecodeRuneInString(s[i:])
		w = n
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case isControl(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isControl(r rune) bool {
	return r != '\n' && r != '\t' && (unicode.IsControl(r) || r == utf8.RuneError)
}

// SafeWriter writes what it is given through Printable: for messages to
// a terminal, written whole (a line at a time, as fmt.Fprintf does).
type SafeWriter struct{ W io.Writer }

func (s SafeWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(s.W, Printable(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}
