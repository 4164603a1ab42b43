package vm

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
	"time"

	"github.com/digitalocean/go-qemu/qmp"
	"github.com/hashicorp/go-multierror"

	"github.com/kernel-harness/harness/harness/cleanup"
	"github.com/kernel-harness/harness/harness/trace"
)

// Accelerators.
const (
	AccelKVM  = "kvm"
	AccelTCG  = "tcg"
	AccelAuto = "auto"
)

// Errors a boot can end in. Each is wrapped with what was seen.
var (
	ErrQEMUMissing = errors.New("qemu not found")
	ErrKVMUnusable = errors.New("kvm unusable")
	ErrBootHang    = errors.New("guest sent nothing before the boot deadline")
	ErrSilent      = errors.New("guest fell silent")
	ErrNoDone      = errors.New("guest ended without a done event")
	ErrDeadline    = errors.New("run deadline passed")
	// ErrPanic is a kernel panic seen on the console: nothing more will
	// come, whatever the kernel's panic= says, so the boot ends at once.
	ErrPanic = errors.New("kernel panic")
)

// panicGrace is how long the console is still read after a panic line,
// for the backtrace that follows it.
const panicGrace = 2 * time.Second

// Options is one boot.
type Options struct {
	QEMU           string // binary; empty: qemu-system-x86_64 from PATH
	Kernel         string
	Initrd         string
	Machine        Machine
	Cmdline        []string // more kernel arguments
	Dir            string   // where the sockets go
	EventsPortName string

	// Console receives every console byte; OnConsoleLine each line.
	Console       io.Writer
	OnConsoleLine func(line string)
	// OnEvent receives every event with its raw JSON line.
	OnEvent func(e trace.Event, raw []byte)

	BootTimeout time.Duration // start to first event
	IdleTimeout time.Duration // longest gap between events
	RunTimeout  time.Duration // start to done
	Stretch     int           // how much TCG stretched them, for messages
}

// Outcome is how one boot ended.
type Outcome struct {
	FirstEvent time.Duration
	Duration   time.Duration
	Done       bool
	QMPEvents  []string
	// Stderr is what QEMU printed on its standard error.
	Stderr string
	// ConsoleTail holds the last console lines, for error messages.
	ConsoleTail []string
}

