// Package e2e tests the harness as a user runs it: the static binary,
// booting Debian's 6.12 cloud kernel under QEMU (KVM where it works, TCG
// otherwise), with the report checked afterwards.
package e2e

import (
	"encoding/xml"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kernel-harness/harness/harness/analysis"
	"github.com/kernel-harness/harness/harness/kernel"
	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/scenario"
	"github.com/kernel-harness/harness/harness/wire"
)

// needQEMU skips where QEMU is missing, except in CI, where a VM test
// that does not run is a failure.
func needQEMU(tb testing.TB) {
	tb.Helper()
	skipShort(tb, "boots a VM")
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("qemu-system-x86_64 missing in CI: %v", err)
		}
		tb.Skip("qemu-system-x86_64 is not installed: run make deps (apt-get install qemu-system-x86)")
	}
}

// skipShort skips a test that boots, builds a kernel or fetches one
// under go test -short (make unit), saying so: make e2e runs it.
func skipShort(tb testing.TB, what string) {
	tb.Helper()
	if testing.Short() {
		tb.Skipf("%s: not under -short (make unit); make e2e or make test runs it", what)
	}
}

var (
	buildOnce sync.Once
	harness   string
	buildErr  error
)

// harnessBinary builds the static harness binary once per test process.
func harnessBinary(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "harness-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		harness = filepath.Join(dir, "harness")
		cmd := exec.Command("go", "build", "-o", harness, "github.com/kernel-harness/harness/cmd/harness")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		tb.Fatalf("build harness: %v", buildErr)
	}
	return harness
}

func debianKernel(tb testing.TB) kernel.Kernel {
	tb.Helper()
	skipShort(tb, "fetches Debian's kernel")
	cache, err := kernel.CacheDir()
	if err != nil {
		tb.Fatal(err)
	}
	k, err := kernel.Debian(cache, func(s string) { tb.Log(s) })
	if err != nil {
		tb.Fatalf("Debian kernel: %v", err)
	}
	return k
}

func runHarness(tb testing.TB, args ...string) (code int, stdout, stderr string) {
	tb.Helper()
	cmd := exec.Command(harnessBinary(tb), args...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		tb.Fatalf("run harness: %v", err)
	}
	return code, out.String(), errb.String()
}

