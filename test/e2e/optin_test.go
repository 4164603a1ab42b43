package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/scenario"
)

// noCloneReason is what the Fast Open autolowat cases say for a program
// whose socket storage a listener's children do not inherit.
const noCloneReason = "autolowat keeps no state for a child created with data: its socket storage is not BPF_F_CLONE (map states)"

// TestE2EOptInOnAcceptedSocket runs our program built without
// BPF_F_CLONE, as the series' own program is: its state never follows a
// listener to its children. Every autolowat case in order and out of
// order, loopback and through the peer, must pass, which only an opt-in
// on the accepted socket allows; the Fast Open ones, whose data comes
// before accept(), are unsupported with the program's reason, decided
// before booting. The values are the series' rule's, so the report lists
// no difference from it.
func TestE2EOptInOnAcceptedSocket(t *testing.T) {
	needQEMU(t)
	clang, err := exec.LookPath("clang")
	if err != nil {
		t.Skip("clang is not installed: make deps-bpf")
	}
	tree := linuxTree(t)
	series, _ := filepath.Abs("../../selftests/series/" + port)
	obj := filepath.Join(t.TempDir(), "autolowat-noclone.bpf.o")
	// As selftests/progs/gen.go builds it, with the one flag off.
	cmd := exec.Command(clang, "-O2", "-g", "-Wall", "-D__TARGET_ARCH_x86", "-I/usr/include/x86_64-linux-gnu",
		"-Iinclude", "-DAUTOLOWAT_NO_CLONE", "--target=bpfel", "-c", "autolowat.bpf.c", "-o", obj)
	cmd.Dir = "../../selftests/progs"
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out)
	}
	out := t.TempDir()
	code, stdout, stderr := runHarness(t, "run", "--tree", tree, "--series", series, "--profile", "minimal",
		"--bpf-object", obj, "--scenario", "/autolowat$", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	rep := readReport(t, out)
	if rep.BPF == nil || !rep.BPF.Loaded || rep.BPF.NoChildState != noCloneReason {
		t.Fatalf("bpf section %+v", rep.BPF)
	}
	if !strings.Contains(stderr+stdout, "Fast Open autolowat cases are unsupported: "+noCloneReason) {
		t.Errorf("the run did not say before booting why Fast Open is unsupported:\n%s", stderr)
	}
	var pass, unsupported int
	for _, s := range rep.Scenarios {
		switch {
		case s.Mode != "autolowat":
			t.Errorf("%s: not an autolowat case", s.ID())
		case s.Path == "fastopen":
			unsupported++
			if s.Verdict != report.Unsupported || s.Reason != noCloneReason {
				t.Errorf("%s: %s %q, want unsupported with the program's reason", s.ID(), s.Verdict, s.Reason)
			}
		default:
			pass++
			if s.Verdict != report.Pass {
				t.Errorf("%s: %s %s %+v", s.ID(), s.Verdict, s.Reason, s.FailedChecks)
			}
			if len(s.RuleDifferences) > 0 {
				t.Errorf("%s: our rule differs from the series': %v", s.ID(), s.RuleDifferences)
			}
			rcvq := false
			for _, c := range s.Checks {
				rcvq = rcvq || (c.Name == "rcvq-path" && c.Pass)
			}
			if !rcvq {
				t.Errorf("%s: no rcvq-path check passed: %+v", s.ID(), s.Checks)
			}
		}
	}
	// Two cases of each scenario (IPv4, IPv6) in autolowat mode.
	wantPass, wantUnsupported := 0, 0
	for _, sc := range scenario.All() {
		if sc.OptInOnListener() {
			wantUnsupported += 2
		} else {
			wantPass += 2
		}
	}
	if pass != wantPass || unsupported != wantUnsupported {
		t.Errorf("%d passed, %d Fast Open unsupported; want %d and %d", pass, unsupported, wantPass, wantUnsupported)
	}
	if _, err := os.Stat(filepath.Join(out, "report.html")); err != nil {
		t.Error(err)
	}
}
