package qemu

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/digitalocean/go-qemu/qmp"
	"github.com/hashicorp/go-multierror"

	"github.com/kernel-harness/harness/harness/boot/driver"
	"github.com/kernel-harness/harness/harness/cleanup"
	"github.com/kernel-harness/harness/harness/text"
	"github.com/kernel-harness/harness/harness/wire"
)

// Accelerators.
const (
	AccelKVM  = driver.AccelKVM
	AccelTCG  = driver.AccelTCG
	AccelAuto = driver.AccelAuto
)

// ErrQEMUMissing is returned when the QEMU binary is not found.
var ErrQEMUMissing = errors.New("qemu not found")

// qmpWait bounds the wait for QEMU's QMP socket.
const qmpWait = 10 * time.Second

// connectWait is how long QEMU gets to connect to its console socket,
// which it does as it starts, before any guest code runs; a process
// that has not by then is not going to boot anything.
const connectWait = 15 * time.Second

// Config is what only a QEMU boot takes, given in boot.Spec.QEMU; Start
// takes Options, made from it and the rest of the Spec.
type Config struct {
	Binary string // empty: qemu-system-x86_64 from PATH
	// Machine is q35, microvm or empty (from the kernel's config).
	Machine string
	// EventsPort names the virtio-serial port the agent writes to.
	EventsPort string
	// Modules are the modules the initramfs carries.
	Modules []string
}

// Options is one QEMU boot.
type Options struct {
	QEMU           string // binary; empty: qemu-system-x86_64 from PATH
	Kernel         string
	Initrd         string
	Machine        Machine
	Cmdline        []string // more kernel arguments
	Dir            string   // where the sockets go
	EventsPortName string
	// Console receives every console byte, as the guest wrote it.
	Console io.Writer
	// ConnectWait replaces connectWait (tests).
	ConnectWait time.Duration
}

