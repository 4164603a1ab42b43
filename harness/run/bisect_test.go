package run

import (
	"errors"
	"strings"
	"testing"

	"github.com/kernel-harness/harness/harness/bisect"
	"github.com/kernel-harness/harness/harness/report"
)

func TestClassify(t *testing.T) {
	sc := func(name, verdict string, failed ...string) report.Scenario {
		s := report.Scenario{Name: name, Family: "ipv4", Mode: "autolowat", Verdict: verdict, Reason: "why"}
		for _, f := range failed {
			s.FailedChecks = append(s.FailedChecks, report.Check{Name: f})
		}
		return s
	}
	tests := []struct {
		name   string
		rep    *report.Report
		err    error
		want   bisect.Verdict
		reason string
	}{
		{"all pass", &report.Report{Scenarios: []report.Scenario{sc("a", report.Pass)}}, nil, bisect.Good, "passed: 1"},
		{"one fails", &report.Report{Scenarios: []report.Scenario{sc("a", report.Pass), sc("b", report.Fail, "rcvq-path")}}, nil, bisect.Bad, "failed: b/ipv4/autolowat"},
		{"splat", &report.Report{Scenarios: []report.Scenario{sc("a", report.Pass)}, Splats: []report.Splat{{Kind: "warning", Text: "WARNING: at x\nmore"}}}, nil, bisect.Bad, "kernel warning: WARNING: at x"},
		{"unsupported", &report.Report{Scenarios: []report.Scenario{sc("a", report.Unsupported)}}, nil, bisect.Skip, "unsupported: a/ipv4/autolowat"},
		{"fail beats unsupported", &report.Report{Scenarios: []report.Scenario{sc("a", report.Unsupported), sc("b", report.Fail)}}, nil, bisect.Bad, "failed"},
		{"boot failed", &report.Report{}, errors.New("guest silent past its deadline"), bisect.Skip, "boot failed: guest silent"},
		{"scenario error", &report.Report{Scenarios: []report.Scenario{sc("a", report.Error)}}, nil, bisect.Skip, "scenario error: a/ipv4/autolowat: why"},
	}
	for _, tt := range tests {
		v, reason, _ := classify(tt.rep, tt.err, bisect.Skip)
		if v != tt.want || !strings.Contains(reason, tt.reason) {
			t.Errorf("%s: %s %q, want %s %q", tt.name, v, reason, tt.want, tt.reason)
		}
	}
	// --boot-failure bad.
	if v, _, _ := classify(&report.Report{}, errors.New("no boot"), bisect.Bad); v != bisect.Bad {
		t.Errorf("boot failure with --boot-failure bad: %s", v)
	}
	_, _, failed := classify(&report.Report{Scenarios: []report.Scenario{sc("b", report.Fail, "rcvq-path", "epollin")}}, nil, bisect.Skip)
	if len(failed) != 1 || failed[0] != "b/ipv4/autolowat: rcvq-path, epollin" {
		t.Errorf("failed %q", failed)
	}
}

func TestFlips(t *testing.T) {
	good := &report.Report{Scenarios: []report.Scenario{{Name: "ofo", Family: "ipv4", Mode: "autolowat", Verdict: report.Pass, Frames: 2, EpollinUser: 2}}}
	bad := &report.Report{Scenarios: []report.Scenario{{Name: "ofo", Family: "ipv4", Mode: "autolowat", Verdict: report.Fail, Frames: 2, EpollinUser: 3,
		Checks: []report.Check{{Name: "rcvq-path", Got: "no callback on the ofo path"}}}}}
	f := report.Flips(good, bad)
	if len(f) != 1 || f[0].Good == nil || f[0].Good.Verdict != report.Pass || f[0].Bad.Epollin != 3 || !strings.Contains(f[0].Checks[0], "no callback on the ofo path") {
		t.Fatalf("flips %+v", f)
	}
	var b strings.Builder
	report.FlipTable(&b, "aaaa", "bbbb", f)
	for _, want := range []string{"good aaaa", "bad bbbb", "1.50", "ofo/ipv4/autolowat failed at bbbb: rcvq-path"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
}
