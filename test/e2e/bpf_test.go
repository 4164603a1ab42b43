package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kernel-harness/harness/harness/report"
)

// TestE2EBPFSource loads other people's programs: the tcp_autolowat
// program the port adds to the tree's BPF selftests, compiled by the
// harness against the kernel just built (--bpf-source), then the same
// object given as --bpf-object. The harness's traffic must drive it to the
// same results as its own program on all three enqueue paths.
func TestE2EBPFSource(t *testing.T) {
	needQEMU(t)
	tree := linuxTree(t)
	series, _ := filepath.Abs("../../selftests/series/" + port)
	scenarios := "^(split-frame|ofo-descriptor-last|fastopen-descriptor-in-syn)$"
	out := t.TempDir()
	code, stdout, stderr := runHarness(t, "run", "--tree", tree, "--series", series, "--scenario", scenarios,
		"--bpf-source", "tools/testing/selftests/bpf/progs/tcp_autolowat.c", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	rep := readReport(t, out)
	b := rep.BPF
	if b == nil || !b.Loaded || b.Source != "tools/testing/selftests/bpf/progs/tcp_autolowat.c" || len(b.Programs) != 2 {
		t.Fatalf("bpf section %+v", b)
	}
	if filepath.Dir(b.Object) != filepath.Join(out, "bpf") {
		t.Errorf("object %s is not kept in the output folder", b.Object)
	}
	checkOwnProgram(t, rep, 12)

	// The object again, given by path, on the same kernel.
	obj := filepath.Join(t.TempDir(), "tcp_autolowat.bpf.o")
	raw, err := os.ReadFile(b.Object)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(obj, raw, 0o644)
	out2 := t.TempDir()
	code, stdout, stderr = runHarness(t, "run", "--kernel", rep.Kernel.Path, "--bpf-object", obj,
		"--scenario", "^ofo-holes-in-reverse$", "--out", out2)
	if code != 0 {
		t.Fatalf("--bpf-object: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	rep2 := readReport(t, out2)
	if rep2.BPF == nil || !rep2.BPF.Loaded || rep2.BPF.Object != obj {
		t.Fatalf("--bpf-object: bpf section %+v", rep2.BPF)
	}
	checkOwnProgram(t, rep2, 4)
}

// checkOwnProgram wants every case run and passed, the autolowat ones
// with the kernel's RCVQ trace on the intended path.
func checkOwnProgram(t *testing.T, rep report.Report, cases int) {
	t.Helper()
	if len(rep.Scenarios) != cases {
		t.Errorf("%d cases, want %d", len(rep.Scenarios), cases)
	}
	for _, s := range rep.Scenarios {
		if s.Verdict != report.Pass {
			t.Errorf("%s: %s %s %+v", s.ID(), s.Verdict, s.Reason, s.FailedChecks)
		}
		if s.Mode != "autolowat" {
			continue
		}
		seen := false
		for _, c := range s.Checks {
			seen = seen || (c.Name == "rcvq-path" && c.Pass)
		}
		if !seen || s.PartialReads != 0 {
			t.Errorf("%s: rcvq-path passed %v, %d partial reads", s.ID(), seen, s.PartialReads)
		}
	}
}

// TestE2EBPFRejected: a program the verifier refuses fails the autolowat
// cases as errors, and the verifier's whole log is in the report and on
// the terminal.
func TestE2EBPFRejected(t *testing.T) {
	needQEMU(t)
	tree := linuxTree(t)
	series, _ := filepath.Abs("../../selftests/series/" + port)
	src, _ := filepath.Abs("testdata/bpf/rejected.bpf.c")
	out := t.TempDir()
	code, stdout, stderr := runHarness(t, "run", "--tree", tree, "--series", series, "--scenario", "^split-frame$",
		"--bpf-source", src, "--out", out)
	if code != 2 {
		t.Fatalf("exit %d, want 2\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	rep := readReport(t, out)
	if rep.BPF == nil || rep.BPF.Loaded || !strings.Contains(rep.BPF.Log, "R1 invalid mem access 'sock_or_null'") ||
		!strings.Contains(rep.BPF.Log, "processed 2 insns") {
		t.Fatalf("bpf section %+v", rep.BPF)
	}
	if !strings.Contains(stderr, "; return sk->family == 2; @ rejected.bpf.c:14") {
		t.Errorf("the verifier's log, with source lines, is not on the terminal:\n%s", stderr)
	}
	for _, s := range rep.Scenarios {
		want := report.Pass
		if s.Mode == "autolowat" {
			want = report.Error
		}
		if s.Verdict != want {
			t.Errorf("%s: %s, want %s (%s)", s.ID(), s.Verdict, want, s.Reason)
		}
	}
}

// TestE2EBPFObjectRefused: an object the harness cannot attach to a
// cgroup is refused before anything boots.
func TestE2EBPFObjectRefused(t *testing.T) {
	tracer, _ := filepath.Abs("../../selftests/progs/tracer_bpfel.o")
	out := t.TempDir()
	code, _, stderr := runHarness(t, "run", "--kernel", "/nonexistent/bzImage", "--bpf-object", tracer, "--out", out)
	if code != 2 || !strings.Contains(stderr, "not cgroup programs") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "console.log")); err == nil {
		t.Error("a VM was started")
	}
}
