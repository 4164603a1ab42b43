package testprogsout

import (
	"regexp"
	"strings"

	"github.com/kernel-harness/harness/harness/report"
)

// Path is the report path of every selftest: junit.xml's classname.
const Path = "test_progs"

// checkLine is a test_progs CHECK/ASSERT line: "func:FAIL:tag message"
// or "func:PASS:tag N nsec" (test_progs.h, _CHECK).
var checkLine = regexp.MustCompile(`^(\w+):(PASS|FAIL):(.*)$`)

// Scenarios is the run as report scenarios: one per subtest, named
// "test/subtest", and one per test without subtests, named "test".
// OK is pass, FAIL fail, SKIP unsupported (the kernel or the machine
// lacks what the test needs). Each carries its log, and each CHECK or
// ASSERT line of it as a check, so that a failure names its assertion.
func (r *Run) Scenarios() []report.Scenario {
	out := []report.Scenario{}
	for _, t := range r.Tests {
		if len(t.Subtests) == 0 {
			out = append(out, scenario(t.Name, t.Result, t.Log))
			continue
		}
		for _, s := range t.Subtests {
			log := s.Log
			if t.Result == Fail && t.Log != "" && s.Result == Fail {
				// The test's own lines (setup shared by its subtests) may
				// be what failed; keep them with each failed subtest.
				log = strings.TrimSpace(t.Log + "\n" + log)
			}
			out = append(out, scenario(t.Name+"/"+s.Name, s.Result, log))
		}
		if t.Result == Fail && !anyFailed(t.Subtests) {
			// Failed outside every subtest: one scenario says so.
			out = append(out, scenario(t.Name, Fail, t.Log))
		}
	}
	return out
}

func scenario(name, result, log string) report.Scenario {
	s := report.Scenario{Name: name, Path: Path, Log: log, Checks: checks(log)}
	switch result {
	case OK:
		s.Verdict = report.Pass
	case Skip:
		s.Verdict = report.Unsupported
		s.Reason = "skipped by test_progs" + lastLineColon(log)
	default:
		s.Verdict = report.Fail
		if len(failedOnly(s.Checks)) == 0 {
			s.Reason = "test_progs: FAIL" + lastLineColon(log)
		}
	}
	return s
}

func checks(log string) []report.Check {
	var out []report.Check
	for _, line := range strings.Split(log, "\n") {
		m := checkLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		out = append(out, report.Check{Name: m[1], Pass: m[2] == "PASS", Detail: strings.TrimSpace(m[3])})
	}
	return out
}

func failedOnly(cs []report.Check) []report.Check {
	var out []report.Check
	for _, c := range cs {
		if !c.Pass {
			out = append(out, c)
		}
	}
	return out
}

func anyFailed(subs []Subtest) bool {
	for _, s := range subs {
		if s.Result == Fail {
			return true
		}
	}
	return false
}

func lastLineColon(log string) string {
	log = strings.TrimSpace(log)
	if log == "" {
		return ""
	}
	if i := strings.LastIndexByte(log, '\n'); i >= 0 {
		log = log[i+1:]
	}
	return ": " + log
}
