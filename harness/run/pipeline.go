// Package run is the host side of the verbs that boot: a checked Plan
// goes through one pipeline (kernel, guest files, boot, analysis,
// outputs) for a payload, the scenarios or the selftests, and everything
// it produced is left in one output folder.
package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/kernel-harness/harness/harness/boot"
	"github.com/kernel-harness/harness/harness/boot/driver"
	"github.com/kernel-harness/harness/harness/build"
	"github.com/kernel-harness/harness/harness/image"
	"github.com/kernel-harness/harness/harness/input"
	"github.com/kernel-harness/harness/harness/kernel"
	"github.com/kernel-harness/harness/harness/outputs"
	"github.com/kernel-harness/harness/harness/progress"
	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/scenario"
	"github.com/kernel-harness/harness/harness/session"
	"github.com/kernel-harness/harness/harness/wire"
)

// Options is one `harness run`.
type Options struct {
	// Command is the command line the run was given, for the reports.
	Command  []string
	Kernel   string // bzImage; empty: the default kernel
	Modules  string // lib/modules/<release>; empty: found beside the kernel
	Out      string // output folder
	Scenario string // regular expression over scenario names
	// ScenarioFiles add scenarios from JSON or YAML files.
	ScenarioFiles []string
	Accel         string
	Machine       string
	QEMU          string
	Append        []string // more kernel command-line arguments
	CPUs          int
	MemoryMB      int

	// Backend boots through QEMU or virtme-ng (boot.ChooseBackend).
	Backend string
	// Deadlines under KVM; TCG stretches them.
	Deadlines driver.Deadlines
	// StallTimeout bounds each wait of a case's reader for a wake-up
	// once its steps are done (the check no-stall); 0: DefaultStall.
	StallTimeout time.Duration
	// Build makes the kernel from a tree when Build.Tree is set.
	Build build.Options
	// Baseline runs the scenarios on the base too, and compares.
	Baseline bool
	// Repeat runs every case this many times, in one boot, or in a fresh
	// boot each with RepeatBoot (repeat.go).
	Repeat     int
	RepeatBoot bool
	// EachPatch runs the scenarios after each prefix of the series
	// (eachpatch.go).
	EachPatch bool
	// BPFObject is a compiled BPF object loaded in place of the harness's
	// autolowat programs; BPFSource is a BPF C file compiled against the
	// kernel under test (a relative path is looked up in the tree first).
	BPFObject string
	BPFSource string
	// Init is the static binary to put at /init; empty: this executable.
	Init string
	// Shard keeps one part of the scenarios, for CI jobs (shard.go).
	Shard scenario.Shard
	// Progress receives lines for the user.
	Progress io.Writer
}

// Run carries out a run from its checked plan. The report is returned
// and written even when the run could not be finished; err says why.
func Run(ctx context.Context, p *Plan) (*report.Report, error) {
	switch {
	case p.Baseline:
		return runBaseline(ctx, p)
	case p.EachPatch:
		return runEachPatch(ctx, p)
	case p.Repeat > 1 && p.RepeatBoot:
		return runRepeatBoots(ctx, p)
	}
	rep, _, err := runOne(ctx, p)
	return rep, err
}

// payload is what one boot is for, the scenarios or the selftests: what
// it needs of the worktree, its files in the guest, how it follows the
// guest's events and what it makes of them. The pipeline does the rest.
type payload interface {
	// inTree, when not nil, runs in the worktree the kernel was built
	// from, before the worktree goes.
	inTree() func(ctx context.Context, wt string, k kernel.Kernel) error
	// files are the host's files for the agent, for kernel k.
	files(ctx context.Context, k kernel.Kernel) ([]image.File, error)
	// event follows one event of the guest as it arrives; running names
	// what runs now, for the splats it causes.
	event(e wire.Event)
	running() string
	// analyse fills the report from the events; its error is the run's
	// when the boot itself went well.
	analyse(evs []wire.Event) error
}

// stage is what the pipeline and its payload share.
type stage struct {
	p    *Plan
	rep  *report.Report
	live *progress.Live // nil off a terminal
}

func newStage(p *Plan) *stage {
	return &stage{p: p, rep: report.New(p.Command), live: progress.NewLive(p.Progress)}
}

func (s *stage) say(format string, args ...any) { s.live.Printf(s.p.Progress, format, args...) }

