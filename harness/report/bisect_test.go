package report

import (
	"errors"
	"strings"
	"testing"

	"github.com/kernel-harness/harness/harness/bisect"
)

func TestBisectVerdict(t *testing.T) {
	sc := func(name, verdict string, failed ...string) Scenario {
		s := Scenario{Name: name, Family: "ipv4", Mode: "autolowat", Verdict: verdict, Reason: "why"}
		for _, f := range failed {
			s.FailedChecks = append(s.FailedChecks, Check{Name: f})
		}
		return s
	}
	tests := []struct {
		name   string
		rep    *Report
		err    error
		want   bisect.Verdict
		reason string
	}{
		{"all pass", &Report{Scenarios: []Scenario{sc("a", Pass)}}, nil, bisect.Good, "passed: 1"},
		{"one fails", &Report{Scenarios: []Scenario{sc("a", Pass), sc("b", Fail, "rcvq-path")}}, nil, bisect.Bad, "failed: b/ipv4/autolowat"},
		{"splat", &Report{Scenarios: []Scenario{sc("a", Pass)}, Splats: []Splat{{Kind: "warning", Text: "WARNING: at x\nmore"}}}, nil, bisect.Bad, "kernel warning: WARNING: at x"},
		{"unsupported", &Report{Scenarios: []Scenario{sc("a", Unsupported)}}, nil, bisect.Skip, "unsupported: a/ipv4/autolowat"},
		{"fail beats unsupported", &Report{Scenarios: []Scenario{sc("a", Unsupported), sc("b", Fail)}}, nil, bisect.Bad, "failed"},
		{"boot failed", &Report{}, errors.New("guest silent past its deadline"), bisect.Skip, "boot failed: guest silent"},
		{"scenario error", &Report{Scenarios: []Scenario{sc("a", Error)}}, nil, bisect.Skip, "scenario error: a/ipv4/autolowat: why"},
	}
	for _, tt := range tests {
		v, reason, _ := BisectVerdict(tt.rep, tt.err, bisect.Skip)
		if v != tt.want || !strings.Contains(reason, tt.reason) {
			t.Errorf("%s: %s %q, want %s %q", tt.name, v, reason, tt.want, tt.reason)
		}
	}
	// --boot-failure bad.
	if v, _, _ := BisectVerdict(&Report{}, errors.New("no boot"), bisect.Bad); v != bisect.Bad {
		t.Errorf("boot failure with --boot-failure bad: %s", v)
	}
	_, _, failed := BisectVerdict(&Report{Scenarios: []Scenario{sc("b", Fail, "rcvq-path", "epollin")}}, nil, bisect.Skip)
	if len(failed) != 1 || failed[0] != "b/ipv4/autolowat: rcvq-path, epollin" {
		t.Errorf("failed %q", failed)
	}
}