// Start starts QEMU and hands back the guest as a driver.Instance: its
// console lines and its events, each read on a goroutine of its own, and
// a Stop that ends QEMU over QMP, then by force, and frees the sockets.
func Start(ctx context.Context, o Options) (_ driver.Instance, err error) {
	bin, err := Find(o.QEMU)
	if err != nil {
		return nil, err
	}
	if err := CheckSocketDir(o.Dir); err != nil {
		return nil, err
	}
	conSock := filepath.Join(o.Dir, "console.sock")
	evSock := filepath.Join(o.Dir, "events.sock")
	qmpSock := filepath.Join(o.Dir, "qmp.sock")
	for _, s := range []string{conSock, evSock, qmpSock} {
		os.Remove(s)
	}
	// Undone in reverse order by Stop, or here when the start fails.
	var undo []func() error
	stopAll := func() error {
		var result *multierror.Error
		for i := len(undo) - 1; i >= 0; i-- {
			result = multierror.Append(result, undo[i]())
		}
		return result.ErrorOrNil()
	}
	defer func() {
		if err != nil {
			if cerr := stopAll(); cerr != nil {
				err = errors.Join(err, fmt.Errorf("clean up: %w", cerr))
			}
		}
	}()
	conL, err := net.Listen("unix", conSock)
	if err != nil {
		return nil, fmt.Errorf("console socket: %w", err)
	}
	undo = append(undo, ignoreClosed(conL.Close))
	evL, err := net.Listen("unix", evSock)
	if err != nil {
		return nil, fmt.Errorf("events socket: %w", err)
	}
	undo = append(undo, ignoreClosed(evL.Close))

	devs := []Device{
		o.Machine,
		Kernel{Image: o.Kernel, Initrd: o.Initrd},
		SerialConsole{Socket: conSock, LogLevel: 5},
		EventsPort{Socket: evSock, Name: o.EventsPortName, MMIO: o.Machine.Type == "microvm"},
		Monitor{Socket: qmpSock},
	}
	cmd := exec.Command(bin, CommandLine(devs, o.Cmdline)...)
	cmd.SysProcAttr = cleanup.SysProcAttr() // QEMU never outlives the harness
	inst := &instance{o: o}
	watch := &kvmWatch{w: &limitWriter{w: &inst.stderr, n: 64 << 10}}
	cmd.Stderr = watch
	inst.started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	watch.arm(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	// exited is closed when QEMU is gone; waitErr is then how it ended.
	// The listeners close with it: a reader whose socket QEMU never
	// connected to ends then too.
	forget := cleanup.Group(cmd.Process.Pid)
	exited := make(chan struct{})
	inst.exited = exited
	go func() {
		inst.waitErr = cmd.Wait()
		forget()
		conL.Close()
		evL.Close()
		close(exited)
	}()

	lines := make(chan string, 256)
	inst.lines = lines
	connected := make(chan struct{})
	go func() {
		defer close(lines)
		c, err := conL.Accept()
		if err != nil {
			return
		}
		close(connected)
		defer c.Close()
		readConsole(c, o.Console, func(l string) { lines <- l })
	}()
	wait := o.ConnectWait
	if wait <= 0 {
		wait = connectWait
	}
	go func() {
		select {
		case <-connected:
		case <-exited:
		case <-time.After(wait):
			// A harness stopped (Ctrl-Z) past the wait finds the
			// connection queued: a second for its Accept to run.
			select {
			case <-connected:
				return
			case <-exited:
				return
			case <-time.After(time.Second):
			}
			inst.noConnect.Store(int64(wait))
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	}()
	inst.bin = bin
	events := make(chan driver.Event, 256)
	inst.events = events
	go func() {
		defer close(events)
		c, err := evL.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		rd := wire.NewReader(c)
		for {
			e, raw, err := rd.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				events <- driver.Event{Err: fmt.Errorf("events port: %w", err)}
				return
			}
			events <- driver.Event{E: e, Raw: raw}
		}
	}()

	// QMP: connected on a goroutine, so that a QEMU that never makes its
	// socket does not hold up the boot deadline; its events are drained
	// so that QEMU never blocks on them.
	var mon qmp.Monitor
	giveUp := make(chan struct{})
	qmpDone := make(chan struct{})
	qctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer close(qmpDone)
		m, err := connectQMP(qmpSock, exited, giveUp, qmpWait)
		if err != nil {
			return
		}
		mon = m
		if ch, err := m.Events(qctx); err == nil {
			go func() {
				for ev := range ch {
					inst.qmpMu.Lock()
					inst.qmpEvents = append(inst.qmpEvents, ev.Event)
					inst.qmpMu.Unlock()
				}
			}()
		}
	}()
	undo = append(undo, func() error {
		close(giveUp)
		<-qmpDone
		defer cancel()
		return stop(cmd, exited, mon)
	})

	inst.stop = stopAll
	return inst, nil
}

// instance is a QEMU that Start started.
type instance struct {
	o       Options
	started time.Time
	events  <-chan driver.Event
	lines   <-chan string
	exited  <-chan struct{}
	waitErr error // how QEMU ended, once exited is closed
	stderr  strings.Builder
	stop    func() error
	bin     string
	// noConnect is how long QEMU was given to connect to its console
	// before it was killed for not doing so; 0 if it did.
	noConnect atomic.Int64

	qmpMu     sync.Mutex
	qmpEvents []string
}

var _ driver.Instance = (*instance)(nil)

func (i *instance) Started() time.Time          { return i.started }
func (i *instance) Events() <-chan driver.Event { return i.events }
func (i *instance) Lines() <-chan string        { return i.lines }
func (i *instance) Exited() <-chan struct{}     { return i.exited }
func (i *instance) Stop() error                 { return i.stop() }
func (i *instance) Command() driver.Command     { return driver.Command{} }

