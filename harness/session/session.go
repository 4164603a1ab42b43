// Package session is one boot of any verb, with what it leaves behind:
// the agent and its files in a scratch folder, console.log and
// events.jsonl in the output folder, the guest's events gathered and
// kernel splats tied to what was running.
package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/kernel-harness/harness/harness/boot"
	"github.com/kernel-harness/harness/harness/boot/driver"
	"github.com/kernel-harness/harness/harness/cleanup"
	"github.com/kernel-harness/harness/harness/console"
	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/text"
	"github.com/kernel-harness/harness/harness/wire"
)

// Booted is what a session brought back, whatever its error.
type Booted struct {
	Events []wire.Event
	Splats []report.Splat
	Result boot.Result
}

// Boot boots spec once, filling in its scratch folder, its agent (this
// executable unless given), its console and its sinks. onEvent follows
// each event after it is logged; running names what runs now, for the
// splats it causes. The error is a *boot.SetupError when nothing booted;
// otherwise it is how the boot ended, with the kernel's own words first
// when it panicked or oopsed.
func Boot(ctx context.Context, spec boot.Spec, onEvent func(wire.Event), running func() string) (out Booted, err error) {
	// Registered, so that even a harness that exits at once removes it.
	work, removeWork, err := cleanup.TempDir("harness-")
	if err != nil {
		return out, &boot.SetupError{Err: err}
	}
	defer removeWork()
	spec.Work = work
	if spec.Agent == "" {
		if spec.Agent, err = os.Executable(); err != nil {
			return out, &boot.SetupError{Err: fmt.Errorf("find own binary: %w", err)}
		}
	}
	conLog, err := os.Create(filepath.Join(spec.Out, "console.log"))
	if err != nil {
		return out, &boot.SetupError{Err: err}
	}
	defer conLog.Close()
	evLog, err := os.Create(filepath.Join(spec.Out, "events.jsonl"))
	if err != nil {
		return out, &boot.SetupError{Err: err}
	}
	defer evLog.Close()
	// The first write the output folder refuses (a full disk) stops the
	// boot: a run must not go on, and pass, with its record cut short.
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	var logs logWriters
	logs.stop = func(err error) {
		stop(fmt.Errorf("%w: the output folder %s takes no more: free space there or give another --out", err, spec.Out))
	}
	con := logs.writer(conLog)
	evw := logs.writer(evLog)

	var (
		mu     sync.Mutex
		events []wire.Event
		splats console.Detector
	)
	onEvent2 := func(e wire.Event, raw []byte) {
		evw.Write(append(raw, '\n'))
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
		onEvent(e)
	}
	spec.Console = con
	spec.Sinks = boot.Sinks{OnConsoleLine: func(line string) { splats.Feed(line, running()) }, OnEvent: onEvent2}
	out.Result, err = boot.Run(ctx, spec)
	mu.Lock()
	out.Events = append([]wire.Event(nil), events...)
	mu.Unlock()
	out.Splats = splats.Splats()
	var se *boot.SetupError
	if errors.As(err, &se) {
		return out, err
	}
	if werr := logs.err(); werr != nil {
		return out, context.Cause(ctx)
	}
	if gerr := guestError(out.Events); gerr != nil && err == nil {
		err = gerr
	}
	if err != nil && !errors.Is(err, driver.ErrPanic) { // a panic is quoted already
		for _, sp := range out.Splats {
			if sp.Kind == "panic" || sp.Kind == "oops" {
				// The kernel's own words come first: they are the cause.
				err = fmt.Errorf("kernel %s: %s (%w)", sp.Kind, text.FirstLine(sp.Text), err)
				break
			}
		}
	}
	return out, err
}

func guestError(evs []wire.Event) error {
	for _, e := range evs {
		if e.Kind == wire.Error {
			return fmt.Errorf("guest agent: %s", e.Message)
		}
	}
	return nil
}

// Record puts how the boot went into the report, for every verb.
func (b Booted) Record(rep *report.Report) {
	res := b.Result
	rep.Kernel.Accel, rep.Kernel.AccelNote = res.Accel, res.AccelNote
	rep.Boot = report.Boot{Attempts: res.Attempts, Retries: res.Retries, Machine: res.Machine}
	if res.Outcome != nil {
		rep.Boot.FirstEventS = res.Outcome.FirstEvent.Seconds()
	}
}

// logWriters are the session's log files: the first write that fails
// stops the boot, and every later write fails at once.
type logWriters struct {
	mu    sync.Mutex
	first error
	stop  func(error)
}

func (l *logWriters) writer(f *os.File) io.Writer { return logWriter{l, f} }

func (l *logWriters) err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.first
}

type logWriter struct {
	l *logWriters
	f *os.File
}

func (w logWriter) Write(p []byte) (int, error) {
	if err := w.l.err(); err != nil {
		return 0, err
	}
	n, err := w.f.Write(p)
	if err != nil {
		w.l.mu.Lock()
		first := w.l.first == nil
		if first {
			w.l.first = err // an *os.PathError: it names the file
		}
		w.l.mu.Unlock()
		if first {
			w.l.stop(w.l.err())
		}
	}
	return n, err
}
