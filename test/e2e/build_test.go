package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/scenario"
)

// treeState is what must not change in the user's checkout.
func treeState(t *testing.T, tree string) string {
	t.Helper()
	var b strings.Builder
	for _, args := range [][]string{{"rev-parse", "HEAD"}, {"status", "--porcelain"}, {"branch", "--list"}, {"stash", "list"}} {
		out, err := exec.Command("git", append([]string{"-C", tree}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		b.Write(out)
	}
	return b.String()
}

func readReport(t testing.TB, dir string) report.Report {
	t.Helper()
	var rep report.Report
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestE2EBuildSeries applies our 7.3 port of the RCVQ hook to Debian's
// 7.3 tree, builds it with the minimal profile (or takes it from the
// cache), boots it, and checks from inside the guest that the series is
// there: the probe finds the op, the flag and the kfunc, and every
// autolowat check passes, with fewer wake-ups than the stock behaviour
// wherever a frame is split. A second run must come from the artifact
// cache. This is the one kernel build of a test run.
func TestE2EBuildSeries(t *testing.T) {
	needQEMU(t)
	tree := linuxTree(t)
	before := treeState(t, tree)
	series, _ := filepath.Abs("../../selftests/series/" + port)

	for i, wantHit := range []bool{false, true} {
		out := t.TempDir()
		code, stdout, stderr := runHarness(t, "run", "--tree", tree, "--series", series, "--profile", "minimal", "--out", out)
		if code != 0 {
			t.Fatalf("run %d: exit %d\nstdout:\n%s\nstderr:\n%s", i+1, code, stdout, stderr)
		}
		rep := readReport(t, out)
		b := rep.Build
		if b == nil || b.Series == nil || len(b.Series.Patches) != portPatches {
			t.Fatalf("run %d: build section %+v", i+1, b)
		}
		for _, p := range b.Series.Patches {
			if p.State != "applied" {
				t.Errorf("run %d: patch %d/%d %q %s", i+1, p.Number, p.Total, p.Subject, p.State)
			}
		}
		if b.Base == "" || !strings.HasPrefix(b.BaseSubject, "Linux "+portVersion+" (Debian linux-source-"+portVersion+" ") || b.Profile != "minimal" {
			t.Errorf("run %d: build %+v", i+1, b)
		}
		if i == 1 && b.CacheHit != wantHit {
			t.Errorf("run %d: cache hit %v, want %v", i+1, b.CacheHit, wantHit)
		}
		// The first screen says what is tested: each patch and its state.
		if !strings.Contains(stderr, "series: [1/") || !strings.Contains(stderr, "] applied: ") {
			t.Errorf("run %d: the patches are not listed:\n%s", i+1, stderr)
		}
		// A hit needs no checkout: the inputs' index names the kernel.
		if hit := strings.Contains(stdout+stderr, "nothing checked out"); i == 1 && !hit {
			t.Errorf("run %d: the cache hit checked the tree out:\n%s", i+1, stderr)
		}
		if rep.Verdict != report.Pass {
			t.Errorf("run %d: verdict %s (%s)", i+1, rep.Verdict, rep.Error)
		}
		if fi, err := os.Stat(filepath.Join(out, "build.log")); err != nil || fi.Size() == 0 {
			t.Errorf("run %d: build.log empty or missing: %v", i+1, err)
		}
		checkPatched(t, rep)
		if h := rep.Hook; h == nil || !h.Exercised || h.Unsupported != 0 || strings.Join(h.Paths, ",") != "in-order,ofo,fastopen" {
			t.Errorf("run %d: hook %+v, want exercised on in-order, ofo and fastopen", i+1, rep.Hook)
		}
		if want := fmt.Sprintf("the series' hook ran in %d autolowat cases (in-order, ofo, fastopen)", 2*len(scenario.All())); !strings.Contains(stdout, want) {
			t.Errorf("run %d: the last line does not say what was tested:\n%s", i+1, stdout)
		}
	}
	if after := treeState(t, tree); after != before {
		t.Errorf("the user's tree changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// TestE2ENegativeControl runs the port without its tcp_ofo_queue() call
// site: the out-of-order autolowat scenarios must fail, naming the missing
// out-of-order callback, and everything in order must pass. It follows
// TestE2EBuildSeries, so the build folder recompiles only tcp_input.c.
func TestE2ENegativeControl(t *testing.T) {
	needQEMU(t)
	tree := linuxTree(t)
	series, _ := filepath.Abs("../../selftests/series/" + port + "-no-ofo")
	out := t.TempDir()
	code, stdout, stderr := runHarness(t, "run", "--tree", tree, "--series", series, "--profile", "minimal", "--out", out)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (scenarios failed)\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	rep := readReport(t, out)
	for _, s := range rep.Scenarios {
		ofo := s.Path == "ofo" || s.Name == "fastopen-then-ofo"
		switch {
		case s.Mode == "autolowat" && ofo:
			found := false
			for _, ch := range s.FailedChecks {
				if ch.Name == "rcvq-path" && strings.Contains(ch.Got, "no callback on the ofo path") {
					found = true
				}
			}
			if s.Verdict != report.Fail || !found && s.Path == "ofo" {
				t.Errorf("%s: verdict %s, failed %+v; want a failure naming the missing ofo callback", s.ID(), s.Verdict, s.FailedChecks)
			}
		case s.Verdict != report.Pass:
			t.Errorf("%s: verdict %s %s %+v, want pass", s.ID(), s.Verdict, s.Reason, s.FailedChecks)
		}
	}
}

// TestE2EBaseline compares the base with the base plus the port in one
// command: the stock kernel wakes the reader more often per frame than
// the series' autolowat does wherever frames are split. It follows the
// tests above, so the base compiles only what the series touched.
func TestE2EBaseline(t *testing.T) {
	needQEMU(t)
	tree := linuxTree(t)
	series, _ := filepath.Abs("../../selftests/series/" + port)
	out := t.TempDir()
	code, stdout, stderr := runHarness(t, "run", "--tree", tree, "--series", series, "--baseline", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	rep := readReport(t, out)
	c := rep.Baseline
	if c == nil || len(c.Rows) != len(scenario.All())*2 {
		t.Fatalf("comparison %+v", c)
	}
	for _, r := range c.Rows {
		if r.Base.Verdict != report.Pass || r.Series.Verdict != report.Pass {
			t.Errorf("%s/%s: base %s, series %s", r.Name, r.Family, r.Base.Verdict, r.Series.Verdict)
		}
		if r.Name == "split-frame" && r.Series.EpollinPerFrame >= r.Base.EpollinPerFrame {
			t.Errorf("%s/%s: %.2f EPOLLIN per frame with the series, %.2f without", r.Name, r.Family, r.Series.EpollinPerFrame, r.Base.EpollinPerFrame)
		}
	}
	base := readReport(t, filepath.Join(out, "base"))
	for _, s := range base.Scenarios {
		if s.Mode == "autolowat" && s.Verdict != report.Unsupported {
			t.Errorf("base %s: %s, want unsupported", s.ID(), s.Verdict)
		}
	}
	if !strings.Contains(stdout, "BASE EPOLLIN/FRAME") {
		t.Errorf("no side-by-side table:\n%s", stdout)
	}
}

// checkPatched holds a report of a kernel with the hook to what the
// feature promises.
func checkPatched(t *testing.T, rep report.Report) {
	t.Helper()
	for _, f := range rep.Features {
		// The port is the SOCK_OPS revision, not the struct_ops one.
		if f.Value == (f.Name == "bpf_tcp_ops") {
			t.Errorf("probe %s: %v, %s", f.Name, f.Value, f.Reason)
		}
	}
	epollin := map[string]int{}
	for _, s := range rep.Scenarios {
		if s.Verdict != report.Pass {
			t.Errorf("%s: %s %s %+v", s.ID(), s.Verdict, s.Reason, s.FailedChecks)
		}
		epollin[s.ID()] = s.EpollinUser
		if s.Mode == "autolowat" && s.PartialReads != 0 {
			t.Errorf("%s: %d partial reads", s.ID(), s.PartialReads)
		}
	}
	for _, fam := range []string{"ipv4", "ipv6"} {
		base, auto := epollin["split-frame/"+fam+"/baseline"], epollin["split-frame/"+fam+"/autolowat"]
		if auto >= base || auto != 2 {
			t.Errorf("split-frame/%s: %d EPOLLIN with autolowat, %d without; want 2 (one per frame) and fewer", fam, auto, base)
		}
	}
}

// Bad series and configs stop before anything is built, with exit status
// 2 and a message that says what is wrong, and leave the tree as it was.
func TestE2EBuildRefuses(t *testing.T) {
	tree := linuxTree(t)
	before := treeState(t, tree)
	abs := func(p string) string { a, _ := filepath.Abs(p); return a }
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"conflict", []string{"--series", abs("testdata/series-conflict")},
			[]string{`patch 1/1 "init: change a line this tree does not have" does not apply`, "init/Kconfig"}},
		{"partial", []string{"--series", abs("testdata/series-partial")},
			[]string{"has 1 of 3 patches", "missing 1, 3", "--allow-partial"}},
		{"vanished option", []string{"--config-item", "CONFIG_NO_SUCH_OPTION=y"},
			[]string{"CONFIG_NO_SUCH_OPTION"}},
		{"no BTF", []string{"--config-item", "CONFIG_DEBUG_INFO_BTF=n"},
			[]string{"CONFIG_DEBUG_INFO_BTF"}},
		// "not a tree" needs no tree: TestE2EBuildNotATree.
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"build", "--tree", tree, "--out", t.TempDir()}, tt.args...)
			code, _, stderr := runHarness(t, args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr:\n%s", code, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
	if after := treeState(t, tree); after != before {
		t.Errorf("the user's tree changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// TestE2EBuildNotATree: a --tree that is not a git checkout is refused
// with exit status 2, naming it. It needs no kernel tree, so it runs
// under -short; the build's tools are checked first, so on a machine
// without them that refusal is what it sees, and it skips saying so.
func TestE2EBuildNotATree(t *testing.T) {
	code, _, stderr := runHarness(t, "build", "--tree", "/tmp", "--out", t.TempDir())
	if code == 2 && strings.Contains(stderr, "the kernel cannot be built here") {
		t.Skipf("the build's tools are missing, and are checked first:\n%s", stderr)
	}
	if code != 2 {
		t.Fatalf("exit %d, want 2; stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "not a git checkout") {
		t.Errorf("stderr lacks %q:\n%s", "not a git checkout", stderr)
	}
}

// TestE2EBuildRequirements: a kernel build on a machine without pahole
// stops before a worktree is made, naming the package to install, not
// after configuring with words about CONFIG_DEBUG_INFO_BTF.
func TestE2EBuildRequirements(t *testing.T) {
	tree := t.TempDir()
	for _, args := range [][]string{{"init", "-q"}, {"-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "empty"}} {
		if out, err := exec.Command("git", append([]string{"-C", tree}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	// A PATH with every tool a build needs but pahole: those of them this
	// machine has (git it must: the tree above is made with it). Another
	// missing one is named too, beside pahole.
	bin := t.TempDir()
	for _, name := range []string{"git", "make", "gcc", "flex", "bison", "bc"} {
		p, err := exec.LookPath(name)
		if err != nil {
			continue
		}
		os.Symlink(p, filepath.Join(bin, name))
	}
	cache := t.TempDir()
	cmd := exec.Command(harnessBinary(t), "build", "--tree", tree, "--out", t.TempDir())
	cmd.Env = append(os.Environ(), "PATH="+bin, "XDG_CACHE_HOME="+cache)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("want exit 2, got %v\n%s", err, out)
	}
	for _, w := range []string{"the kernel cannot be built here", "pahole 1.16 or newer is missing", "apt-get install pahole"} {
		if !strings.Contains(string(out), w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if _, err := os.Stat(filepath.Join(cache, "harness", "trees")); err == nil {
		t.Errorf("a worktree folder was made before the requirements were checked")
	}
}
