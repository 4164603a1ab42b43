package e2e

import (
	"bufio"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestE2EStoppedHarness: a harness stopped for a while mid-run (SIGSTOP,
// as Ctrl-Z and a job's suspension do) and continued finishes its cases
// as if it had not been: the guest does not wait on a host that does
// not read, and the host's deadlines do not count the stop.
func TestE2EStoppedHarness(t *testing.T) {
	needQEMU(t)
	k := debianKernel(t)
	// Every case: their events fill what the host's socket can hold
	// while it does not read, and the guest's port with it.
	cmd := exec.Command(harnessBinary(t), "run", "--kernel", k.Image, "--out", t.TempDir())
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	stopped := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		once := false
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			if !once && strings.Contains(sc.Text(), "guest: up") {
				once = true
				cmd.Process.Signal(syscall.SIGSTOP)
				time.Sleep(40 * time.Second)
				cmd.Process.Signal(syscall.SIGCONT)
				close(stopped)
			}
		}
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(10 * time.Minute):
		cmd.Process.Kill()
		t.Fatalf("still running after 10 minutes:\n%s", log.String())
	}
	select {
	case <-stopped:
	default:
		t.Fatalf("the guest never came up, so the harness was never stopped (%v):\n%s", err, log.String())
	}
	if err != nil || strings.Contains(log.String(), "deadline exceeded") {
		t.Errorf("after a stop of 40 s: %v\n%s", err, log.String())
	}
}
