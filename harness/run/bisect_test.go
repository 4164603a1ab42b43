package run

import (
	"strings"
	"testing"

	"github.com/kernel-harness/harness/harness/report"
)

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
