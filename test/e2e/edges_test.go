package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kernel-harness/harness/harness/report"
)

// failedCheck finds a failed check of a case by name.
func failedCheck(s report.Scenario, name string) *report.Check {
	for i := range s.FailedChecks {
		if s.FailedChecks[i].Name == name {
			return &s.FailedChecks[i]
		}
	}
	return nil
}

// TestE2ENoStall: a program that asks for one byte too many after a read
// (testdata/bpf/strand.bpf.c) leaves a reader that reads less than a
// frame asleep with a complete frame queued. no-stall must fail there,
// and only there: a reader that takes everything never sees the defect,
// and the wake-ups on enqueue are right. Four such connections at once
// (testdata/scenarios/short-reads-many.yaml) fail other-connections too.
func TestE2ENoStall(t *testing.T) {
	needQEMU(t)
	tree := linuxTree(t)
	series, _ := filepath.Abs("../../selftests/series/" + port)
	src, _ := filepath.Abs("testdata/bpf/strand.bpf.c")
	many, _ := filepath.Abs("testdata/scenarios/short-reads-many.yaml")
	out := t.TempDir()
	code, stdout, stderr := runHarness(t, "run", "--tree", tree, "--series", series, "--scenarios", many,
		"--scenario", "^(read-smaller-than-frame|one-frame-per-send|short-reads-many-connections)$", "--bpf-source", src, "--out", out)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (a case failed)\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, s := range readReport(t, out).Scenarios {
		stranded := (s.Name == "read-smaller-than-frame" || s.Name == "short-reads-many-connections") && s.Mode == "autolowat"
		ch := failedCheck(s, "no-stall")
		if s.Name == "short-reads-many-connections" && stranded {
			if o := failedCheck(s, "other-connections"); o == nil || !strings.Contains(o.Got, "left asleep") {
				t.Errorf("%s: other-connections did not fail: %+v", s.ID(), s.FailedChecks)
			}
		}
		switch {
		case stranded && (ch == nil || !strings.Contains(ch.Got, "the reader was not woken with")):
			t.Errorf("%s: no-stall did not fail: %+v", s.ID(), s.FailedChecks)
		case stranded && failedCheck(s, "epollin-per-frame") != nil:
			t.Errorf("%s: the wake-ups on enqueue are right, yet epollin-per-frame failed: %+v", s.ID(), s.FailedChecks)
		case !stranded && s.Verdict != report.Pass:
			t.Errorf("%s: %s %+v, want pass", s.ID(), s.Verdict, s.FailedChecks)
		}
	}
}

// TestE2EWokenOnClose: a kernel that does not wake the reader on the
// peer's FIN (the port plus testdata/series-no-fin-wake) leaves a reader
// whose rcvlowat asks for more than is queued asleep through the close:
// woken-on-close fails for FIN inside a frame under autolowat; a reset
// still wakes it, and with rcvlowat 1 (baseline) the FIN's own sequence
// number is enough to wake it. It follows the tests that build the port,
// so only tcp_input.c compiles.
func TestE2EWokenOnClose(t *testing.T) {
	needQEMU(t)
	tree := linuxTree(t)
	series := t.TempDir()
	ports, _ := filepath.Glob("../../selftests/series/" + port + "/00[0-9][0-9]-*.patch")
	extra, _ := filepath.Glob("testdata/series-no-fin-wake/*.patch")
	if len(ports) != portPatches+1 || len(extra) != 1 {
		t.Fatalf("%d patches in the port (cover letter included), %d in testdata/series-no-fin-wake", len(ports), len(extra))
	}
	// One series of 11: the port's patches, renumbered, then the defect.
	numbered := regexp.MustCompile(`\[PATCH ` + regexp.QuoteMeta(portVersion) + ` (\d+)/10\]`)
	for _, p := range append(ports, extra...) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b = numbered.ReplaceAll(b, []byte("[PATCH "+portVersion+" $1/11]"))
		if err := os.WriteFile(filepath.Join(series, filepath.Base(p)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := t.TempDir()
	code, stdout, stderr := runHarness(t, "run", "--tree", tree, "--series", series, "--profile", "minimal",
		"--scenario", "^(fin-mid-frame|rst-mid-frame)$", "--out", out)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (a case failed)\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, s := range readReport(t, out).Scenarios {
		asleep := s.Name == "fin-mid-frame" && s.Mode == "autolowat"
		ch := failedCheck(s, "woken-on-close")
		switch {
		case asleep && (ch == nil || !strings.Contains(ch.Got, "not ready")):
			t.Errorf("%s: woken-on-close did not fail: %+v", s.ID(), s.FailedChecks)
		case !asleep && s.Verdict != report.Pass:
			t.Errorf("%s: %s %+v, want pass", s.ID(), s.Verdict, s.FailedChecks)
		}
	}
}
