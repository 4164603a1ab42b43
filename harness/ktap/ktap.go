// Package ktap writes results.ktap: a run's cases in the kernel's own
// test output format, KTAP version 1 (Documentation/dev-tools/ktap.rst),
// for the tools kernel developers already read test results with
// (kunit.py parse, NIPA). Each scenario is a test whose subtests are its
// cases, indented four spaces as KUnit indents them, each level with its
// own version and plan lines and the parent's result line after them.
package ktap

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/kernel-harness/harness/harness/outdir"
	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/text"
	"github.com/kernel-harness/harness/internal/fileutil"
)

// FileName is the file in the output folder.
const FileName = "results.ktap"

// indent is one nesting level, as KUnit writes it (ktap.rst's examples
// use two; parsers strip any).
const indent = "    "

// test is one KTAP test: a case, or a group whose result follows its
// subtests.
type test struct {
	name string
	ok   bool
	// directive follows the name after " # ": SKIP or ERROR and why.
	directive string
	// diag are the diagnostic lines before the result line.
	diag     []string
	subtests []test
}

// Write writes results.ktap to dir: for --baseline both runs, each a
// test of its own ("base" and "series", as junit.xml's classnames).
func Write(dir string, out outdir.Output) error {
	if err := fileutil.WriteFile(filepath.Join(dir, FileName), Format(out), 0o644); err != nil {
		return fmt.Errorf("ktap: %w", err)
	}
	return nil
}

// Format is the KTAP document of out.
func Format(out outdir.Output) []byte {
	top := out.Top.Report
	var tests []test
	if out.Base != nil && out.Base.Report != nil {
		tests = []test{group("base", cases(out.Base.Report)), group("series", cases(top))}
	} else {
		tests = cases(top)
	}
	var b strings.Builder
	b.WriteString("KTAP version 1\n")
	if top.Kernel.Release != "" {
		diag(&b, "", fmt.Sprintf("kernel %s (%s)", top.Kernel.Release, top.Kernel.Accel))
	}
	if top.Hook != nil {
		diag(&b, "", top.Headline())
	}
	fmt.Fprintf(&b, "1..%d\n", len(tests))
	for i, t := range tests {
		t.write(&b, "", i+1)
	}
	// Run-wide notes go last: kunit.py stops reading at a panic's words
	// ("Kernel panic - not syncing: VFS:"), which must not cost a result.
	for _, l := range trailer(top) {
		diag(&b, "", l)
	}
	return []byte(b.String())
}

// cases are a report's tests: a group per scenario holding its cases,
// in the report's order; a run that failed before any case is one test
// "run" in error, as junit.xml has it.
func cases(r *report.Report) []test {
	var tests []test
	at := map[string]int{}
	for _, s := range r.Scenarios {
		g, leaf := names(s)
		c := caseTest(s, leaf)
		if leaf == "" { // a selftest without subtests: a case of its own
			c.name = g
			tests = append(tests, c)
			continue
		}
		i, ok := at[g]
		if !ok {
			i = len(tests)
			at[g] = i
			tests = append(tests, test{name: g})
		}
		tests[i].subtests = append(tests[i].subtests, c)
	}
	for i := range tests {
		if tests[i].subtests != nil {
			tests[i] = group(tests[i].name, tests[i].subtests)
		}
	}
	if r.Verdict == report.Error && len(r.Scenarios) == 0 {
		tests = append(tests, test{name: "run", directive: "ERROR " + line(r.Error)})
	}
	return tests
}

// names are the group a case belongs to and its name in it: the
// scenario and family.mode (.runN for a repetition); for a selftest the
// test and its subtest, or the test and "" when it has none.
func names(s report.Scenario) (group, leaf string) {
	if s.Selftest() {
		g, sub, _ := strings.Cut(s.Name, "/")
		return g, sub
	}
	leaf = s.Family + "." + s.Mode
	if s.Run > 0 {
		leaf += fmt.Sprintf(".run%d", s.Run)
	}
	return s.Name, leaf
}

