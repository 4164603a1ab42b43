package run

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/kernel-harness/harness/harness/boot"
	"github.com/kernel-harness/harness/harness/boot/driver"
	"github.com/kernel-harness/harness/harness/cleanup"
	"github.com/kernel-harness/harness/harness/console"
	"github.com/kernel-harness/harness/harness/image"
	"github.com/kernel-harness/harness/harness/kernel"
	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/text"
	"github.com/kernel-harness/harness/harness/wire"
)

// Modules the scenarios may need, loaded when the kernel has them as
// modules; built-in ones need nothing.
var wantedModules = []string{"virtio_pci", "virtio_mmio", "virtio_console", "ipv6", "tun"}

// session is one boot, whatever it is for: the agent and its files in a
// scratch folder, console.log and events.jsonl in the output folder, the
// guest's events gathered and kernel splats tied to what was running,
// the boot itself on the plan's backend.
type session struct {
	p      *Plan
	k      kernel.Kernel
	files  []image.File // the host's files for the agent
	say    func(string, ...any)
	status func(string)
	// onEvent is the payload's reaction to an event, after it is logged;
	// running names what runs now, for the splats it causes.
	onEvent func(wire.Event)
	running func() string
}

// booted is what a session brought back, whatever its error.
type booted struct {
	events []wire.Event
	splats []report.Splat
	result boot.Result
}

// boot boots the kernel once. The error is a *boot.SetupError when
// nothing booted; otherwise it is how the boot ended, with the kernel's
// own words first when it panicked or oopsed.
func (s session) boot(ctx context.Context) (out booted, err error) {
	// Registered, so that even a harness that exits at once removes it.
	work, removeWork, err := cleanup.TempDir("harness-")
	if err != nil {
		return out, &boot.SetupError{Err: err}
	}
	defer removeWork()
	agent := s.p.Init
	if agent == "" {
		if agent, err = os.Executable(); err != nil {
			return out, &boot.SetupError{Err: fmt.Errorf("find own binary: %w", err)}
		}
	}
	conLog, err := os.Create(filepath.Join(s.p.Out, "console.log"))
	if err != nil {
		return out, &boot.SetupError{Err: err}
	}
	defer conLog.Close()
	evLog, err := os.Create(filepath.Join(s.p.Out, "events.jsonl"))
	if err != nil {
		return out, &boot.SetupError{Err: err}
	}
	defer evLog.Close()

	var (
		mu     sync.Mutex
		events []wire.Event
		splats console.Detector
	)
	onEvent := func(e wire.Event, raw []byte) {
		evLog.Write(append(raw, '\n'))
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
		s.onEvent(e)
	}
	s.say("backend: %s (%s)", s.p.Backend, s.p.BackendWhy)
	o := s.p.Options
	out.result, err = boot.Run(ctx, boot.Spec{
		Backend: s.p.Backend, Kernel: s.k, Agent: agent, Extra: s.files,
		Work: work, Out: o.Out, CPUs: o.CPUs, MemoryMB: o.MemoryMB, Append: o.Append,
		Accel: o.Accel, Deadlines: sameBootDeadlines(o),
		QEMU:    boot.QEMUConfig{Binary: o.QEMU, Machine: o.Machine, EventsPort: wire.EventsPort, Modules: wantedModules},
		Console: conLog, Sinks: boot.Sinks{OnConsoleLine: func(line string) { splats.Feed(line, s.running()) }, OnEvent: onEvent},
		Say: s.say, Status: s.status,
	})
	mu.Lock()
	out.events = append([]wire.Event(nil), events...)
	mu.Unlock()
	out.splats = splats.Splats()
	var se *boot.SetupError
	if errors.As(err, &se) {
		return out, err
	}
	if gerr := guestError(out.events); gerr != nil && err == nil {
		err = gerr
	}
	if err != nil && !errors.Is(err, driver.ErrPanic) { // a panic is quoted already
		for _, sp := range out.splats {
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

// record puts how the boot went into the report, for every kind of run.
func record(res boot.Result, rep *report.Report) {
	rep.Kernel.Accel, rep.Kernel.AccelNote = res.Accel, res.AccelNote
	rep.Boot = report.Boot{Attempts: res.Attempts, Retries: res.Retries, Machine: res.Machine}
	if res.Outcome != nil {
		rep.Boot.FirstEventS = res.Outcome.FirstEvent.Seconds()
	}
}
