package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kernel-harness/harness/harness/kernel"
	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/scenario"
	"github.com/kernel-harness/harness/internal/fileutil"
)

// realVNG returns PATH with the real vng first: Debian's virtme-ng
// package unpacked in the cache by scripts/virtme-ng (make deps-vng
// installs what it needs), which must leave /etc/apt as it was. Without
// it the test skips, saying how to get it; in CI it fails.
func realVNG(tb testing.TB) (path string) {
	tb.Helper()
	needQEMU(tb)
	script, err := filepath.Abs("../../scripts/virtme-ng")
	if err != nil {
		tb.Fatal(err)
	}
	etc := aptState(tb)
	cmd := exec.Command(script)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if after := aptState(tb); after != etc {
		tb.Errorf("scripts/virtme-ng changed /etc/apt:\nbefore:\n%s\nafter:\n%s", etc, after)
	}
	if err != nil {
		msg := "scripts/virtme-ng: " + err.Error() + "\n" + stderr.String()
		if os.Getenv("CI") != "" {
			tb.Fatal(msg)
		}
		tb.Skip(msg + "\nrun make deps-vng, then scripts/virtme-ng")
	}
	if stderr.Len() > 0 {
		tb.Log(strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)) + string(os.PathListSeparator) + os.Getenv("PATH")
}

// runVNG runs the harness with the real vng first on PATH.
func runVNG(tb testing.TB, path string, args ...string) (code int, stdout, stderr string) {
	tb.Helper()
	cmd := exec.Command(harnessBinary(tb), args...)
	cmd.Env = append(os.Environ(), "PATH="+path)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		tb.Fatalf("run harness: %v", err)
	}
	return code, out.String(), errb.String()
}

// TestE2EVNG runs the real virtme-ng: the port built with vng's profile
// (the default under --backend vng) and every scenario through vng, the
// hook exercised on every path; the same kernel given as a build folder;
// a kernel vng cannot boot refused before booting; a panic said at once;
// SIGINT stopping vng and its QEMU, the report written.
func TestE2EVNG(t *testing.T) {
	path := realVNG(t)
	tree := linuxTree(t)
	series, _ := filepath.Abs("../../selftests/series/" + port)

	out := t.TempDir()
	code, stdout, stderr := runVNG(t, path, "run", "--backend", "vng", "--accel", "tcg", "--tree", tree, "--series", series, "--require-hook", "--out", out)
	if code != 0 {
		t.Fatalf("vng run: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	rep := readReport(t, out)
	if rep.Build == nil || rep.Build.Profile != "vng" {
		t.Errorf("build %+v, want the vng profile by default", rep.Build)
	}
	all := 4 * len(scenario.All())
	if n, pass := verdicts(rep); rep.Boot.Machine != "vng" || n != all || pass != all {
		t.Errorf("boot %+v, %d cases, %d passed; want %d passed through vng", rep.Boot, n, pass, all)
	}
	if h := rep.Hook; h == nil || !h.Exercised || strings.Join(h.Paths, ",") != "in-order,ofo,fastopen" {
		t.Errorf("hook %+v, want exercised on in-order, ofo and fastopen", rep.Hook)
	}
	con, _ := os.ReadFile(filepath.Join(out, "console.log"))
	if first, _, _ := strings.Cut(string(con), "\n"); !strings.Contains(first, "vng --run") || !strings.Contains(first, "--force-9p") {
		t.Errorf("console.log does not start with vng's command line: %q", first)
	}

	// The same kernel as a build folder: its image and .config.
	k, err := kernel.FromFile(rep.Kernel.Path, "")
	if err != nil {
		t.Fatal(err)
	}
	folder := t.TempDir()
	if err := os.MkdirAll(filepath.Join(folder, "arch/x86/boot"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := fileutil.CopyFileMode(k.Image, filepath.Join(folder, "arch/x86/boot/bzImage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := fileutil.CopyFileMode(k.Config(), filepath.Join(folder, ".config"), 0o644); err != nil {
		t.Fatal(err)
	}
	out2 := t.TempDir()
	code, stdout, stderr = runVNG(t, path, "run", "--backend", "vng", "--accel", "tcg", "--kernel", folder, "--scenario", "^(one-frame-per-send|ofo-hole-in-payload)$", "--out", out2)
	if code != 0 {
		t.Fatalf("vng --kernel on a build folder: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if n, pass := verdicts(readReport(t, out2)); pass != 8 || n != 8 {
		t.Errorf("build folder: %d of %d passed, want 8 of 8", pass, n)
	}

	// A kernel without 9p is refused by name, before anything boots.
	deb := debianKernel(t)
	out3 := filepath.Join(t.TempDir(), "o")
	code, _, stderr = runVNG(t, path, "run", "--backend", "vng", "--accel", "tcg", "--kernel", deb.Image, "--out", out3)
	if code != 2 || !strings.Contains(stderr, "vng cannot boot this kernel") || !strings.Contains(stderr, "--profile vng") {
		t.Errorf("Debian's kernel under vng: exit %d, want 2 naming the vng profile:\n%s", code, stderr)
	}
	if _, err := os.Stat(out3); !os.IsNotExist(err) {
		t.Errorf("the refused run made %s", out3)
	}

	// A root that is not the host's: vng's init is not found, the kernel
	// panics, said at once as one error, not a boot deadline waited out.
	out4 := t.TempDir()
	start := time.Now()
	code, _, stderr = runVNG(t, path, "run", "--backend", "vng", "--accel", "tcg", "--kernel", folder, "--append", "root=/dev/bogus", "--scenario", "^one-frame-per-send$", "--out", out4)
	if code == 0 || !strings.Contains(stderr, "kernel panic") {
		t.Errorf("a panic under vng: exit %d, want an error naming the panic:\n%s", code, stderr)
	}
	if d := time.Since(start); d > 3*time.Minute {
		t.Errorf("the panic took %v to be noticed", d)
	}
	if rep := readReport(t, out4); rep.Verdict != report.Error {
		t.Errorf("a panic: verdict %s", rep.Verdict)
	}

	// SIGINT once the guest runs: vng and its QEMU stopped, the report
	// written and naming the interruption.
	out5 := t.TempDir()
	cmd := exec.Command(harnessBinary(t), "run", "--backend", "vng", "--accel", "tcg", "--kernel", folder, "--out", out5)
	cmd.Env = append(os.Environ(), "PATH="+path)
	var errb syncBuilder
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	if !waitFor(3*time.Minute, func() bool { return len(qemuOf(out5)) > 0 && strings.Contains(errb.String(), "guest: up") }) {
		t.Fatalf("the guest did not come up under vng within 3 minutes:\n%s", errb.String())
	}
	cmd.Process.Signal(syscall.SIGINT)
	if code := exitCode(t, done, time.Minute); code != 2 || !strings.Contains(errb.String(), "interrupted by SIGINT") {
		t.Errorf("SIGINT under vng: exit %d, want 2 and the signal named:\n%s", code, errb.String())
	}
	if !waitFor(5*time.Second, func() bool { return len(qemuOf(out5)) == 0 }) {
		t.Errorf("vng's QEMU still runs after SIGINT: %v", qemuOf(out5))
	}
	if rep := readReport(t, out5); !strings.Contains(rep.Error, "interrupted by SIGINT") {
		t.Errorf("SIGINT: report error %q, want it named", rep.Error)
	}
}

// verdicts counts a report's cases and those that passed.
func verdicts(rep report.Report) (n, passed int) {
	for _, s := range rep.Scenarios {
		n++
		if s.Verdict == report.Pass {
			passed++
		}
	}
	return n, passed
}
