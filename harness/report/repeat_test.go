package report_test

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kernel-harness/harness/harness/report"
)

func run(name, mode, verdict string, runNo, epollin, partial int, dur float64, failed ...string) report.Scenario {
	s := report.Scenario{Name: name, Family: "ipv4", Path: "in-order", Mode: mode, Verdict: verdict, Run: runNo,
		EpollinUser: epollin, PartialReads: partial, DurationS: dur}
	for _, f := range failed {
		s.Checks = append(s.Checks, report.Check{Name: f, Pass: false})
	}
	return s
}

// repeated is three runs of three scenarios: one steady, one flaky, one
// unsupported throughout.
func repeated() []report.Scenario {
	return []report.Scenario{
		run("steady", "baseline", report.Pass, 1, 4, 0, 0.5),
		run("flaky", "autolowat", report.Pass, 1, 2, 0, 0.25),
		run("gone", "autolowat", report.Unsupported, 1, 0, 0, 0),
		run("steady", "baseline", report.Pass, 2, 6, 1, 0.75),
		run("flaky", "autolowat", report.Fail, 2, 3, 1, 0.5, "epollin-per-frame"),
		run("gone", "autolowat", report.Unsupported, 2, 0, 0, 0),
		run("steady", "baseline", report.Pass, 3, 5, 0, 1),
		run("flaky", "autolowat", report.Pass, 3, 2, 0, 0.125),
		run("gone", "autolowat", report.Unsupported, 3, 0, 0, 0),
	}
}

func TestAggregate(t *testing.T) {
	r := report.Aggregate(repeated(), false)
	if r == nil || r.Runs != 3 || len(r.Scenarios) != 3 {
		t.Fatalf("aggregate %+v", r)
	}
	steady, flaky, gone := r.Scenarios[0], r.Scenarios[1], r.Scenarios[2]
	if steady.ID() != "steady/ipv4/baseline" || steady.Verdict != report.Pass || steady.Passes != 3 || steady.PassRate != 1 {
		t.Errorf("steady: %+v", steady)
	}
	if want := (report.Spread{N: 3, Min: 4, Median: 5, Max: 6}); steady.EpollinUser != want {
		t.Errorf("steady EPOLLIN %+v, want %+v", steady.EpollinUser, want)
	}
	if want := (report.Spread{N: 3, Min: 0, Median: 0, Max: 1}); steady.PartialReads != want {
		t.Errorf("steady partial reads %+v, want %+v", steady.PartialReads, want)
	}
	if want := (report.Spread{N: 3, Min: 0.5, Median: 0.75, Max: 1}); steady.DurationS != want {
		t.Errorf("steady duration %+v, want %+v", steady.DurationS, want)
	}
	if flaky.Verdict != report.Flaky || flaky.Passes != 2 || flaky.Fails != 1 || flaky.PassRate != 2.0/3 {
		t.Errorf("flaky: %+v", flaky)
	}
	if !reflect.DeepEqual(flaky.FailedRuns, []int{2}) || flaky.FailedChecks["epollin-per-frame"] != 1 {
		t.Errorf("flaky failures: runs %v checks %v", flaky.FailedRuns, flaky.FailedChecks)
	}
	// An unsupported scenario measured nothing: no spread, no pass rate.
	if gone.Verdict != report.Unsupported || gone.EpollinUser.N != 0 || gone.PassRate != 0 {
		t.Errorf("gone: %+v", gone)
	}
	if got := r.Flaky(); !reflect.DeepEqual(got, []string{"flaky/ipv4/autolowat"}) {
		t.Errorf("Flaky() = %v", got)
	}
}

func TestAggregateVerdicts(t *testing.T) {
	tests := []struct {
		verdicts []string
		want     string
	}{
		{[]string{report.Pass, report.Pass}, report.Pass},
		{[]string{report.Fail, report.Fail}, report.Fail},
		{[]string{report.Pass, report.Error}, report.Flaky},
		{[]string{report.Fail, report.Error}, report.Fail},
		{[]string{report.Error, report.Unsupported}, report.Error},
		{[]string{report.Unsupported, report.Unsupported}, report.Unsupported},
	}
	for _, tt := range tests {
		var ss []report.Scenario
		for i, v := range tt.verdicts {
			ss = append(ss, run("x", "baseline", v, i+1, 1, 0, 0.1))
		}
		if got := report.Aggregate(ss, true).Scenarios[0].Verdict; got != tt.want {
			t.Errorf("%v: %s, want %s", tt.verdicts, got, tt.want)
		}
	}
}

func TestAggregateNoRepeat(t *testing.T) {
	if r := report.Aggregate([]report.Scenario{run("x", "baseline", report.Pass, 0, 1, 0, 0.1)}, false); r != nil {
		t.Errorf("a single run aggregated: %+v", r)
	}
}

func TestSpread(t *testing.T) {
	if s := report.NewSpread([]float64{4, 1, 3, 2}); s != (report.Spread{N: 4, Min: 1, Median: 2.5, Max: 4}) {
		t.Errorf("even count: %+v", s)
	}
	if s := report.NewSpread(nil); s.String() != "-" {
		t.Errorf("empty: %q", s.String())
	}
	if s := report.NewSpread([]float64{2, 3, 1}); s.String() != "1/2/3" {
		t.Errorf("String() = %q", s.String())
	}
}

func TestRepeatOutputs(t *testing.T) {
	rep := &report.Report{Schema: report.Schema, Scenarios: repeated()}
	rep.Repeat = report.Aggregate(rep.Scenarios, false)
	rep.Finish()
	if rep.Verdict != report.Fail {
		t.Errorf("verdict %s: a run that failed once is not green", rep.Verdict)
	}
	var sum bytes.Buffer
	rep.Summary(&sum, report.SummaryOptions{})
	for _, want := range []string{
		"3 runs in one boot",
		"flaky", "2/3", "FLAKY flaky/ipv4/autolowat: passed 2 of 3 runs; failed in run 2: epollin-per-frame (1)",
		"FAIL flaky/ipv4/autolowat#2: epollin-per-frame",
		"over 3 runs, 1 flaky",
	} {
		if !strings.Contains(sum.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, sum.String())
		}
	}
	if strings.Contains(sum.String(), "steady/ipv4/baseline#") {
		t.Errorf("summary lists single runs:\n%s", sum.String())
	}

	dir := t.TempDir()
	if err := rep.WriteJUnit(filepath.Join(dir, "junit.xml")); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "junit.xml"))
	var ju struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Skipped int `xml:"skipped,attr"` // junit-10 has it on the suite
			Cases   []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Type    string `xml:"type,attr"`
					Message string `xml:"message,attr"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &ju); err != nil {
		t.Fatal(err)
	}
	if ju.Tests != 3 || ju.Failures != 1 || len(ju.Suites) != 1 || ju.Suites[0].Skipped != 1 {
		t.Errorf("junit %d tests %d failures, want one testcase per scenario:\n%s", ju.Tests, ju.Failures, b)
	}
	f := ju.Suites[0].Cases[1].Failure
	if f == nil || f.Type != report.Flaky || !strings.HasPrefix(f.Message, "flaky: passed 2 of 3 runs") {
		t.Errorf("flaky testcase %+v", ju.Suites[0].Cases[1])
	}
}
