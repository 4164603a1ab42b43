package e2e

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/scenario"
)

// TestE2ERepeat runs a few scenarios three times in one boot of the
// default Debian kernel: every case three times, distinct in the report,
// summed up per scenario with its spread, one JUnit testcase each.
func TestE2ERepeat(t *testing.T) {
	needQEMU(t)
	k := debianKernel(t)
	const filter = "^(split-frame|ofo-descriptor-last)$"
	out := t.TempDir()
	code, stdout, stderr := runHarness(t, "run", "--kernel", k.Image, "--repeat", "3", "--scenario", filter, "--out", out)
	t.Logf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
	if code != 0 {
		t.Fatalf("exit %d, want 0", code)
	}
	cases := scenario.Expand(scenario.All(), regexp.MustCompile(filter))
	rep := readReport(t, out)
	if len(rep.Scenarios) != 3*len(cases) {
		t.Fatalf("%d scenarios in the report, want %d (3 runs of %d cases)", len(rep.Scenarios), 3*len(cases), len(cases))
	}
	ids := map[string]bool{}
	for _, s := range rep.Scenarios {
		if s.Run < 1 || s.Run > 3 || ids[s.ID()] {
			t.Errorf("%s: run %d (twice, or out of 1..3)", s.ID(), s.Run)
		}
		ids[s.ID()] = true
	}
	r := rep.Repeat
	if r == nil || r.Runs != 3 || r.Boots || len(r.Scenarios) != len(cases) {
		t.Fatalf("repeat section %+v", r)
	}
	for _, s := range r.Scenarios {
		switch s.Mode {
		case scenario.Baseline:
			// A stock kernel wakes the reader the same way every time.
			if s.Verdict != report.Pass || s.Passes != 3 || s.PassRate != 1 || s.EpollinUser.N != 3 || s.EpollinUser.Min != s.EpollinUser.Max {
				t.Errorf("%s: %+v", s.ID(), s)
			}
		case scenario.Autolowat:
			if s.Verdict != report.Unsupported || s.Unsupported != 3 {
				t.Errorf("%s: %+v", s.ID(), s)
			}
		}
	}
	var ju struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
	}
	b, err := os.ReadFile(filepath.Join(out, "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(b, &ju); err != nil {
		t.Fatal(err)
	}
	if ju.Tests != len(cases) || ju.Failures != 0 {
		t.Errorf("junit %+v, want one testcase per scenario over the runs", ju)
	}
	if !strings.Contains(stdout, "3 runs in one boot") || !strings.Contains(stdout, "0 flaky") {
		t.Errorf("summary lacks the runs:\n%s", stdout)
	}
}
