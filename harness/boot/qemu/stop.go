package qemu

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/digitalocean/go-qemu/qmp"

	"github.com/kernel-harness/harness/harness/boot/driver"
)

// stop ends QEMU: politely over QMP, then by force. Nothing is left running.
func stop(cmd *exec.Cmd, exited <-chan struct{}, mon qmp.Monitor) error {
	select {
	case <-exited:
		if mon != nil {
			mon.Disconnect()
		}
		return nil
	default:
	}
	if mon != nil {
		// Not waited for: go-qemu's Run has no deadline, and a wedged QEMU
		// never answers. Disconnect below ends it.
		go mon.Run([]byte(`{"execute":"quit"}`))
		select {
		case <-exited:
			mon.Disconnect()
			return nil
		case <-time.After(3 * time.Second):
		}
		mon.Disconnect()
	}
	// The whole group: QEMU leads one of its own (cleanup.SysProcAttr).
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		if err := cmd.Process.Kill(); err != nil {
			return fmt.Errorf("kill qemu: %w", err)
		}
	}
	select {
	case <-exited:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("qemu (pid %d) did not exit after SIGKILL", cmd.Process.Pid)
	}
}

func ignoreClosed(f func() error) func() error {
	return func() error {
		if err := f(); err != nil && !errors.Is(err, net.ErrClosed) {
			return err
		}
		return nil
	}
}

// kvmFailure tells whether QEMU died because KVM cannot run this guest.
func kvmFailure(stderr string) bool { return driver.KVMFailure(stderr) }

// readConsole copies the console to w and hands on its lines. A line
// longer than maxConsoleLine is handed on in pieces; the decompressor's
// last words, which end without a newline, are handed on at once.
func readConsole(r io.Reader, w io.Writer, line func(string)) {
	buf := make([]byte, 32<<10)
	var pending []byte
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if w != nil {
				w.Write(buf[:n])
			}
			pending = append(pending, buf[:n]...)
			for {
				i := bytes.IndexByte(pending, '\n')
				if i < 0 {
					break
				}
				line(strings.TrimRight(string(pending[:i]), "\r"))
				pending = pending[i+1:]
			}
			if bytes.HasSuffix(pending, []byte(driver.HaltedLine)) || len(pending) > maxConsoleLine {
				line(string(pending))
				pending = nil
			}
		}
		if err != nil {
			if len(pending) > 0 {
				line(strings.TrimRight(string(pending), "\r"))
			}
			return
		}
	}
}

// maxConsoleLine bounds the memory one unending console line takes.
const maxConsoleLine = 64 << 10

// limitWriter keeps at most n bytes; QEMU's stderr is for messages, not logs.
type limitWriter struct {
	w io.Writer
	n int
}

func (l *limitWriter) Write(p []byte) (int, error) {
	k := len(p)
	if k > l.n {
		p = p[:l.n]
	}
	l.n -= len(p)
	if len(p) > 0 {
		l.w.Write(p)
	}
	return k, nil
}

// kvmWatch passes QEMU's standard error on and ends QEMU as soon as it
// says KVM cannot run the guest: after "KVM internal error" QEMU stops
// the vCPU and waits, so the boot would only end at its deadline, as a
// hang, and be tried again the same way.
type kvmWatch struct {
	mu    sync.Mutex
	w     io.Writer
	tail  []byte // the last bytes, for a message split over writes
	kill  func()
	fired bool
}

func (k *kvmWatch) Write(p []byte) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.w.Write(p)
	k.tail = append(k.tail, p...)
	if len(k.tail) > 4096 {
		k.tail = k.tail[len(k.tail)-4096:]
	}
	k.check()
	return len(p), nil
}

// arm sets what ends QEMU, once it runs; a failure already seen ends it
// at once.
func (k *kvmWatch) arm(kill func()) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.kill = kill
	k.check()
}

func (k *kvmWatch) check() {
	if !k.fired && k.kill != nil && kvmFailure(string(k.tail)) {
		k.fired = true
		go k.kill()
	}
}
