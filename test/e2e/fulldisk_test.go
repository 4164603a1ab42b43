package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestE2EFullDisk: an --out on a file system that fills during the boot
// stops the run at the first refused write, exit 2, naming the file and
// the folder; the run does not go on to a verdict of pass.
func TestE2EFullDisk(t *testing.T) {
	needQEMU(t)
	k := debianKernel(t)
	out := filepath.Join(t.TempDir(), "full")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	// 16 KiB: less than the console of a boot.
	if err := syscall.Mount("tmpfs", out, "tmpfs", 0, "size=16k"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("mount a small tmpfs for --out: %v", err)
		}
		t.Skipf("cannot mount a tmpfs here (run as root): %v", err)
	}
	defer exec.Command("umount", out).Run()
	code, stdout, stderr := runHarness(t, "run", "--kernel", k.Image, "--scenario", "^split-frame$", "--out", out)
	if code != 2 || !strings.Contains(stderr, "no space left on device") || !strings.Contains(stderr, "takes no more: free space there or give another --out") {
		t.Fatalf("exit %d, want 2 saying the folder is full\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if strings.Contains(stdout, "verdict: pass") {
		t.Errorf("a run whose record was cut short passed:\n%s", stdout)
	}
}