// Boot starts QEMU, follows the guest until its done event or a deadline,
// then stops QEMU and cleans up, gathering every cleanup error.
func Boot(ctx context.Context, o Options) (out *Outcome, err error) {
	out = &Outcome{}
	bin, err := findQEMU(o.QEMU)
	if err != nil {
		return out, err
	}
	if err := CheckSocketDir(o.Dir); err != nil {
		return out, err
	}
	conSock := filepath.Join(o.Dir, "console.sock")
	evSock := filepath.Join(o.Dir, "events.sock")
	qmpSock := filepath.Join(o.Dir, "qmp.sock")
	for _, s := range []string{conSock, evSock, qmpSock} {
		os.Remove(s)
	}

	var undo []func() error
	defer func() {
		var result *multierror.Error
		for i := len(undo) - 1; i >= 0; i-- {
			result = multierror.Append(result, undo[i]())
		}
		if cerr := result.ErrorOrNil(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("clean up: %w", cerr))
		}
	}()

	conL, err := net.Listen("unix", conSock)
	if err != nil {
		return out, fmt.Errorf("console socket: %w", err)
	}
	undo = append(undo, ignoreClosed(conL.Close))
	evL, err := net.Listen("unix", evSock)
	if err != nil {
		return out, fmt.Errorf("events socket: %w", err)
	}
	undo = append(undo, ignoreClosed(evL.Close))

	devs := []Device{
		o.Machine,
		Kernel{Image: o.Kernel, Initrd: o.Initrd},
		SerialConsole{Socket: conSock, LogLevel: 5},
		EventsPort{Socket: evSock, Name: o.EventsPortName, MMIO: o.Machine.Type == "microvm"},
		Monitor{Socket: qmpSock},
	}
	args := CommandLine(devs, o.Cmdline)
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = cleanup.SysProcAttr() // QEMU never outlives the harness
	var stderr strings.Builder
	cmd.Stderr = &limitWriter{w: &stderr, n: 64 << 10}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return out, fmt.Errorf("start %s: %w", bin, err)
	}
	// exited is closed when QEMU is gone; waitErr is then how it ended.
	forget := cleanup.Group(cmd.Process.Pid)
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); forget(); close(exited) }()
	var mon qmp.Monitor
	undo = append(undo, func() error { return stop(cmd, exited, mon) })

	// Console and events arrive on their own goroutines; the main loop
	// below only selects on channels and deadlines.
	var tail consoleTail
	panicked := make(chan string, 1)
	conDone := make(chan struct{})
	go func() {
		defer close(conDone)
		c, err := conL.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		readConsole(c, o.Console, func(line string) {
			tail.add(line)
			if i := strings.Index(line, "Kernel panic - not syncing"); i >= 0 {
				select {
				case panicked <- line[i:]:
				default:
				}
			}
			if o.OnConsoleLine != nil {
				o.OnConsoleLine(line)
			}
		})
	}()
	type evMsg struct {
		e   trace.Event
		raw []byte
		err error
	}
	events := make(chan evMsg, 256)
	go func() {
		defer close(events)
		c, err := evL.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		rd := trace.NewReader(c)
		for {
			e, raw, err := rd.Next()
			if err == io.EOF {
				return
			}
			events <- evMsg{e, raw, err}
			if err != nil {
				return
			}
		}
	}()

	// QMP events are drained on their own goroutine so QEMU never blocks
	// on them; finish copies what arrived.
	var qmpMu sync.Mutex
	var qmpEvents []string
	// The boot deadline runs from QEMU's start, the QMP wait included.
	boot := time.NewTimer(o.BootTimeout)
	defer boot.Stop()
	if m, err := connectQMP(qmpSock, exited, min(10*time.Second, o.BootTimeout)); err == nil {
		mon = m
		qctx, cancel := context.WithCancel(context.Background())
		undo = append(undo, func() error { cancel(); return nil })
		if ch, err := mon.Events(qctx); err == nil {
			go func() {
				for ev := range ch {
					qmpMu.Lock()
					qmpEvents = append(qmpEvents, ev.Event)
					qmpMu.Unlock()
				}
			}()
		}
	}

	// The idle deadline runs from the first event on; before it the boot
	// deadline does.
	idle := time.NewTimer(o.IdleTimeout)
	idle.Stop()
	defer idle.Stop()
	dl := Deadlines{Stretch: o.Stretch}
	total := time.NewTimer(o.RunTimeout)
	defer total.Stop()
	first := true
	var panicLine string
	var grace <-chan time.Time // after a panic line
	finish := func(err error) (*Outcome, error) {
		out.Duration = time.Since(start)
		out.Stderr = stderr.String()
		out.ConsoleTail = tail.lines()
		qmpMu.Lock()
		out.QMPEvents = append([]string(nil), qmpEvents...)
		qmpMu.Unlock()
		return out, err
	}
	for {
		select {
		case <-ctx.Done():
			return finish(interrupted(ctx))
		case <-exited:
			werr := waitErr
			// Let the readers take what QEMU wrote before it went. Closing
			// the listeners ends a reader whose socket QEMU never connected
			// to; events is nil once it has been read to the end.
			conL.Close()
			evL.Close()
			<-conDone
			if events != nil {
				for m := range events {
					if m.err == nil && o.OnEvent != nil {
						o.OnEvent(m.e, m.raw)
					}
					if m.e.Kind == trace.Done {
						out.Done = true
					}
				}
			}
			if out.Done {
				return finish(nil)
			}
			select {
			case panicLine = <-panicked: // seen as QEMU went
			default:
			}
			if panicLine != "" {
				return finish(fmt.Errorf("%w: %s", ErrPanic, panicLine))
			}
			if kvmFailure(stderr.String()) {
				return finish(fmt.Errorf("%w: %s", ErrKVMUnusable, firstLine(stderr.String())))
			}
			if werr != nil && stderr.Len() > 0 {
				return finish(fmt.Errorf("qemu exited (%v): %s", werr, strings.TrimSpace(stderr.String())))
			}
			if first && lastLine(tail.lines()) == "(nothing)" {
				// Not one console line: the kernel never got as far as
				// its console.
				return finish(fmt.Errorf("%w: qemu exited (%v) before the kernel printed anything: the kernel did not start; check that %s is a whole x86_64 bzImage and that --memory %d MiB is enough for it and the initramfs",
					ErrNoDone, exitText(werr), o.Kernel, o.Machine.MemoryMB))
			}
			return finish(fmt.Errorf("%w: qemu exited (%v) %s", ErrNoDone, exitText(werr), lastLine(tail.lines())))
		case m, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if m.err != nil {
				return finish(fmt.Errorf("events port: %w", m.err))
			}
			if first {
				first = false
				out.FirstEvent = time.Since(start)
				boot.Stop()
			}
			idle.Reset(o.IdleTimeout)
			if o.OnEvent != nil {
				o.OnEvent(m.e, m.raw)
			}
			if m.e.Kind == trace.Done {
				out.Done = true
				// The agent powers off next; give it a moment, then stop.
				select {
				case <-exited:
					// Take the console's last lines before returning.
					conL.Close()
					<-conDone
				case <-time.After(5 * time.Second):
				}
				return finish(nil)
			}
		case line := <-panicked:
			// With panic=0 (or a kernel that ignores panic=-1) QEMU runs
			// on forever: take the backtrace and what QEMU still says for
			// a moment, then stop.
			panicLine = line
			grace = time.After(panicGrace)
		case <-grace:
			return finish(fmt.Errorf("%w: %s", ErrPanic, panicLine))
		case <-boot.C:
			return finish(fmt.Errorf("%w (%s); console ended with: %s", ErrBootHang, dl.Note(o.BootTimeout, "--boot-timeout"), lastLine(tail.lines())))
		case <-idle.C:
			return finish(fmt.Errorf("%w: no event for %s; console ended with: %s", ErrSilent, dl.Note(o.IdleTimeout, "--idle-timeout"), lastLine(tail.lines())))
		case <-total.C:
			return finish(fmt.Errorf("%w (%s)", ErrDeadline, dl.Note(o.RunTimeout, "--timeout")))
		}
	}
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

// interrupted is the error of a boot stopped by ctx: its cause (such as
// the signal) when it has one.
func interrupted(ctx context.Context) error {
	if c := context.Cause(ctx); c != nil && c != ctx.Err() {
		return c
	}
	return fmt.Errorf("interrupted: %w", ctx.Err())
}

// Interrupted is interrupted, for the other backends.
func Interrupted(ctx context.Context) error { return interrupted(ctx) }

func findQEMU(bin string) (string, error) {
	if bin == "" {
		bin = "qemu-system-x86_64"
	}
	p, err := exec.LookPath(bin)
	if err != nil {
		return "", fmt.Errorf("%w: %s is not on PATH; install it with: apt-get install qemu-system-x86", ErrQEMUMissing, bin)
	}
	return p, nil
}

// connectQMP waits for QEMU to create its QMP socket and connects to it.
func connectQMP(sock string, exited <-chan struct{}, wait time.Duration) (qmp.Monitor, error) {
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
		case <-time.After(10 * time.Millisecond):
		}
	}
}
