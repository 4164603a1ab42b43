package cleanup

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestTempDirRemove(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	dir, remove, err := TempDir("harness-")
	if err != nil {
		t.Fatal(err)
	}
	// A live folder survives a sweep by another harness.
	Sweep(os.TempDir(), "harness-")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("a live folder was swept: %v", err)
	}
	remove()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("folder left after remove: %v", err)
	}
}

// A folder whose owner died is removed by the next TempDir; one that
// was never the harness's is left alone.
func TestSweepDeadOwner(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	dead := filepath.Join(tmp, "harness-111")
	os.MkdirAll(dead, 0o755)
	os.WriteFile(filepath.Join(dead, lockName), nil, 0o600)
	os.WriteFile(filepath.Join(dead, "initramfs.cpio"), make([]byte, 10), 0o600)
	other := filepath.Join(tmp, "harness-e2e-222")
	os.MkdirAll(other, 0o755)
	_, remove, err := TempDir("harness-")
	if err != nil {
		t.Fatal(err)
	}
	defer remove()
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("dead owner's folder left: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("a folder without an owner file was removed: %v", err)
	}
}

func TestNowKillsGroupsAndRemovesFolders(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	dir, _, err := TempDir("harness-")
	if err != nil {
		t.Fatal(err)
	}
	// sh leads a group with a child of its own: both must die.
	cmd := exec.Command("sh", "-c", "sleep 60 & wait")
	cmd.SysProcAttr = SysProcAttr()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	Group(cmd.Process.Pid)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	Now()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the process group outlived Now")
	}
	// The child is reaped by init a moment later.
	deadline := time.Now().Add(3 * time.Second)
	for syscall.Kill(-cmd.Process.Pid, 0) == nil && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := syscall.Kill(-cmd.Process.Pid, 0); err != syscall.ESRCH {
		t.Errorf("kill(-pgid, 0) = %v, want ESRCH: a child of the group lives on", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("folder left after Now: %v", err)
	}
}