func TestE2EDebianKernel(t *testing.T) {
	needQEMU(t)
	k := debianKernel(t)
	out := t.TempDir()
	// --require-hook: a green run that never reached the series' hook is
	// a failure for a job that exists to test the series.
	code, stdout, stderr := runHarness(t, "run", "--kernel", k.Image, "--out", out, "--require-hook")
	t.Logf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
	if code != 1 || !strings.Contains(stderr, "--require-hook: the series was not exercised") {
		t.Fatalf("harness run --require-hook exited %d, want 1 naming the flag", code)
	}
	// The end of the run fits a screen, and its last line says that the
	// series was not tested, and why.
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) > 25 {
		t.Errorf("%d lines at the end of a passing run, want at most 25", len(lines))
	}
	for _, l := range lines {
		if len(l) > 100 && !strings.HasPrefix(l, "verdict:") && !strings.HasPrefix(l, "report:") {
			t.Errorf("line wider than 100 columns: %q", l)
		}
	}
	if last := lines[len(lines)-1]; !strings.Contains(last, "verdict: pass") || !strings.Contains(last, "the series was NOT exercised: kernel lacks BPF_SOCK_OPS_RCVQ_CB") {
		t.Errorf("last line %q does not say the series was not exercised", last)
	}

	rep := readReport(t, out)
	if rep.Schema != report.Schema || rep.Verdict != report.Pass {
		t.Errorf("schema %q verdict %q (%s)", rep.Schema, rep.Verdict, rep.Error)
	}
	if rep.HarnessVersion == "" || rep.Started.IsZero() || rep.Host == "" || len(rep.Command) < 2 || rep.Command[1] != "run" {
		t.Errorf("provenance: version %q started %v host %q command %q", rep.HarnessVersion, rep.Started, rep.Host, rep.Command)
	}
	if rep.Hook == nil || rep.Hook.Exercised || rep.Hook.Unsupported != len(scenario.Expand(scenario.All(), nil))/2 {
		t.Errorf("hook %+v, want not exercised, every autolowat case unsupported", rep.Hook)
	}
	if !strings.HasPrefix(rep.Kernel.Release, "6.12.") || rep.Kernel.Accel == "" {
		t.Errorf("kernel %+v", rep.Kernel)
	}
	var probed bool
	for _, f := range rep.Features {
		if f.Name == "BPF_SOCK_OPS_RCVQ_CB" {
			probed = true
			if f.Value || !strings.Contains(f.Reason, "kernel lacks BPF_SOCK_OPS_RCVQ_CB") {
				t.Errorf("probe on a stock kernel: %+v", f)
			}
		}
	}
	if !probed {
		t.Errorf("no BPF_SOCK_OPS_RCVQ_CB probe in %+v", rep.Features)
	}

	// Every built-in scenario ran on both families in both modes.
	seen := map[string]report.Scenario{}
	for _, s := range rep.Scenarios {
		seen[s.ID()] = s
	}
	for _, c := range scenario.Expand(scenario.All(), nil) {
		s, ok := seen[c.ID()]
		if !ok {
			t.Errorf("%s: missing from the report", c.ID())
			continue
		}
		switch c.Mode {
		case scenario.Baseline:
			if s.Verdict != report.Pass {
				t.Errorf("%s: verdict %s, failed %+v, reason %s", c.ID(), s.Verdict, s.FailedChecks, s.Reason)
			}
			// As many wake-ups as the model expects: one per send, or
			// fewer where the application's own SO_RCVLOWAT asks for
			// more. A stock kernel's early wake-ups (a small buffer)
			// come on top of those, never fewer.
			want := 0
			for _, e := range analysis.Model(c) {
				if e.Ready {
					want++
				}
			}
			if !c.Scenario.Peer() && (s.EpollinUser < want || s.EpollinKernel < s.EpollinUser) {
				t.Errorf("%s: EPOLLIN user %d kernel %d, want %d", c.ID(), s.EpollinUser, s.EpollinKernel, want)
			}
			// The kernel's counters proved the path the scenario is about.
			for _, ch := range s.Checks {
				if ch.Name == "kernel-path" && !ch.Pass {
					t.Errorf("%s: %s: %s", c.ID(), ch.Got, ch.Detail)
				}
			}
		case scenario.Autolowat:
			if s.Verdict != report.Unsupported || !strings.Contains(s.Reason, "BPF_SOCK_OPS_RCVQ_CB") {
				t.Errorf("%s: verdict %s reason %q, want unsupported naming the missing op", c.ID(), s.Verdict, s.Reason)
			}
		}
	}

	// The guest said it was done, and the other outputs are there.
	f, err := os.Open(filepath.Join(out, "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	evs, err := wire.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) == 0 || evs[len(evs)-1].Kind != wire.Done {
		t.Errorf("events.jsonl does not end with done (%d events)", len(evs))
	}
	var ju struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suite    struct {
			Skipped int `xml:"skipped,attr"` // junit-10: on the suite only
		} `xml:"testsuite"`
	}
	jb, err := os.ReadFile(filepath.Join(out, "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(jb, &ju); err != nil {
		t.Fatal(err)
	}
	if want := len(scenario.Expand(scenario.All(), nil)); ju.Tests != want || ju.Failures != 0 || ju.Suite.Skipped != want/2 {
		t.Errorf("junit: %+v, want %d tests, half skipped", ju, want)
	}
	if fi, err := os.Stat(filepath.Join(out, "console.log")); err != nil || fi.Size() == 0 {
		t.Errorf("console.log empty or missing: %v", err)
	}
	if !strings.Contains(stdout, "verdict: pass") {
		t.Errorf("summary has no verdict line:\n%s", stdout)
	}
	checkHTMLReport(t, out, rep)
	checkTraceFlows(t, out, rep)
	checkKTAP(t, out, rep)
	checkKCIDB(t, out, rep)
}

