package e2e

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kernel-harness/harness/harness/cleanup"
)

// qemuOf lists the live QEMU processes whose command line mentions dir
// (their sockets are in the run's temporary folder). Zombies waiting for
// init to reap them are dead already and not listed.
func qemuOf(dir string) []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !strings.Contains(string(cmdline), "qemu-system") || !strings.Contains(string(cmdline), dir) {
			continue
		}
		if stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil {
			if i := strings.LastIndexByte(string(stat), ')'); i > 0 && strings.HasPrefix(string(stat[i+1:]), " Z") {
				continue
			}
		}
		pids = append(pids, pid)
	}
	return pids
}

// waitFor polls cond until it holds or limit passes.
func waitFor(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// commaSandbox is a sandbox whose TMPDIR holds a comma, which QEMU's
// option syntax must not take for the end of a socket path: its QEMU
// starts only when the paths are escaped. qemuDir is what QEMU's command
// line holds of it whatever the escaping.
func commaSandbox(t *testing.T) (sb sandbox, qemuDir string) {
	sb = newSandbox(t)
	qemuDir = sb.tmp
	sb.tmp = filepath.Join(sb.tmp, "tmp,dir")
	if err := os.Mkdir(sb.tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	return sb, qemuDir
}

// startRun starts a harness run of one scenario in the sandbox and
// returns once its QEMU is up.
func startRun(t *testing.T, sb sandbox, qemuDir, kernel, out string, stderr io.Writer) (*exec.Cmd, chan error) {
	t.Helper()
	cmd := exec.Command(harnessBinary(t), "run", "--kernel", kernel, "--out", out, "--scenario", "^one-frame-per-send$")
	cmd.Dir, cmd.Env, cmd.Stderr = sb.cwd, sb.env(), stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		for _, pid := range qemuOf(qemuDir) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	if !waitFor(2*time.Minute, func() bool { return len(qemuOf(qemuDir)) > 0 }) {
		t.Fatal("no QEMU within 2 minutes")
	}
	return cmd, done
}

// syncBuilder is a strings.Builder the test reads while exec writes it.
type syncBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuilder) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuilder) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func exitCode(t *testing.T, done chan error, limit time.Duration) int {
	t.Helper()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				return -int(ws.Signal())
			}
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(limit):
		t.Fatalf("harness still running %v after the signal", limit)
		return 0
	}
}

// Nothing outlives the harness (whose TMPDIR holds a comma): after SIGHUP or SIGTERM it stops QEMU,
// writes a report that names the signal, removes its temporary folder
// and exits 2; a second Ctrl-C quits at once (130) and still leaves no
// QEMU and no folder; after SIGKILL QEMU dies within a second by its
// parent-death signal, and the next harness removes the folder.
func TestE2ESignals(t *testing.T) {
	needQEMU(t)
	k := debianKernel(t)
	for _, tc := range []struct {
		name    string
		signals []syscall.Signal
		code    int
		msg     string // on stderr and in report.json
	}{
		{"SIGHUP", []syscall.Signal{syscall.SIGHUP}, 2, "interrupted by SIGHUP"},
		{"SIGTERM", []syscall.Signal{syscall.SIGTERM}, 2, "interrupted by SIGTERM"},
		{"SIGINT twice", []syscall.Signal{syscall.SIGINT, syscall.SIGINT}, 130, "SIGINT again: quit"},
		{"SIGKILL", []syscall.Signal{syscall.SIGKILL}, -int(syscall.SIGKILL), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sb, qemuDir := commaSandbox(t)
			out := filepath.Join(sb.cwd, "out")
			var stderr syncBuilder
			cmd, done := startRun(t, sb, qemuDir, k.Image, out, &stderr)
			if len(tc.signals) > 1 {
				// A QEMU that does not answer QMP's quit keeps the
				// first stop going for seconds: the second signal
				// comes while it does, as a user's second Ctrl-C. The
				// guest must be up first: a QEMU that KVM could not
				// run is ended and replaced by one under TCG.
				if !waitFor(2*time.Minute, func() bool { return strings.Contains(stderr.String(), "guest: up") }) {
					t.Fatalf("the guest did not come up:\n%s", stderr.String())
				}
				for _, pid := range qemuOf(qemuDir) {
					syscall.Kill(pid, syscall.SIGSTOP)
				}
			}
			for i, s := range tc.signals {
				cmd.Process.Signal(s)
				if i+1 < len(tc.signals) && !waitFor(10*time.Second, func() bool { return strings.Contains(stderr.String(), "again to quit at once") }) {
					t.Fatalf("no word of the first signal:\n%s", stderr.String())
				}
			}
			limit := 30 * time.Second
			if tc.code != 2 {
				limit = 5 * time.Second // at once
			}
			code := exitCode(t, done, limit)
			if code != tc.code || !strings.Contains(stderr.String(), tc.msg) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and %q", code, stderr.String(), tc.code, tc.msg)
			}
			if !waitFor(time.Second, func() bool { return len(qemuOf(qemuDir)) == 0 }) {
				t.Errorf("QEMU %v still running a second after the harness ended", qemuOf(qemuDir))
			}
			if tc.code == 2 {
				rep := readReport(t, out)
				if !strings.Contains(rep.Error, tc.msg) {
					t.Errorf("report error %q, want %q", rep.Error, tc.msg)
				}
			}
			if tc.signals[0] == syscall.SIGKILL {
				// Nothing runs after SIGKILL: the next harness to make a
				// temporary folder removes it.
				cleanup.Sweep(sb.tmp, "harness-")
			}
			empty(t, "TMPDIR", sb.tmp)
		})
	}
}

// A closed standard error (`harness run 2>&1 | head`) stops the run as
// SIGINT does: QEMU stopped, the report written, no folder left.
func TestE2EClosedStderr(t *testing.T) {
	needQEMU(t)
	k := debianKernel(t)
	sb, qemuDir := commaSandbox(t)
	out := filepath.Join(sb.cwd, "out")
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	reading := make(chan struct{})
	go func() {
		defer close(reading)
		io.Copy(io.Discard, pr)
	}()
	_, done := startRun(t, sb, qemuDir, k.Image, out, pw)
	pw.Close() // the child has its own copy
	// The reader goes away, as head does after its lines.
	pr.Close()
	<-reading
	code := exitCode(t, done, 10*time.Minute) // the next progress line comes with the guest
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if !waitFor(time.Second, func() bool { return len(qemuOf(qemuDir)) == 0 }) {
		t.Errorf("QEMU %v outlived the harness", qemuOf(qemuDir))
	}
	rep := readReport(t, out)
	if !strings.Contains(rep.Error, "standard error was closed") {
		t.Errorf("report error %q, want the closed standard error", rep.Error)
	}
	empty(t, "TMPDIR", sb.tmp)
}
