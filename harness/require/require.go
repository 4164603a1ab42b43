// Package require checks, before any work, that the tools a step needs
// are installed and new enough, and names the Debian package of each
// one that is not: a build that would stop after minutes on a missing
// tool stops at once with the command that fixes it.
package require

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/kernel-harness/harness/harness/text"
)

// Tool is one requirement: a command (with a lowest version) or a
// header, and the Debian package that provides it.
type Tool struct {
	Name    string // what is checked: a command, or a header path
	Package string // the Debian package to install
	Header  bool   // Name is a header under /usr/include
	// Min is the lowest version that does the job, when one is known;
	// VersionArgs print it, VersionRe finds it.
	Min         []int
	VersionArgs []string
	VersionRe   *regexp.Regexp
	// Why says what the tool is needed for.
	Why string
	// Alternatives are other names of the command (clang-18, ...), tried
	// when Name is missing or too old.
	Alternatives []string
}

// Missing is a requirement that is not met.
type Missing struct {
	Tool Tool
	Got  string // the version found, or "" when the tool is not there
}

func (m Missing) String() string {
	t := m.Tool
	what := t.Name
	if t.Header {
		what = "/usr/include/" + t.Name
	}
	switch {
	case m.Got != "":
		return fmt.Sprintf("%s %s is older than the %s needed (%s): apt-get install %s", what, m.Got, Version(t.Min), t.Why, t.Package)
	case len(t.Min) > 0:
		return fmt.Sprintf("%s %s or newer is missing (%s): apt-get install %s", what, Version(t.Min), t.Why, t.Package)
	}
	return fmt.Sprintf("%s is missing (%s): apt-get install %s", what, t.Why, t.Package)
}

// Common version patterns.
var (
	ClangVersion  = regexp.MustCompile(`clang version (\d+)\.(\d+)`)
	PaholeVersion = regexp.MustCompile(`v?(\d+)\.(\d+)`)
)

// Check returns the requirements that are not met.
func Check(ctx context.Context, tools []Tool) []Missing {
	var out []Missing
	for _, t := range tools {
		if t.Header {
			if _, err := os.Stat("/usr/include/" + t.Name); err != nil {
				out = append(out, Missing{Tool: t})
			}
			continue
		}
		if _, m := find(ctx, t); m != nil {
			out = append(out, *m)
		}
	}
	return out
}

// Find is the command that meets t: its name or one of its alternatives.
func Find(ctx context.Context, t Tool) (string, error) {
	name, m := find(ctx, t)
	if m != nil {
		return "", Error("this", []Missing{*m})
	}
	return name, nil
}

// find returns the first of t's names that is there and new enough, or
// what is wrong with the first one found.
func find(ctx context.Context, t Tool) (string, *Missing) {
	var first *Missing
	for _, name := range append([]string{t.Name}, t.Alternatives...) {
		path, err := exec.LookPath(name)
		if err != nil {
			continue
		}
		if len(t.Min) == 0 {
			return name, nil
		}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		b, _ := exec.CommandContext(cctx, path, t.VersionArgs...).CombinedOutput()
		cancel()
		got := parseVersion(t.VersionRe, string(b))
		switch {
		case got == nil:
			if first == nil {
				first = &Missing{Tool: t, Got: "of unknown version (" + text.FirstLine(string(b)) + ")"}
			}
		case Less(got, t.Min):
			if first == nil {
				first = &Missing{Tool: t, Got: Version(got)}
			}
		default:
			return name, nil
		}
	}
	if first == nil {
		first = &Missing{Tool: t}
	}
	return "", first
}

// Error is every unmet requirement, one a line, under what cannot be
// done ("the kernel", "the BPF selftests").
func Error(what string, missing []Missing) error {
	if len(missing) == 0 {
		return nil
	}
	var lines []string
	for _, m := range missing {
		lines = append(lines, "  "+m.String())
	}
	return fmt.Errorf("%s cannot be built here:\n%s", what, strings.Join(lines, "\n"))
}

func parseVersion(re *regexp.Regexp, s string) []int {
	m := re.FindStringSubmatch(s)
	if m == nil {
		return nil
	}
	var v []int
	for _, p := range m[1:] {
		n, _ := strconv.Atoi(p)
		v = append(v, n)
	}
	return v
}

// Less says whether version a is older than b.
func Less(a, b []int) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}

// Version prints v as 1.2.
func Version(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ".")
}
