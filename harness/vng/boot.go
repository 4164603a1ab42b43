package vng

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/kernel-harness/harness/harness/trace"
	"github.com/kernel-harness/harness/harness/vm"
)

// Boot is one boot through vng, followed to the guest's done event or a
// deadline.
type Boot struct {
	Options
	// EventsFile is where the agent writes its events, inside RWDir.
	EventsFile string
	Deadlines  vm.Deadlines // already stretched for TCG by the caller

	// Console receives vng's output (the guest console with --verbose);
	// OnConsoleLine each line.
	Console       io.Writer
	OnConsoleLine func(string)
	OnEvent       func(e trace.Event, raw []byte)
}

// poll is how often the events file is read for new lines.
const poll = 50 * time.Millisecond

// Run starts vng and follows the events file. Errors from vng carry its
// command line and what it printed, as they are.
func Run(ctx context.Context, b Boot) (*vm.Outcome, error) {
	out := &vm.Outcome{}
	bin, err := Find(b.VNG)
	if err != nil {
		return out, err
	}
	args := CommandLine(b.Options)
	cmdline := bin + " " + shellJoin(args)
	os.Remove(b.EventsFile)
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // vng starts QEMU: stop them together
	var tail tailLines
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if b.Console != nil {
		// console.log then says what made it.
		fmt.Fprintf(b.Console, "$ %s\n", cmdline)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return out, fmt.Errorf("start %s: %w", cmdline, err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); pw.Close(); close(exited) }()
	conDone := make(chan struct{})
	go func() {
		defer close(conDone)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if b.Console != nil {
				fmt.Fprintln(b.Console, line)
			}
			tail.add(line)
			if b.OnConsoleLine != nil {
				b.OnConsoleLine(line)
			}
		}
		io.Copy(io.Discard, pr)
	}()
	defer stop(cmd, exited)

	f := &follower{path: b.EventsFile}
	finish := func(err error) (*vm.Outcome, error) {
		out.Duration = time.Since(start)
		out.ConsoleTail = tail.lines()
		if err != nil && !errors.Is(err, ErrMissing) {
			err = fmt.Errorf("%w\nvng command: %s", err, cmdline)
		}
		return out, err
	}
	// deliver passes new events on; it says whether done came.
	deliver := func() (bool, error) {
		evs, err := f.read()
		for _, m := range evs {
			if out.FirstEvent == 0 {
				out.FirstEvent = time.Since(start)
			}
			if b.OnEvent != nil {
				b.OnEvent(m.e, m.raw)
			}
			if m.e.Kind == trace.Done {
				out.Done = true
			}
		}
		return out.Done, err
	}
	d := b.Deadlines
	boot := time.NewTimer(d.Boot)
	defer boot.Stop()
	idle := time.NewTimer(d.Run)
	defer idle.Stop()
	total := time.NewTimer(d.Run)
	defer total.Stop()
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return finish(fmt.Errorf("interrupted: %w", ctx.Err()))
		case <-exited:
			<-conDone
			done, err := deliver()
			if err != nil {
				return finish(err)
			}
			if done {
				return finish(nil)
			}
			return finish(exitErr(waitErr, tail.lines()))
		case <-tick.C:
			n := f.seen
			done, err := deliver()
			if err != nil {
				return finish(err)
			}
			if f.seen > n {
				boot.Stop()
				idle.Reset(d.Idle)
			}
			if done {
				// The command ends next, and vng with it; wait a moment.
				select {
				case <-exited:
					<-conDone
				case <-time.After(5 * time.Second):
				}
				return finish(nil)
			}
		case <-boot.C:
			return finish(fmt.Errorf("%w (%v); vng ended with: %s", vm.ErrBootHang, d.Boot, lastLine(tail.lines())))
		case <-idle.C:
			return finish(fmt.Errorf("%w: no event for %v; vng ended with: %s", vm.ErrSilent, d.Idle, lastLine(tail.lines())))
		case <-total.C:
			return finish(fmt.Errorf("%w (%v)", vm.ErrDeadline, d.Run))
		}
	}
}

// stop ends vng and the QEMU it started: SIGTERM to the group, then SIGKILL.
func stop(cmd *exec.Cmd, exited <-chan struct{}) {
	select {
	case <-exited:
		return
	default:
	}
	pgid := -cmd.Process.Pid
	syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-exited:
		return
	case <-time.After(3 * time.Second):
	}
	syscall.Kill(pgid, syscall.SIGKILL)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
	}
}

type evMsg struct {
	e   trace.Event
	raw []byte
}

// follower reads the complete lines added to the events file since the
// last read; a line still being written waits for its newline.
type follower struct {
	path   string
	offset int64
	line   int
	seen   int
}

func (f *follower) read() ([]evMsg, error) {
	fh, err := os.Open(f.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil // the agent has not started yet
	}
	if err != nil {
		return nil, fmt.Errorf("events file: %w", err)
	}
	defer fh.Close()
	if _, err := fh.Seek(f.offset, io.SeekStart); err != nil {
		return nil, fmt.Errorf("events file: %w", err)
	}
	data, err := io.ReadAll(fh)
	if err != nil {
		return nil, fmt.Errorf("events file: %w", err)
	}
	var out []evMsg
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return out, nil
		}
		raw := data[:i]
		data = data[i+1:]
		f.offset += int64(i + 1)
		f.line++
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		e, _, err := trace.NewReader(bytes.NewReader(raw)).Next()
		if err != nil {
			return out, fmt.Errorf("events file %s line %d: %w", f.path, f.line, err)
		}
		f.seen++
		out = append(out, evMsg{e, append([]byte(nil), raw...)})
	}
}

type tailLines struct {
	mu sync.Mutex
	l  []string
}

func (t *tailLines) add(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.l = append(t.l, s)
	if len(t.l) > 50 {
		t.l = t.l[len(t.l)-50:]
	}
}

func (t *tailLines) lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.l...)
}

func lastN(l []string, n int) []string {
	if len(l) > n {
		return l[len(l)-n:]
	}
	return l
}

func lastLine(l []string) string {
	if len(l) == 0 {
		return "(nothing)"
	}
	return l[len(l)-1]
}

// exitErr is vng ending before the guest was done: what it printed, and
// what the kernel probably lacks when its init could not run.
func exitErr(waitErr error, tail []string) error {
	err := fmt.Errorf("%w: vng exited (%v); it printed: %s", vm.ErrNoDone, exitText(waitErr), strings.Join(lastN(tail, 10), "\n"))
	if h := Hint(tail); h != "" {
		err = fmt.Errorf("%s: %w", h, err)
	}
	return err
}

func exitText(err error) string {
	if err == nil {
		return "status 0"
	}
	return err.Error()
}
