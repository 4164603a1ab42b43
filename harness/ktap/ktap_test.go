package ktap

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/kernel-harness/harness/harness/outdir"
	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/internal/fixtures"
	"github.com/kernel-harness/harness/internal/testutil"
)

// Each real report's KTAP is its golden file, and reads back as KTAP
// with one result per case and the report's verdicts.
func TestGolden(t *testing.T) {
	for name := range fixtures.Reports {
		t.Run(name, func(t *testing.T) {
			out := fixtures.Load(t, name)
			got := Format(out)
			testutil.Golden(t, "testdata/"+name+".ktap", got)
			want := counts{}
			for _, r := range reports(out) {
				want.add(r)
			}
			if c := check(t, string(got)); c != want {
				t.Errorf("results %+v, want the report's %+v", c, want)
			}
		})
	}
}

func reports(out outdir.Output) []*report.Report {
	if out.Base != nil {
		return []*report.Report{out.Base.Report, out.Top.Report}
	}
	return []*report.Report{out.Top.Report}
}

// counts are the cases by result, as kunit.py counts them: an error is
// a failure.
type counts struct{ passed, failed, skipped int }

func (c *counts) add(r *report.Report) {
	for _, s := range r.Scenarios {
		switch s.Verdict {
		case report.Pass:
			c.passed++
		case report.Unsupported:
			c.skipped++
		default:
			c.failed++
		}
	}
	if r.Verdict == report.Error && len(r.Scenarios) == 0 {
		c.failed++
	}
}

var (
	resultLine = regexp.MustCompile(`^(ok|not ok) ([0-9]+) ([^#]+?)( # (SKIP|ERROR)( .*)?)?$`)
	planLine   = regexp.MustCompile(`^1\.\.([0-9]+)$`)
)

// check reads doc as KTAP version 1, failing the test where it is not:
// a version and a plan at every level, subtests four spaces in and
// numbered from 1 as many as the plan says, a result line after them
// that is not ok when one of them is. It returns the cases' results.
func check(t *testing.T, doc string) counts {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(doc, "\n"), "\n")
	var c counts
	i := 0
	// level reads the version and plan at indentation at, then that many
	// tests, and says whether all were ok.
	var level func(at string) bool
	next := func() string {
		for i < len(lines) && strings.HasPrefix(strings.TrimLeft(lines[i], " "), "# ") && !strings.HasPrefix(strings.TrimLeft(lines[i], " "), "# Subtest: ") {
			i++
		}
		if i == len(lines) {
			t.Fatalf("KTAP ends early:\n%s", doc)
		}
		l := lines[i]
		i++
		return l
	}
	level = func(at string) bool {
		if l := next(); l != at+"KTAP version 1" {
			t.Fatalf("line %d: %q, want %q", i, l, at+"KTAP version 1")
		}
		l := next()
		if strings.HasPrefix(l, at+"# Subtest: ") {
			l = next()
		}
		m := planLine.FindStringSubmatch(strings.TrimPrefix(l, at))
		if m == nil || !strings.HasPrefix(l, at) {
			t.Fatalf("line %d: %q, want a plan", i, l)
		}
		n, _ := strconv.Atoi(m[1])
		all := true
		for k := 1; k <= n; k++ {
			sub := false
			if i < len(lines) && strings.TrimLeft(lines[i], " ") == "KTAP version 1" {
				sub = true
				if !level(at + indent) {
					all = false
				}
			}
			l := next()
			r := resultLine.FindStringSubmatch(strings.TrimPrefix(l, at))
			if r == nil || !strings.HasPrefix(l, at) || strings.HasPrefix(strings.TrimPrefix(l, at), " ") {
				t.Fatalf("line %d: %q, want result %d", i, l, k)
			}
			if r[2] != strconv.Itoa(k) {
				t.Errorf("line %d: test %s, want %d", i, r[2], k)
			}
			ok := r[1] == "ok"
			if sub && ok && !all {
				t.Errorf("line %d: %q is ok with a subtest not ok", i, l)
			}
			all = all && ok
			if !sub {
				switch {
				case r[5] == "SKIP":
					c.skipped++
				case ok:
					c.passed++
				default:
					c.failed++
				}
			}
		}
		return all
	}
	level("")
	for ; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "# ") {
			t.Errorf("line %d after the last result: %q is not a diagnostic", i+1, lines[i])
		}
	}
	return c
}

// Names and reasons come from users' scenario files and the kernel: what
// KTAP does not allow in them ('#' and line breaks in a name, a line
// break anywhere) is replaced, and a diagnostic is never a header.
func TestSanitised(t *testing.T) {
	r := &report.Report{Verdict: report.Fail, Scenarios: []report.Scenario{
		{Name: "a#b\nc\x1b[2J", Family: "ipv4", Mode: "autolowat", Verdict: report.Fail,
			Checks: []report.Check{{Name: "x", Detail: "one\nok 1 two"}, {Name: "Subtest: y"}}},
		{Name: "a#b\nc\x1b[2J", Family: "ipv6", Mode: "autolowat", Verdict: report.Unsupported, Reason: "no\nhook # here"},
	}}
	got := string(Format(outdir.Output{Top: outdir.Run{Report: r}}))
	testutil.Golden(t, "testdata/sanitised.ktap", []byte(got))
	if c := check(t, got); c != (counts{failed: 1, skipped: 1}) {
		t.Errorf("results %+v", c)
	}
	for _, l := range strings.Split(got, "\n") {
		if strings.Contains(l, "\x1b") || strings.HasPrefix(strings.TrimLeft(l, " "), "ok 1 two") {
			t.Errorf("line %q escapes its place", l)
		}
	}
}

// A run that failed before any case ran is one test in error; a
// --repeat run's cases are numbered by their run.
func TestRunErrorAndRepeat(t *testing.T) {
	r := &report.Report{Verdict: report.Error, Error: "build failed: net/ipv4/tcp.c:1: error: expected ';'"}
	got := string(Format(outdir.Output{Top: outdir.Run{Report: r}}))
	if want := "KTAP version 1\n1..1\nnot ok 1 run # ERROR build failed: net/ipv4/tcp.c:1: error: expected ';'\n"; got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	var rep report.Report
	for run := 1; run <= 2; run++ {
		rep.Scenarios = append(rep.Scenarios, report.Scenario{Name: "split-frame", Family: "ipv4", Mode: "baseline", Run: run, Verdict: report.Pass})
	}
	got = string(Format(outdir.Output{Top: outdir.Run{Report: &rep}}))
	for run := 1; run <= 2; run++ {
		if l := fmt.Sprintf("    ok %d ipv4.baseline.run%d\n", run, run); !strings.Contains(got, l) {
			t.Errorf("no %q in\n%s", l, got)
		}
	}
	check(t, got)
}

// The file is written into the folder, among the run's outputs.
func TestWrite(t *testing.T) {
	out := fixtures.Load(t, "real-fail")
	fixtures.Writes(t, FileName, Write, out, Format(out))
}