// Ended reads QEMU's standard error, which is only complete once QEMU
// is gone.
func (i *instance) Ended(tail []string, early bool) error {
	msg := i.stderr.String()
	switch {
	case i.noConnect.Load() != 0:
		return fmt.Errorf("%w: %s ran %v without connecting to its console socket, which QEMU does as it starts, so it was stopped: check that it is a QEMU system emulator (--qemu) and that it runs when started by hand%s",
			driver.ErrNoConnect, i.bin, time.Duration(i.noConnect.Load()), stderrNote(msg))
	case kvmFailure(msg):
		return fmt.Errorf("%w: %s", driver.ErrKVMUnusable, text.FirstLine(msg))
	case i.waitErr != nil && len(msg) > 0:
		return fmt.Errorf("qemu exited (%v): %s", i.waitErr, strings.TrimSpace(msg))
	case early && driver.LastLine(tail) == "(nothing)":
		// Not one console line: the kernel never got as far as its
		// console.
		return fmt.Errorf("%w: qemu exited (%v) before the kernel printed anything: the kernel did not start; check that %s is a whole x86_64 bzImage and that --memory %d MiB is enough for it and the initramfs",
			driver.ErrNoDone, driver.ExitText(i.waitErr), i.o.Kernel, i.o.Machine.MemoryMB)
	}
	return fmt.Errorf("%w: qemu exited (%v) %s", driver.ErrNoDone, driver.ExitText(i.waitErr), driver.LastLine(tail))
}

// Finish gives the outcome QEMU's standard error and QMP events.
func (i *instance) Finish(out *driver.Outcome) {
	out.Stderr = i.stderr.String()
	i.qmpMu.Lock()
	out.QMPEvents = append([]string(nil), i.qmpEvents...)
	i.qmpMu.Unlock()
}

// stderrNote quotes what the process said on standard error, if anything.
func stderrNote(msg string) string {
	if msg = strings.TrimSpace(msg); msg != "" {
		return "; it said: " + text.Trunc(text.OneLine(msg), 300)
	}
	return ""
}

// maxSocketPath is the longest path a unix socket takes (sun_path holds
// 108 bytes with the final NUL).
const maxSocketPath = 107

// CheckSocketDir says why QEMU's sockets cannot live in dir, or nil. The
// folder comes from TMPDIR, which the message names.
func CheckSocketDir(dir string) error {
	p := filepath.Join(dir, "console.sock") // the longest of the names
	if len(p) > maxSocketPath {
		return fmt.Errorf("the sockets for QEMU would be %s, %d bytes, more than the %d a unix socket path takes: set TMPDIR to a shorter folder (now %s)",
			p, len(p), maxSocketPath, os.TempDir())
	}
	return nil
}

// Find is the QEMU binary bin names (default qemu-system-x86_64), or why
// there is none.
func Find(bin string) (string, error) {
	if bin == "" {
		bin = "qemu-system-x86_64"
	}
	p, err := exec.LookPath(bin)
	if err == nil {
		return p, nil
	}
	if strings.Contains(bin, "/") { // a path: say what is wrong with it
		if fi, serr := os.Stat(bin); serr == nil {
			if fi.IsDir() {
				return "", fmt.Errorf("%w: --qemu %s is a folder: give the QEMU binary", ErrQEMUMissing, bin)
			}
			return "", fmt.Errorf("%w: --qemu %s is not executable (chmod +x it, or give another)", ErrQEMUMissing, bin)
		}
		return "", fmt.Errorf("%w: --qemu %s: no such file; install QEMU with: apt-get install qemu-system-x86", ErrQEMUMissing, bin)
	}
	return "", fmt.Errorf("%w: %s is not on PATH; install it with: apt-get install qemu-system-x86", ErrQEMUMissing, bin)
}

// connectQMP waits for QEMU to create its QMP socket and connects to it,
// until QEMU exits, the caller gives up or wait passes.
func connectQMP(sock string, exited, giveUp <-chan struct{}, wait time.Duration) (qmp.Monitor, error) {
	deadline := time.Now().Add(wait)
	for {
		if _, err := os.Stat(sock); err == nil {
			mon, err := qmp.NewSocketMonitor("unix", sock, 2*time.Second)
			if err == nil {
				if err = mon.Connect(); err == nil {
					return mon, nil
				}
			}
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("qmp: %w", err)
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("qmp: no socket after %v", wait)
		}
		select {
		case <-exited:
			return nil, errors.New("qmp: qemu exited")
		case <-giveUp:
			return nil, errors.New("qmp: given up")
		case <-time.After(10 * time.Millisecond):
		}
	}
}