// caseTest is one case: its verdict as a result and a directive, what
// failed as diagnostic lines.
func caseTest(s report.Scenario, name string) test {
	t := test{name: name}
	switch s.Verdict {
	case report.Pass:
		t.ok = true
	case report.Unsupported:
		t.ok, t.directive = true, "SKIP "+line(s.Reason)
	case report.Fail:
		for _, c := range s.Failed() {
			t.diag = append(t.diag, c.Long())
		}
		if len(t.diag) == 0 && s.Reason != "" {
			t.diag = append(t.diag, s.Reason)
		}
	default: // error, or a verdict nobody set: never ok
		why := s.Reason
		if s.Verdict != report.Error {
			why = fmt.Sprintf("unknown verdict %q: %s", s.Verdict, s.Reason)
		}
		t.directive = "ERROR " + line(why)
	}
	if !t.ok && s.Log != "" {
		t.diag = append(t.diag, strings.Split(strings.TrimRight(s.Log, "\n"), "\n")...)
	}
	for _, sp := range s.Splats {
		t.diag = append(t.diag, "kernel splat: "+text.FirstLine(sp))
	}
	return t
}

// group is a test of subtests: not ok when one is, skipped when all are
// (with their reason when they share one).
func group(name string, subtests []test) test {
	g := test{name: name, ok: true, subtests: subtests}
	skipped := len(subtests) > 0
	reasons := map[string]bool{}
	for _, t := range subtests {
		g.ok = g.ok && t.ok
		d, skip := strings.CutPrefix(t.directive, "SKIP")
		skipped = skipped && skip
		reasons[d] = true
	}
	if g.ok && skipped {
		g.directive = "SKIP"
		if len(reasons) == 1 {
			for d := range reasons {
				g.directive += d
			}
		}
	}
	return g
}

// trailer is what the run says as a whole: its error, and each kernel
// splat in full.
func trailer(r *report.Report) []string {
	var out []string
	if r.Error != "" && len(r.Scenarios) > 0 {
		out = append(out, "run error: "+r.Error)
	}
	for _, sp := range r.Splats {
		head := "kernel " + sp.Kind
		if sp.Scenario != "" {
			head += " during " + sp.Scenario
		}
		out = append(out, head+":")
		for _, l := range strings.Split(strings.TrimRight(sp.Text, "\n"), "\n") {
			out = append(out, "> "+l)
		}
	}
	return out
}

// write writes t as test number n at the given indentation: a group's
// version, name and plan lines and its subtests one level in, then its
// result line.
func (t test) write(b *strings.Builder, at string, n int) {
	if t.subtests != nil {
		in := at + indent
		b.WriteString(in + "KTAP version 1\n")
		// KUnit's header: kunit.py names the group from it.
		b.WriteString(in + "# Subtest: " + name(t.name) + "\n")
		fmt.Fprintf(b, "%s1..%d\n", in, len(t.subtests))
		for i, s := range t.subtests {
			s.write(b, in, i+1)
		}
	}
	for _, d := range t.diag {
		diag(b, at, d)
	}
	result := "not ok"
	if t.ok {
		result = "ok"
	}
	fmt.Fprintf(b, "%s%s %d %s", at, result, n, name(t.name))
	if t.directive != "" {
		b.WriteString(" # " + strings.TrimSpace(t.directive))
	}
	b.WriteString("\n")
}

// diag writes s as a diagnostic line.
func diag(b *strings.Builder, at, s string) {
	s = line(s)
	// "# Subtest: x" would be read as a group's header.
	if strings.HasPrefix(s, "Subtest:") {
		s = "- " + s
	}
	b.WriteString(at + "# " + s + "\n")
}

// line is s on one line, control characters escaped.
func line(s string) string { return text.OneLine(text.Printable(s)) }

// name is a test's name as KTAP allows it: any characters but '#' and
// line breaks.
func name(s string) string {
	s = strings.ReplaceAll(line(s), "#", "_")
	if s == "" {
		return "_"
	}
	return s
}
