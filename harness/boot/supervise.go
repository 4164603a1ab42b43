package boot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/kernel-harness/harness/harness/boot/driver"
	"github.com/kernel-harness/harness/harness/wire"
)

// Sinks are where a boot's console lines and events go.
type Sinks struct {
	OnConsoleLine func(string)
	OnEvent       func(e wire.Event, raw []byte)
}

// tailLen is how many console lines errors can quote.
const tailLen = 50

// panicGrace is how long the console is still read after a panic line,
// for the backtrace that follows it.
const panicGrace = 2 * time.Second

// doneGrace is how long the backend's process gets to end on its own
// after the guest's done event (the agent powers off next).
const doneGrace = 5 * time.Second

// Supervise follows a started guest until its done event, a panic, the
// end of its process or a deadline, then stops it, gathering the stop's
// errors into the result. Every backend is followed the same way.
func Supervise(ctx context.Context, inst driver.Instance, d driver.Deadlines, s Sinks) (out *driver.Outcome, err error) {
	out = &driver.Outcome{}
	defer func() {
		if serr := inst.Stop(); serr != nil {
			err = errors.Join(err, fmt.Errorf("clean up: %w", serr))
		}
	}()
	var tail tail
	since := func() time.Duration { return time.Since(inst.Started()) }
	pz := watchPauses()
	defer pz.stop()
	boot := newDeadline(max(0, d.Boot-since()), pz)
	defer boot.t.Stop()
	// The idle deadline runs from the first event on; before it the boot
	// deadline does.
	idle := newDeadline(d.Idle, pz)
	idle.t.Stop()
	defer idle.t.Stop()
	total := newDeadline(max(0, d.Run-since()), pz)
	defer total.t.Stop()

	lines, events, exited := inst.Lines(), inst.Events(), inst.Exited()
	var panicLine, halted string
	var grace <-chan time.Time // after a panic line
	first := true
	onLine := func(l string) {
		tail.add(l)
		if i := strings.Index(l, "Kernel panic - not syncing"); i >= 0 && panicLine == "" {
			panicLine = l[i:]
			grace = time.After(panicGrace)
		}
		if strings.Contains(l, driver.HaltedLine) && halted == "" {
			halted = decompressorError(tail.lines())
		}
		if s.OnConsoleLine != nil {
			s.OnConsoleLine(l)
		}
	}
	onEvent := func(m driver.Event) {
		if first {
			first = false
			out.FirstEvent = since()
			boot.t.Stop()
		}
		idle.reset(d.Idle)
		if s.OnEvent != nil {
			s.OnEvent(m.E, m.Raw)
		}
		if m.E.Kind == wire.Done {
			out.Done = true
		}
	}
	// drain takes what the backend still had to say once its process is
	// gone: both channels close then.
	drain := func(limit time.Duration) {
		stop := time.After(limit)
		for lines != nil || events != nil {
			select {
			case l, ok := <-lines:
				if !ok {
					lines = nil
					continue
				}
				onLine(l)
			case m, ok := <-events:
				if !ok {
					events = nil
					continue
				}
				if m.Err == nil {
					onEvent(m)
				}
			case <-stop:
				return
			}
		}
	}
	finish := func(err error) (*driver.Outcome, error) {
		out.Duration = since()
		out.ConsoleTail = tail.lines()
		inst.Finish(out)
		if c := inst.Command().String(); err != nil && c != "" {
			err = fmt.Errorf("%w\n%s", err, c)
		}
		return out, err
	}
	for {
		select {
		case <-ctx.Done():
			return finish(driver.Interrupted(ctx))
		case l, ok := <-lines:
			if !ok {
				lines = nil
				continue
			}
			onLine(l)
			if halted != "" {
				return finish(fmt.Errorf("%w: %s", driver.ErrHalted, halted))
			}
		case m, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if m.Err != nil {
				return finish(m.Err)
			}
			onEvent(m)
			if out.Done {
				select {
				case <-exited:
					drain(2 * time.Second) // the console's last lines
				case <-time.After(doneGrace):
				}
				return finish(nil)
			}
		case <-exited:
			drain(5 * time.Second)
			switch {
			case out.Done:
				return finish(nil)
			case panicLine != "":
				return finish(fmt.Errorf("%w: %s", driver.ErrPanic, panicLine))
			}
			return finish(inst.Ended(tail.lines(), first))
		case <-grace:
			// With panic=0 (or a kernel that ignores panic=-1) the guest
			// runs on forever: the backtrace is in, stop.
			return finish(fmt.Errorf("%w: %s", driver.ErrPanic, panicLine))
		case <-boot.t.C:
			if boot.expired() {
				return finish(fmt.Errorf("%w (%s); console ended with: %s", driver.ErrBootHang, d.Note(d.Boot, "--boot-timeout"), driver.LastLine(tail.lines())))
			}
		case <-idle.t.C:
			if idle.expired() {
				return finish(fmt.Errorf("%w: no event for %s; console ended with: %s", driver.ErrSilent, d.Note(d.Idle, "--idle-timeout"), driver.LastLine(tail.lines())))
			}
		case <-total.t.C:
			if total.expired() {
				return finish(fmt.Errorf("%w (%s)", driver.ErrDeadline, d.Note(d.Run, "--timeout")))
			}
		}
	}
}

// decompressorError is the decompressor's message: the last line before
// its " -- System halted" that says something.
func decompressorError(lines []string) string {
	for i := len(lines) - 2; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			return l
		}
	}
	return "(no message)"
}

// tail keeps the last console lines for messages.
type tail struct {
	mu sync.Mutex
	l  []string
}

func (t *tail) add(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.l = append(t.l, s)
	if len(t.l) > tailLen {
		t.l = t.l[len(t.l)-tailLen:]
	}
}

func (t *tail) lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.l...)
}
