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
	"syscall"
	"time"

	"github.com/kernel-harness/harness/harness/boot/driver"
	"github.com/kernel-harness/harness/harness/cleanup"
	"github.com/kernel-harness/harness/harness/wire"
)

// poll is how often the events file is read for new lines.
const poll = 50 * time.Millisecond

// Start starts vng and hands back the guest as a driver.Instance: vng's
// output (the guest console, with --verbose) as console lines, also
// copied to console, and the events the agent appends to eventsFile,
// followed every poll. Errors carry vng's command line and what it
// printed, as they are.
func Start(ctx context.Context, o Options, eventsFile string, console io.Writer) (driver.Instance, error) {
	bin, err := Find(o.VNG)
	if err != nil {
		return nil, err
	}
	args := CommandLine(o)
	cmdline := bin + " " + shellJoin(args)
	os.Remove(eventsFile)
	cmd := exec.Command(bin, args...)
	// vng starts QEMU: stop them together. The parent-death signal reaches
	// vng only; its QEMU outlives a harness killed with SIGKILL.
	cmd.SysProcAttr = cleanup.SysProcAttr()
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if console != nil {
		// console.log then says what made it.
		fmt.Fprintf(console, "$ %s\n", cmdline)
	}
	started := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmdline, err)
	}
	forget := cleanup.Group(cmd.Process.Pid)
	exited := make(chan struct{})
	inst := &instance{cmd: cmd, cmdline: cmdline, started: started, exited: exited}
	go func() { inst.waitErr = cmd.Wait(); forget(); pw.Close(); close(exited) }()

	lines := make(chan string, 256)
	inst.lines = lines
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		killed := false
		for sc.Scan() {
			line := sc.Text()
			if console != nil {
				fmt.Fprintln(console, line)
			}
			// After "KVM internal error" QEMU waits with the vCPU stopped:
			// end it now, so that it is KVM failing and not a boot hang.
			if !killed && driver.KVMFailure(line) {
				killed = true
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			}
			lines <- line
		}
		io.Copy(io.Discard, pr)
	}()
	// The events file is read every poll, and once more after vng ended.
	events := make(chan driver.Event, 256)
	quit := make(chan struct{})
	followed := make(chan struct{})
	inst.events, inst.quit, inst.followed = events, quit, followed
	go func() {
		defer close(followed)
		defer close(events)
		f := &follower{path: eventsFile}
		tick := time.NewTicker(poll)
		defer tick.Stop()
		for {
			last := false
			select {
			case <-tick.C:
			case <-exited:
				last = true
			case <-quit:
				return
			}
			evs, err := f.read()
			for _, m := range evs {
				events <- driver.Event{E: m.e, Raw: m.raw}
			}
			if err != nil {
				events <- driver.Event{Err: err}
				return
			}
			if last {
				return
			}
		}
	}()
	return inst, nil
}

// instance is a vng that Start started.
type instance struct {
	cmd      *exec.Cmd
	cmdline  string
	started  time.Time
	events   <-chan driver.Event
	lines    <-chan string
	exited   <-chan struct{}
	waitErr  error           // how vng ended, once exited is closed
	quit     chan<- struct{} // ends the events file's follower
	followed <-chan struct{} // closed when the follower is gone
}

var _ driver.Instance = (*instance)(nil)

func (i *instance) Started() time.Time          { return i.started }
func (i *instance) Events() <-chan driver.Event { return i.events }
func (i *instance) Lines() <-chan string        { return i.lines }
func (i *instance) Exited() <-chan struct{}     { return i.exited }
func (i *instance) Finish(*driver.Outcome)      {}

// Command is vng's command line: vng's own messages do not say what it
// was asked.
func (i *instance) Command() driver.Command {
	return driver.Command{Name: "vng", Line: i.cmdline}
}

func (i *instance) Ended(tail []string, early bool) error {
	if KVMFailed(tail) {
		return fmt.Errorf("%w: vng failed with KVM: %s", driver.ErrKVMUnusable, strings.Join(lastN(tail, 3), "\n"))
	}
	return exitErr(i.waitErr, tail)
}

func (i *instance) Stop() error {
	stop(i.cmd, i.exited)
	close(i.quit)
	<-i.followed
	return nil
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
	e   wire.Event
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
		e, _, err := wire.NewReader(bytes.NewReader(raw)).Next()
		if err != nil {
			return out, fmt.Errorf("events file %s line %d: %w", f.path, f.line, err)
		}
		f.seen++
		out = append(out, evMsg{e, append([]byte(nil), raw...)})
	}
}

func lastN(l []string, n int) []string {
	if len(l) > n {
		return l[len(l)-n:]
	}
	return l
}

// exitErr is vng ending before the guest was done: what it printed, and
// what the kernel probably lacks when its init could not run.
func exitErr(waitErr error, tail []string) error {
	err := fmt.Errorf("%w: vng exited (%v); it printed: %s", driver.ErrNoDone, driver.ExitText(waitErr), strings.Join(lastN(tail, 10), "\n"))
	if h := Hint(tail); h != "" {
		err = fmt.Errorf("%s: %w", h, err)
	}
	return err
}
