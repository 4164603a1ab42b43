package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/kernel-harness/harness/harness/report"
)

// TestE2EEachPatch runs one out-of-order case after each patch of the
// port: the autolowat case is unsupported until the op, the flag and the
// kfunc are all there (patch 5), fails while nothing calls the hook yet
// (patches 5 and 6), and passes from patch 7 on, when the call sites are
// in (patches 8 to 10 add selftests headers, a program and a test, not
// kernel code). The baseline case passes after every patch. Each prefix
// is an incremental build in the shared O= folder, and a cache hit the
// next time.
func TestE2EEachPatch(t *testing.T) {
	needQEMU(t)
	tree := linuxTree(t)
	series, _ := filepath.Abs("../../selftests/series/" + port)
	out := t.TempDir()
	code, stdout, stderr := runHarness(t, "run", "--tree", tree, "--series", series, "--each-patch",
		"--scenario", "^ofo-descriptor-last/ipv4/", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	rep := readReport(t, out)
	tbl := rep.EachPatch
	if tbl == nil || len(tbl.Prefixes) != portPatches {
		t.Fatalf("each_patch %+v", tbl)
	}
	const base, auto = "ofo-descriptor-last/ipv4/baseline", "ofo-descriptor-last/ipv4/autolowat"
	want := map[int]string{1: report.Unsupported, 2: report.Unsupported, 3: report.Unsupported, 4: report.Unsupported,
		5: report.Fail, 6: report.Fail, 7: report.Pass, 8: report.Pass, 9: report.Pass, 10: report.Pass}
	for _, p := range tbl.Prefixes {
		if !p.Built() {
			t.Errorf("patches 1-%d: %s", p.Patches, p.Build)
			continue
		}
		if got := p.Verdicts[base]; got != report.Pass {
			t.Errorf("patches 1-%d: %s %s", p.Patches, base, got)
		}
		if got := p.Verdicts[auto]; got != want[p.Patches] {
			t.Errorf("patches 1-%d (%s): %s %s, want %s", p.Patches, p.Subject, auto, got, want[p.Patches])
		}
	}
	if !strings.Contains(stdout, "PATCHES") {
		t.Errorf("no table of patches:\n%s", stdout)
	}
}