// pipeline takes a payload from the plan to the outputs: kernel, guest
// files, boot, analysis, written from memory.
func pipeline(ctx context.Context, s *stage, pl payload) (*report.Report, []wire.Event, error) {
	start := time.Now()
	p, rep := s.p, s.rep
	defer s.live.Close()
	var evs []wire.Event
	fail := func(err error) (*report.Report, []wire.Event, error) {
		rep.Verdict, rep.Error = report.Error, err.Error()
		rep.DurationS = time.Since(start).Seconds()
		// Whatever failed, a report says why.
		if werr := errors.Join(os.MkdirAll(p.Out, 0o755), outputs.Write(p.Out, rep, evs)); werr != nil {
			err = errors.Join(err, werr)
		}
		return rep, evs, err
	}
	if err := os.MkdirAll(p.Out, 0o755); err != nil {
		return fail(fmt.Errorf("output folder: %w", err))
	}

	k, built, err := chooseKernel(ctx, p, pl.inTree(), s.say)
	rep.Build = built
	if err == nil && ctx.Err() != nil {
		err = driver.Interrupted(ctx) // a fetch that ended anyway: no boot now
	}
	if err != nil {
		return fail(err)
	}
	rep.Kernel = report.Kernel{Release: k.Release, Path: k.Image, Modules: k.Modules, Source: k.Source}
	s.say("kernel: %s (%s, %s)", input.Quote(k.Release), input.Quote(k.Image), k.Source)
	files, err := pl.files(ctx, k)
	if err != nil {
		return fail(err)
	}

	s.say("backend: %s (%s)", p.Backend, p.BackendWhy)
	b, err := session.Boot(ctx, boot.Spec{
		Backend: p.Backend, Kernel: k, Agent: p.Init, Extra: files, Out: p.Out,
		CPUs: p.CPUs, MemoryMB: p.MemoryMB, Append: p.Append, Accel: p.Accel, Deadlines: sameBootDeadlines(p.Options),
		QEMU: boot.QEMUConfig{Binary: p.QEMU, Machine: p.Machine, EventsPort: wire.EventsPort, Modules: wantedModules},
		Say:  s.say, Status: s.live.Status,
	}, pl.event, pl.running)
	if se := (*boot.SetupError)(nil); errors.As(err, &se) {
		return fail(se.Err)
	}
	b.Record(rep)
	// Whatever the guest said is used, even when it stopped early, so
	// that nothing it reported is lost.
	evs, rep.Splats = b.Events, b.Splats
	// The release is what the guest says it runs, not what the image's
	// header claims: that is what proves which kernel booted.
	for _, e := range evs {
		if e.Kind == wire.Hello && e.Release != "" {
			rep.Kernel.Release = e.Release
		}
	}
	if aerr := pl.analyse(evs); aerr != nil && err == nil {
		err = aerr
	}
	for i := range rep.Scenarios {
		for _, sp := range rep.Splats {
			if sp.Scenario == rep.Scenarios[i].ID() {
				rep.Scenarios[i].Splats = append(rep.Scenarios[i].Splats, sp.Text)
			}
		}
	}
	if err != nil {
		return fail(err)
	}
	rep.DurationS = time.Since(start).Seconds()
	rep.Finish()
	return rep, evs, outputs.Write(p.Out, rep, evs)
}

// chooseKernel is the plan's kernel: built from the tree (inTree run in
// its worktree), the file given, or the default one.
func chooseKernel(ctx context.Context, p *Plan, inTree func(context.Context, string, kernel.Kernel) error, say func(string, ...any)) (kernel.Kernel, *report.Build, error) {
	bo := p.Build
	bo.LogFile, bo.Progress = filepath.Join(p.Out, "build.log"), p.Progress
	if inTree != nil {
		bo.WithTree = func(wt string, k kernel.Kernel) error { return inTree(ctx, wt, k) }
	}
	k, b, err := build.Choose(ctx, bo, p.Kernel, p.Modules, func(s string) { say("%s", s) })
	if b == nil {
		b = p.built
	}
	return k, b, err
}

// planFile is the scenario plan as the agent reads it.
func planFile(plan scenario.Plan) (image.File, error) {
	b, err := json.Marshal(plan)
	return image.File{Path: wire.PlanPath, Mode: 0o644, Data: b}, err
}

// Modules the scenarios may need, loaded when the kernel has them as
// modules; built-in ones need nothing.
var wantedModules = []string{"virtio_pci", "virtio_mmio", "virtio_console", "ipv6", "tun"}