// Bad input is refused with exit status 2 and a message that says what to
// do, before any VM boots. A fake bzImage passes the kernel's checks: no
// case gets as far as a boot, so this runs under -short.
func TestE2EBadInput(t *testing.T) {
	k := kernel.Kernel{Image: fakeBzImage(t, t.TempDir(), "6.12.2-fake", 0)}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing kernel", []string{"run", "--kernel", "/nonexistent/bzImage"}, "no such file"},
		// Bad input is not a commit git bisect run should skip.
		{"missing kernel, --exit-untestable", []string{"run", "--kernel", "/nonexistent/bzImage", "--exit-untestable", "125"}, "no such file"},
		{"not a kernel", []string{"run", "--kernel", "/etc/hostname"}, "not an x86 bzImage"},
		{"no scenario matches", []string{"run", "--kernel", k.Image, "--scenario", "^nothing$"}, "no scenario matches"},
		{"bad regexp", []string{"run", "--kernel", k.Image, "--scenario", "("}, "--scenario"},
		{"qemu missing", []string{"run", "--kernel", k.Image, "--qemu", "qemu-that-is-not-there"}, "apt-get install qemu-system-x86"},
		{"unknown accel", []string{"run", "--kernel", k.Image, "--accel", "hvf"}, `invalid argument "hvf" for "--accel" flag: want kvm, tcg or auto`},
		{"unknown command", []string{"frobnicate"}, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(tt.args, "--out", t.TempDir())
			if tt.name == "unknown command" {
				args = tt.args
			}
			code, _, stderr := runHarness(t, args...)
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, stderr, tt.want)
			}
		})
	}
}

// A kernel that panics before init ends the run at once with exit status
// 2 and the panic quoted, instead of hanging until a deadline.
func TestE2EPanicBeforeInit(t *testing.T) {
	needQEMU(t)
	k := debianKernel(t)
	out := t.TempDir()
	// No init in the initramfs under this name: the kernel falls back to a
	// root device it does not have, and panics.
	code, _, stderr := runHarness(t, "run", "--kernel", k.Image, "--out", out, "--append", "rdinit=/no-such-init")
	if code != 2 {
		t.Fatalf("exit %d, want 2; stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "Kernel panic") {
		t.Errorf("stderr does not quote the panic:\n%s", stderr)
	}
	rep := readReport(t, out)
	if rep.Verdict != report.Error || len(rep.Splats) == 0 || rep.Splats[0].Kind != "panic" {
		t.Errorf("report verdict %q splats %+v, want error with a panic", rep.Verdict, rep.Splats)
	}
}

// A bzImage with 64 KiB zeroed in its middle stops in the decompressor,
// which says why on the early console and halts: the run ends at once
// with its words and the image named, not after a boot deadline and a
// second try.
func TestE2EDamagedImage(t *testing.T) {
	needQEMU(t)
	k := debianKernel(t)
	img, err := os.ReadFile(k.Image)
	if err != nil {
		t.Fatal(err)
	}
	mid := len(img) / 2
	clear(img[mid : mid+64<<10])
	damaged := filepath.Join(t.TempDir(), "bzImage")
	if err := os.WriteFile(damaged, img, 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	start := time.Now()
	code, _, stderr := runHarness(t, "run", "--kernel", damaged, "--accel", "tcg", "--scenario", "^one-frame-per-send$", "--out", out)
	if code != 2 || !strings.Contains(stderr, "the kernel's decompressor halted") || !strings.Contains(stderr, "-compressed data is corrupt") || !strings.Contains(stderr, damaged+" is damaged") {
		t.Errorf("exit %d, want 2 quoting the decompressor and naming the image:\n%s", code, stderr)
	}
	if strings.Contains(stderr, "trying once more") {
		t.Errorf("the damaged image was booted twice:\n%s", stderr)
	}
	if d := time.Since(start); d > time.Minute {
		t.Errorf("took %v: the boot deadline was waited out", d)
	}
}

// A scenario file with a mistake is refused before any VM boots (the
// kernel is a fake bzImage: nothing boots, so this runs under -short).
func TestE2EScenarioFileRefused(t *testing.T) {
	k := kernel.Kernel{Image: fakeBzImage(t, t.TempDir(), "6.12.2-fake", 0)}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("scenarios:\n  - name: x\n    path: ofo\n    frames: [{header: 1, payload: 1}]\n    sends: [10]\n"), 0o644)
	out := t.TempDir()
	code, _, stderr := runHarness(t, "run", "--kernel", k.Image, "--scenarios", bad, "--out", out)
	// The refusal names the file, line and column, and the scenario.
	if code != 2 || !regexp.MustCompile(regexp.QuoteMeta(bad)+`:\d+:\d+: scenario 1`).MatchString(stderr) || !strings.Contains(stderr, "needs segments sent by the TCP peer") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "console.log")); err == nil {
		t.Error("a VM booted for a refused scenario file")
	}
}
