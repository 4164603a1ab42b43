package qemu

import (
	"errors"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/digitalocean/go-qemu/qmp"
	"github.com/digitalocean/go-qemu/qmp/qmptest"
)

func TestKVMFailure(t *testing.T) {
	tests := []struct {
		stderr string
		want   bool
	}{
		// The MSR error is what a too-new guest kernel gets from an old host KVM.
		{"qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69\n", true},
		{"KVM internal error. Suberror: 1\nemulation failure\n", true},
		{"Could not access KVM kernel module: Permission denied\nqemu-system-x86_64: failed to initialize kvm: Permission denied\n", true},
		// Plain QEMU errors must not send the run to TCG.
		{"qemu-system-x86_64: -foo: invalid option\n", false},
		{"qemu-system-x86_64: could not load kernel '/nope'\n", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := kvmFailure(tt.stderr); got != tt.want {
			t.Errorf("kvmFailure(%q) = %v, want %v", tt.stderr, got, tt.want)
		}
	}
}

func TestLimitWriter(t *testing.T) {
	var b strings.Builder
	w := &limitWriter{w: &b, n: 5}
	// Every write claims success so that QEMU's stderr copy never stops.
	for _, s := range []string{"abc", "defg", "x"} {
		n, err := w.Write([]byte(s))
		if n != len(s) || err != nil {
			t.Errorf("Write(%q) = %d, %v; want %d, nil", s, n, err, len(s))
		}
	}
	if b.String() != "abcde" {
		t.Errorf("kept %q, want %q", b.String(), "abcde")
	}
}

// startSleep starts a child that would outlive the test, and a channel
// closed when it has been reaped, as Boot does for QEMU.
func startSleep(t *testing.T) (*exec.Cmd, <-chan struct{}) {
	t.Helper()
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	return cmd, exited
}

// qmpRecorder is a QMP monitor that records the commands run on it and
// calls onQuit when it sees quit.
type qmpRecorder struct {
	mu   sync.Mutex
	cmds []string
}

func (r *qmpRecorder) monitor(onQuit func()) qmp.Monitor {
	return qmptest.NewMonitor(func(c qmp.Command) (any, error) {
		r.mu.Lock()
		r.cmds = append(r.cmds, c.Execute)
		r.mu.Unlock()
		if c.Execute == "quit" && onQuit != nil {
			onQuit()
		}
		return struct{}{}, nil
	})
}

func (r *qmpRecorder) commands() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.cmds)
}

func assertGone(t *testing.T, cmd *exec.Cmd, exited <-chan struct{}) {
	t.Helper()
	select {
	case <-exited:
	default:
		t.Fatal("stop returned but the process has not been reaped")
	}
	if err := syscall.Kill(cmd.Process.Pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("kill(%d, 0) = %v, want ESRCH", cmd.Process.Pid, err)
	}
}

func TestStopQuitsOverQMP(t *testing.T) {
	cmd, exited := startSleep(t)
	var rec qmpRecorder
	// A QEMU that obeys quit: the process goes away.
	mon := rec.monitor(func() { cmd.Process.Signal(syscall.SIGTERM) })
	start := time.Now()
	if err := stop(cmd, exited, mon); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("stop took %v; a QEMU that quits should not wait for the SIGKILL fallback", d)
	}
	if got := rec.commands(); !slices.Equal(got, []string{"quit"}) {
		t.Errorf("QMP commands %q, want [quit]", got)
	}
	assertGone(t, cmd, exited)
	// Ended by our SIGTERM, not by the fallback's SIGKILL.
	if ws := cmd.ProcessState.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
		t.Errorf("process ended with %v, want SIGTERM from the quit handler", cmd.ProcessState)
	}
}

func TestStopKillsWhenQuitIsIgnored(t *testing.T) {
	cmd, exited := startSleep(t)
	var rec qmpRecorder
	mon := rec.monitor(nil) // a wedged QEMU: quit does nothing
	start := time.Now()
	if err := stop(cmd, exited, mon); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if d := time.Since(start); d < 3*time.Second {
		t.Errorf("stop took %v; it should give quit 3s before killing", d)
	}
	if got := rec.commands(); !slices.Equal(got, []string{"quit"}) {
		t.Errorf("QMP commands %q, want [quit]", got)
	}
	assertGone(t, cmd, exited)
	if ws := cmd.ProcessState.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Errorf("process ended with %v, want SIGKILL", cmd.ProcessState)
	}
}

func TestStopWithoutMonitorKills(t *testing.T) {
	cmd, exited := startSleep(t)
	if err := stop(cmd, exited, nil); err != nil {
		t.Fatalf("stop: %v", err)
	}
	assertGone(t, cmd, exited)
}

func TestStopAfterExitSendsNothing(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	<-exited
	var rec qmpRecorder
	if err := stop(cmd, exited, rec.monitor(nil)); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if got := rec.commands(); len(got) != 0 {
		t.Errorf("QMP commands %q sent to a QEMU that had exited", got)
	}
}
