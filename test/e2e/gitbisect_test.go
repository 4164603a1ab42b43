package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kernel-harness/harness/harness/kcidb"
	"github.com/kernel-harness/harness/harness/kernel"
	"github.com/kernel-harness/harness/harness/ktap"
)

// bisectClone is a clone of the example tree for git bisect to check
// commits out in, made once per machine: git bisect moves its checkout,
// which the example tree's must never do. Its path is fixed, so that the
// harness's worktree and build folder of it are too (each step compiles
// only what changed). Every run starts it again at the tree's HEAD, with
// nothing of a previous run left in it.
func bisectClone(t *testing.T, tree string) string {
	t.Helper()
	cache, err := kernel.CacheDir()
	if err != nil {
		t.Fatal(err)
	}
	clone := filepath.Join(cache, "e2e", "linux-"+portVersion+"-git-bisect-run")
	if _, err := os.Stat(filepath.Join(clone, ".git")); err != nil {
		os.RemoveAll(clone)
		// --shared: the tree's objects, not a copy of them.
		if out, err := exec.Command("git", "clone", "-q", "--shared", "--no-checkout", tree, clone).CombinedOutput(); err != nil {
			t.Fatalf("git clone: %v\n%s", err, out)
		}
	}
	exec.Command("git", "-C", clone, "bisect", "reset").Run() // a run that was stopped
	git(t, clone, nil, "", "fetch", "-q", tree, "HEAD")
	git(t, clone, nil, "", "checkout", "-q", "-f", "--detach", "FETCH_HEAD")
	git(t, clone, nil, "", "clean", "-q", "-ffdx")
	return clone
}

// TestE2EGitBisectRun runs git's own bisect over a history made from the
// example tree with harness run as its test, --exit-untestable 125: the
// port (good), a harmless commit, one that breaks the build, its fix,
// and the commit that drops the out-of-order call site (bad). The broken
// commit is the middle of the range, so git tries it first: the harness
// says it cannot be tested and git skips it, and still names the
// regression. Two or three steps build (incrementally) and boot.
func TestE2EGitBisectRun(t *testing.T) {
	needQEMU(t)
	tree := linuxTree(t)
	before := treeState(t, tree)
	clone := bisectClone(t, tree)

	h := newHistory(t, clone)
	h.port()
	good := h.head
	h.docs(".. harness git bisect run test", "Documentation: a harmless change", "Before the broken build, so that it is the middle of the range.\n")
	const broken = "net/ipv4/tcp_cong.c" // the minimal profile compiles it
	var orig string
	brokenCommit := h.edit(broken, func(src string) string {
		orig = src
		return src + "#error \"a synthetic build failure for the git bisect run test\"\n"
	}, "tcp: break the build", "A synthetic build failure: git bisect must skip it.\n")
	h.edit(broken, func(string) string { return orig }, "tcp: fix the build", "Back to a kernel that builds.\n")
	regression := h.dropOFO()

	git(t, clone, nil, "", "bisect", "start", regression, good)
	t.Cleanup(func() { exec.Command("git", "-C", clone, "bisect", "reset").Run() })
	cmd := exec.Command("git", "bisect", "run", harnessBinary(t), "run", "--tree", ".",
		"--scenario", "ofo-descriptor-last/ipv4/autolowat", "--profile", "minimal", "--exit-untestable", "125")
	cmd.Dir = clone
	out, err := cmd.CombinedOutput()
	t.Logf("git bisect run (last lines):\n%s", lastLines(string(out), 60))
	if err != nil {
		t.Fatalf("git bisect run: %v", err)
	}
	if !strings.Contains(string(out), regression+" is the first bad commit") {
		t.Errorf("git bisect run does not name %s (tcp: drop the RCVQ callback) as the first bad commit", regression)
	}
	log := git(t, clone, nil, "", "bisect", "log")
	t.Logf("git bisect log:\n%s", log)
	if !strings.Contains(log, "git bisect skip "+brokenCommit) {
		t.Errorf("git did not skip the commit that breaks the build, %s", brokenCommit)
	}
	if bad := git(t, clone, nil, "", "rev-parse", "refs/bisect/bad"); bad != regression {
		t.Errorf("refs/bisect/bad is %s, want %s", bad, regression)
	}

	// Each step left its output folder in the tree: the broken commit's
	// says why, in every format.
	steps, _ := filepath.Glob(filepath.Join(clone, "harness-out", "*", "report.json"))
	var found bool
	for _, p := range steps {
		rep := readReport(t, filepath.Dir(p))
		if rep.Build == nil || rep.Build.Base != brokenCommit {
			continue
		}
		found = true
		if !strings.Contains(rep.Build.Error, "synthetic build failure") || rep.Kernel.Path != "" {
			t.Errorf("the broken commit's report: build %+v, kernel %+v", rep.Build, rep.Kernel)
		}
		d := readKCIDB(t, filepath.Dir(p))
		if len(d.Builds) != 1 || d.Builds[0].Status != kcidb.StatusFail || !strings.Contains(d.Builds[0].LogExcerpt, "synthetic build failure") ||
			len(d.Checkouts) != 1 || d.Checkouts[0].GitCommitHash != brokenCommit || len(d.Tests) != 0 {
			t.Errorf("the broken commit's kcidb.json: %+v", d)
		}
		if g := kunitParse(t, filepath.Join(filepath.Dir(p), ktap.FileName)); g.Misc.Failed != 1 || len(g.TestCases) != 1 || g.TestCases[0].Name != "run" {
			t.Errorf("the broken commit's results.ktap: %+v", g)
		}
	}
	if !found {
		t.Errorf("no step's output folder is the broken commit's (%d steps)", len(steps))
	}
	if after := treeState(t, tree); after != before {
		t.Errorf("the example tree changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}
