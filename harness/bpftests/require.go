// Package bpftests builds the kernel tree's own BPF selftests runner,
// test_progs (tools/testing/selftests/bpf), against the kernel a run
// boots, and gathers what the guest needs to run it.
package bpftests

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Tool is one build requirement of the selftests: a command (with a
// lowest version) or a header, and the Debian package that provides it.
type Tool struct {
	Name    string // what is checked: a command, or a header path
	Package string // the Debian package to install
	Header  bool   // Name is a header under /usr/include
	// Min is the lowest version that builds the selftests, when one is
	// known; versionArgs print it, versionRe finds it.
	Min         []int
	versionArgs []string
	versionRe   *regexp.Regexp
	// Why says what the selftests need it for.
	Why string
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
		return fmt.Sprintf("%s %s is older than the %s the selftests need (%s): install a newer one (Debian package %s; apt.llvm.org for clang)", what, m.Got, version(t.Min), t.Why, t.Package)
	case len(t.Min) > 0:
		return fmt.Sprintf("%s %s or newer is missing (%s): apt-get install %s", what, version(t.Min), t.Why, t.Package)
	}
	return fmt.Sprintf("%s is missing (%s): apt-get install %s", what, t.Why, t.Package)
}

var (
	clangVersion  = regexp.MustCompile(`clang version (\d+)\.(\d+)`)
	paholeVersion = regexp.MustCompile(`v?(\d+)\.(\d+)`)
)

// Requirements of Linux 6.12's tools/testing/selftests/bpf for
// test_progs. bpftool is not among them: the Makefile builds its own
// from the tree (tools/bpf/bpftool), as it does libbpf and
// resolve_btfids.
var Requirements = []Tool{
	{Name: "make", Package: "make", Why: "the selftests' Makefile"},
	{Name: "gcc", Package: "gcc", Why: "test_progs, libbpf and bpftool are C"},
	{Name: "clang", Package: "clang", Min: MinClang, versionArgs: []string{"--version"}, versionRe: clangVersion,
		Why: "the BPF programs of progs/"},
	{Name: "pahole", Package: "dwarves", Min: []int{1, 16}, versionArgs: []string{"--version"}, versionRe: paholeVersion,
		Why: "the kernel's BTF (CONFIG_DEBUG_INFO_BTF), which the tests' vmlinux.h is made from"},
	{Name: "rsync", Package: "rsync", Why: "the Makefile copies headers and files with it"},
	{Name: "python3", Package: "python3", Why: "scripts/bpf_doc.py writes bpf_helper_defs.h"},
	{Name: "gelf.h", Header: true, Package: "libelf-dev", Why: "libbpf and test_progs use libelf"},
	{Name: "zlib.h", Header: true, Package: "zlib1g-dev", Why: "libbpf and test_progs use zlib"},
}

// MinClang is the lowest clang that compiles every program test_progs
// embeds in Linux 6.12 (README.rst there names clang 14 for BTF type
// tags; see docs of harness selftests for what was measured).
var MinClang = []int{14, 0}

// Check returns the requirements that are not met, before anything is
// built: a build that would stop after minutes on a missing tool stops
// now with the package to install.
func Check(ctx context.Context, tools []Tool) []Missing {
	var out []Missing
	for _, t := range tools {
		if t.Header {
			if _, err := os.Stat("/usr/include/" + t.Name); err != nil {
				out = append(out, Missing{Tool: t})
			}
			continue
		}
		path, err := exec.LookPath(t.Name)
		if err != nil {
			out = append(out, Missing{Tool: t})
			continue
		}
		if len(t.Min) == 0 {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		b, _ := exec.CommandContext(cctx, path, t.versionArgs...).CombinedOutput()
		cancel()
		got := parseVersion(t.versionRe, string(b))
		if got == nil {
			out = append(out, Missing{Tool: t, Got: "of unknown version (" + firstLine(string(b)) + ")"})
			continue
		}
		if less(got, t.Min) {
			out = append(out, Missing{Tool: t, Got: version(got)})
		}
	}
	return out
}

// Error is every unmet requirement, one a line.
func Error(missing []Missing) error {
	if len(missing) == 0 {
		return nil
	}
	var lines []string
	for _, m := range missing {
		lines = append(lines, "  "+m.String())
	}
	return fmt.Errorf("the BPF selftests cannot be built here:\n%s", strings.Join(lines, "\n"))
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

func less(a, b []int) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}

func version(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ".")
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
