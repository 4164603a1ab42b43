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
	// alternatives are other names of the command (clang-18, ...), tried
	// when Name is missing or too old.
	alternatives []string
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
		return fmt.Sprintf("%s %s is older than the %s the selftests need (%s): install %s", what, m.Got, version(t.Min), t.Why, t.Package)
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
	{Name: "clang", Package: "clang-19", Min: MinClang, versionArgs: []string{"--version"}, versionRe: clangVersion,
		Why: "the BPF programs of progs/", alternatives: clangNames[1:]},
	{Name: "pahole", Package: "pahole", Min: []int{1, 16}, versionArgs: []string{"--version"}, versionRe: paholeVersion,
		Why: "the kernel's BTF (CONFIG_DEBUG_INFO_BTF), which the tests' vmlinux.h is made from"},
	{Name: "rsync", Package: "rsync", Why: "the Makefile copies headers and files with it"},
	{Name: "python3", Package: "python3", Why: "scripts/bpf_doc.py writes bpf_helper_defs.h"},
	{Name: "gelf.h", Header: true, Package: "libelf-dev", Why: "libbpf and test_progs use libelf"},
	{Name: "zlib.h", Header: true, Package: "zlib1g-dev", Why: "libbpf and test_progs use zlib"},
}

// MinClang is the lowest clang that compiles every program test_progs
// embeds in Linux 6.12, measured with Debian 12's clang 14 and 16 against
// the 6.12 tree (README.rst there names only clang 14, for BTF type tags):
// clang 14's BPF assembler refuses "w1 %= 2" (verifier_and, _div0,
// _div_overflow, _subreg), it warns rcu_read_lock.c into an error, and
// it leaves memcmp an extern bpftool cannot link (connect_unix_prog,
// sendmsg_unix_prog, test_assign_reuse); clang 16 builds all of those,
// but verifier_bounds.c has unguarded cpu v4 asm ("w6 = (s8)w0"), which
// LLVM 18 brought.
var MinClang = []int{18, 0}

// clangNames are tried in order: the default clang, then versioned ones
// (Debian's clang-NN, apt.llvm.org's), newest first.
var clangNames = []string{"clang", "clang-22", "clang-21", "clang-20", "clang-19", "clang-18"}

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
		return "", Error([]Missing{*m})
	}
	return name, nil
}

// find returns the first of t's names that is there and new enough, or
// what is wrong with the first one found.
func find(ctx context.Context, t Tool) (string, *Missing) {
	var first *Missing
	for _, name := range append([]string{t.Name}, t.alternatives...) {
		path, err := exec.LookPath(name)
		if err != nil {
			continue
		}
		if len(t.Min) == 0 {
			return name, nil
		}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		b, _ := exec.CommandContext(cctx, path, t.versionArgs...).CombinedOutput()
		cancel()
		got := parseVersion(t.versionRe, string(b))
		switch {
		case got == nil:
			if first == nil {
				first = &Missing{Tool: t, Got: "of unknown version (" + firstLine(string(b)) + ")"}
			}
		case less(got, t.Min):
			if first == nil {
				first = &Missing{Tool: t, Got: version(got)}
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

// Clang is the clang the selftests are built with.
func Clang(ctx context.Context) (string, error) {
	for _, t := range Requirements {
		if t.Name == "clang" {
			return Find(ctx, t)
		}
	}
	return "clang", nil
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
