package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/scenario"
)

// Scripted scenarios of the test's own, beside the documented ones: one
// that holds on a stock kernel, and one whose poll expects 0 where a
// stock kernel wakes the reader for any byte.
const ownSteps = `scenarios:
  - name: scripted-stock-reader
    path: in-order
    frames: [{header: 4, payload: 20}]
    steps:
      - rcvlowat: 1
      - send: 4
      - poll: 1
      - poll: 1
      - recv: 4
      - poll: 0
      - send: 28
      - poll: 1
      - rcvlowat: 1
  - name: scripted-wrong-poll
    path: in-order
    frames: [{header: 4, payload: 20}]
    steps:
      - send: 4
      - poll: 0
      - send: 28
`

// TestE2EScriptedSteps runs scripted scenarios on Debian's stock kernel:
// the documented examples and ownSteps. The ones that turn autolowat on
// are unsupported there, the others pass, and the wrong expectation
// fails the run with its step named.
func TestE2EScriptedSteps(t *testing.T) {
	needQEMU(t)
	k := debianKernel(t)
	examples, err := filepath.Abs("../../docs/examples/scenarios.yaml")
	if err != nil {
		t.Fatal(err)
	}
	own := filepath.Join(t.TempDir(), "steps.yaml")
	if err := os.WriteFile(own, []byte(ownSteps), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	code, stdout, stderr := runHarness(t, "run", "--kernel", k.Image, "--out", out,
		"--scenarios", examples, "--scenarios", own, "--scenario", "^scripted-")
	t.Logf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
	if code != report.Exit(report.Fail) {
		t.Errorf("harness run exited %d, want %d (fail)", code, report.Exit(report.Fail))
	}
	rep := readReport(t, out)
	if rep.Verdict != report.Fail {
		t.Errorf("verdict %q (%s), want fail", rep.Verdict, rep.Error)
	}

	// Every scripted scenario of both files ran once per family, in its
	// one mode.
	var want []scenario.Case
	for _, f := range []string{examples, own} {
		ss, err := scenario.LoadFile(f, map[string]bool{})
		if err != nil {
			t.Fatal(err)
		}
		ss = slices.DeleteFunc(ss, func(s scenario.Scenario) bool { return !s.Scripted() })
		want = append(want, scenario.Expand(ss, nil)...)
	}
	if len(rep.Scenarios) != len(want) {
		t.Errorf("%d scenarios in the report, want %d", len(rep.Scenarios), len(want))
	}
	seen := map[string]report.Scenario{}
	for _, s := range rep.Scenarios {
		seen[s.ID()] = s
	}
	derived := []string{"epollin-per-send", "epollin-per-frame", "rcvlowat", "no-partial-reads", "rcvq-path", "epollin-equals-kernel-wakeups"}
	for _, c := range want {
		s, ok := seen[c.ID()]
		switch {
		case !ok:
			t.Errorf("%s: missing from the report", c.ID())
		case c.Mode == scenario.Autolowat:
			if s.Verdict != report.Unsupported || !strings.Contains(s.Reason, "BPF_SOCK_OPS_RCVQ_CB") {
				t.Errorf("%s: verdict %s reason %q, want unsupported naming the missing op", c.ID(), s.Verdict, s.Reason)
			}
		case c.Scenario.Name == "scripted-wrong-poll":
			if s.Verdict != report.Fail || len(s.FailedChecks) != 1 || s.FailedChecks[0].Name != "expect-poll" ||
				!strings.Contains(s.FailedChecks[0].Got, "step 2: 1 ready, want 0") {
				t.Errorf("%s: verdict %s, failed %+v; want expect-poll alone to fail at step 2", c.ID(), s.Verdict, s.FailedChecks)
			}
			if !strings.Contains(stdout, "FAIL "+c.ID()+": expect-poll") || !strings.Contains(stdout, "step 2: 1 ready, want 0") {
				t.Errorf("%s: the summary does not name the failed step", c.ID())
			}
		default:
			if s.Verdict != report.Pass {
				t.Errorf("%s: verdict %s, failed %+v, reason %s", c.ID(), s.Verdict, s.FailedChecks, s.Reason)
			}
			var names []string
			for _, ch := range s.Checks {
				names = append(names, ch.Name)
			}
			if !slices.Contains(names, "expect-poll") || !slices.Contains(names, "kernel-path") {
				t.Errorf("%s: checks %q lack expect-poll or kernel-path", c.ID(), names)
			}
			for _, d := range derived {
				if slices.Contains(names, d) {
					t.Errorf("%s: checks %q include %s, which assumes the automatic reader", c.ID(), names, d)
				}
			}
		}
	}
}

// A malformed step is refused before any VM boots, naming the file, the
// scenario, the step and the reason (the kernel is a fake bzImage:
// nothing boots, so this runs under -short).
func TestE2EScriptRefused(t *testing.T) {
	kernel := fakeBzImage(t, t.TempDir(), "6.12.2-fake", 0)
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("scenarios:\n  - name: x\n    path: in-order\n    frames: [{header: 4, payload: 20}]\n    steps:\n      - send: 32\n      - poll: 2\n"), 0o644)
	out := t.TempDir()
	code, _, stderr := runHarness(t, "run", "--kernel", kernel, "--scenarios", bad, "--out", out)
	// The refusal names the file and the step's line and column.
	if code != 2 || !strings.Contains(stderr, bad+`:7:9: scenario 1: scenario "x": step 2 (poll): 2 ready: the epoll set holds only the reader`) {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "console.log")); err == nil {
		t.Error("a VM booted for a refused scenario file")
	}
}
