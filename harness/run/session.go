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

// session is one boot of a verb, whichever: the agent and its files in a
// scratch folder, console.log and events.jsonl in the output folder, the
// guest's events gathered and kernel splats tied to what was running,
// the boot itself on the chosen backend. The verbs keep only what
// differs: their files, how they react to an event, their analysis.
type session struct {
	o      Options
	k      kernel.Kernel
	extra  []image.File // the host's files for the agent
	say    func(string, ...any)
	status func(string)
	// onEvent is the verb's reaction to an event, after it is logged.
	onEvent func(wire.Event)
	// running names what runs now, for the splats it causes; nil: the
	// whole boot is one thing (label).
	running func() string
	label   string
}

// sessionOut is what a session brought back. setupErr is a failure
// before anything booted; bootErr is how the boot ended, with the
// kernel's own words first when it panicked or oopsed.
type sessionOut struct {
	events   []wire.Event
	splats   []report.Splat
	booted   boot.Result
	setupErr error
	bootErr  error
}

func (s session) boot(ctx context.Context) (out sessionOut) {
	be, err := resolveBackend(s.o)
	if err != nil {
		out.setupErr = err
		return out
	}
	// Registered, so that even a harness that exits at once removes it.
	work, removeWork, err := cleanup.TempDir("harness-")
	if err != nil {
		out.setupErr = err
		return out
	}
	defer removeWork()
	initBin := s.o.Init
	if initBin == "" {
		if initBin, err = os.Executable(); err != nil {
			out.setupErr = fmt.Errorf("find own binary: %w", err)
			return out
		}
	}
	conLog, err := os.Create(filepath.Join(s.o.Out, "console.log"))
	if err != nil {
		out.setupErr = err
		return out
	}
	defer conLog.Close()
	evLog, err := os.Create(filepath.Join(s.o.Out, "events.jsonl"))
	if err != nil {
		out.setupErr = err
		return out
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
		if s.onEvent != nil {
			s.onEvent(e)
		}
	}
	onLine := func(line string) {
		cur := s.label
		if s.running != nil {
			cur = s.running()
		}
		splats.Feed(line, cur)
	}
	out.booted, out.setupErr, out.bootErr = bootKernel(ctx, s.o, be, bootIn{k: s.k, initBin: initBin, extra: s.extra, work: work,
		console: conLog, onLine: onLine, onEvent: onEvent, say: s.say, status: s.status})
	mu.Lock()
	out.events = append([]wire.Event(nil), events...)
	mu.Unlock()
	out.splats = splats.Splats()
	if err := guestError(out.events); err != nil && out.bootErr == nil {
		out.bootErr = err
	}
	if out.bootErr != nil && !errors.Is(out.bootErr, driver.ErrPanic) { // a panic is quoted already
		for _, sp := range out.splats {
			if sp.Kind == "panic" || sp.Kind == "oops" {
				// The kernel's own words come first: they are the cause.
				out.bootErr = fmt.Errorf("kernel %s: %s (%w)", sp.Kind, text.FirstLine(sp.Text), out.bootErr)
				break
			}
		}
	}
	return out
}
