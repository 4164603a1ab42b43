package e2e

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A kernel told not to reboot on a panic (panic=0 after the harness's
// panic=-1) idles on after it: the panic on the console still ends the
// boot at once, quoted, and is not taken for a hang worth a second try.
func TestE2EPanicBeforeInitPanic0(t *testing.T) {
	needQEMU(t)
	k := debianKernel(t)
	sb := newSandbox(t)
	start := time.Now()
	// The boot deadline (4x under TCG) is far longer than the test allows.
	code, _, stderr := sb.run(t, 3*time.Minute, nil, "run", "--kernel", k.Image, "--out", filepath.Join(sb.cwd, "out"),
		"--append", "rdinit=/nonexistent panic=0", "--boot-timeout", "10m")
	if code != 2 || !strings.Contains(stderr, "Kernel panic - not syncing") {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 2 and the panic quoted", code, stderr)
	}
	if strings.Contains(stderr, "trying once more") {
		t.Errorf("a panic was retried:\n%s", stderr)
	}
	t.Logf("ended %v after the start", time.Since(start).Round(time.Second))
	empty(t, "TMPDIR", sb.tmp)
}

// A short --timeout ends the boot naming itself, not the idle deadline.
func TestE2ETimeoutNamesItself(t *testing.T) {
	needQEMU(t)
	k := debianKernel(t)
	sb := newSandbox(t)
	code, _, stderr := sb.run(t, 3*time.Minute, nil, "run", "--kernel", k.Image, "--out", filepath.Join(sb.cwd, "out"), "--timeout", "1s")
	if code != 2 || !strings.Contains(stderr, "run deadline passed") || !strings.Contains(stderr, "--timeout 1s") {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 2 and the run deadline named", code, stderr)
	}
	if strings.Contains(stderr, "fell silent") {
		t.Errorf("the idle deadline was blamed:\n%s", stderr)
	}
	empty(t, "TMPDIR", sb.tmp)
}
