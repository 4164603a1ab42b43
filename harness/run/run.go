// Package run is the host side of `harness run`: it takes a kernel through
// the stages (plan, image, boot, analysis, report) and leaves everything it
// produced in one output folder.
package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/kernel-harness/harness/harness/boot/driver"
	"github.com/kernel-harness/harness/harness/build"

	"github.com/kernel-harness/harness/harness/analysis"
	"github.com/kernel-harness/harness/harness/bpfprog"
	"github.com/kernel-harness/harness/harness/features"
	"github.com/kernel-harness/harness/harness/image"
	"github.com/kernel-harness/harness/harness/input"
	"github.com/kernel-harness/harness/harness/kbuild"
	"github.com/kernel-harness/harness/harness/kernel"
	"github.com/kernel-harness/harness/harness/outputs"
	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/scenario"
	"github.com/kernel-harness/harness/harness/version"
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

// Modules the scenarios may need, loaded when the kernel has them as
// modules; built-in ones need nothing.
var wantedModules = []string{"virtio_pci", "virtio_mmio", "virtio_console", "ipv6", "tun"}

// Run carries out a run. The report is returned and written even when the
// run could not be finished; err says why it could not.
func Run(ctx context.Context, o Options) (*report.Report, error) {
	if err := checkModes(o); err != nil {
		return nil, err
	}
	be, err := resolveBackend(o) // before any kernel is built
	if err != nil {
		return nil, err
	}
	if err := vngDefaults(&o, be.name); err != nil {
		return nil, err
	}
	switch {
	case o.Baseline:
		return runBaseline(ctx, o)
	case o.EachPatch:
		return runEachPatch(ctx, o)
	case o.Repeat > 1 && o.RepeatBoot:
		return runRepeatBoots(ctx, o)
	}
	return runOne(ctx, o)
}

func runOne(ctx context.Context, o Options) (*report.Report, error) {
	start := time.Now()
	rep := newReport(o)
	lv := newLive(o.Progress) // nil off a terminal
	defer lv.close()
	say := func(format string, args ...any) { lv.printf(o.Progress, format, args...) }
	fail := func(err error) (*report.Report, error) {
		rep.Verdict, rep.Error = report.Error, err.Error()
		rep.DurationS = time.Since(start).Seconds()
		if o.Out != "" {
			// Refused input still leaves a report that says why.
			if werr := errors.Join(os.MkdirAll(o.Out, 0o755), writeOutputs(rep, o.Out)); werr != nil {
				err = errors.Join(err, werr)
			}
		}
		return rep, err
	}

	// Step: plan. Bad input is refused before anything is fetched or booted.
	var filter *regexp.Regexp
	if o.Scenario != "" {
		var err error
		if filter, err = regexp.Compile(o.Scenario); err != nil {
			return fail(fmt.Errorf("--scenario: %w", err))
		}
	}
	all := scenario.All()
	taken := map[string]bool{}
	for _, sc := range all {
		taken[sc.Name] = true
	}
	for _, f := range o.ScenarioFiles {
		more, err := scenario.LoadFile(f, taken)
		if err != nil {
			return fail(err)
		}
		all = append(all, more...)
	}
	plan := scenario.Plan{Cases: scenario.Expand(all, filter), StepTimeoutMS: 5000}
	var err error
	if plan.Cases, err = shardCases(o, plan.Cases, say); err != nil {
		return fail(err)
	}
	if !o.RepeatBoot {
		plan.Cases = scenario.Repeat(plan.Cases, o.Repeat)
	}
	if len(plan.Cases) == 0 {
		return fail(fmt.Errorf("no scenario matches --scenario %q", o.Scenario))
	}
	for _, c := range plan.Cases {
		if err := c.Scenario.Validate(); err != nil {
			return fail(err)
		}
	}
	if o.BPFObject != "" && o.BPFSource != "" {
		return fail(errors.New("--bpf-object and --bpf-source are two ways to give the programs: use one"))
	}
	if o.BPFObject != "" {
		progs, err := bpfprog.Inspect(o.BPFObject)
		if err != nil {
			return fail(fmt.Errorf("--bpf-object %w", err))
		}
		abs, _ := filepath.Abs(o.BPFObject)
		rep.BPF = &report.BPF{Object: abs, Programs: progs}
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return fail(fmt.Errorf("output folder: %w", err))
	}

	// Step: kernel, and the user's BPF source compiled for it.
	if o.BPFSource != "" && o.Build.Tree != "" {
		o.Build.WithTree = func(wt string, k kernel.Kernel) (err error) {
			rep.BPF, err = compileSource(ctx, o, wt, k, say)
			return err
		}
	}
	k, built, err := chooseKernel(ctx, o, say)
	rep.Build = built
	if err != nil {
		return fail(err)
	}
	if o.BPFSource != "" && o.Build.Tree == "" {
		if rep.BPF, err = compileSource(ctx, o, "", k, say); err != nil {
			return fail(err)
		}
	}
	rep.Kernel = report.Kernel{Release: k.Release, Path: k.Image, Modules: k.Modules, Source: k.Source}
	say("kernel: %s (%s, %s)", input.Quote(k.Release), input.Quote(k.Image), k.Source)

	// Step: image and boot, following the guest.
	if k.Modules != "" {
		plan.ModulesList = image.GuestLoadList
	}
	if rep.BPF != nil && rep.BPF.Object != "" {
		// Decided from the object, before booting: Fast Open needs state
		// that follows a listener's opt-in to its child.
		if rep.BPF.NoChildState, err = bpfprog.NoChildState(rep.BPF.Object); err != nil {
			return fail(err)
		}
		plan.NoChildState = rep.BPF.NoChildState
		if plan.NoChildState != "" {
			say("bpf: Fast Open autolowat cases are unsupported: %s", plan.NoChildState)
		}
	}
	planJSON, err := json.Marshal(plan)
	if err != nil {
		return fail(err)
	}
	extra := []image.File{{Path: wire.PlanPath, Mode: 0o644, Data: planJSON}}
	if rep.BPF != nil && rep.BPF.Object != "" {
		obj, err := os.ReadFile(rep.BPF.Object)
		if err != nil {
			return fail(err)
		}
		extra = append(extra, image.File{Path: wire.BPFObjectPath, Mode: 0o644, Data: obj})
	}
	var (
		mu      sync.Mutex
		running string
		done    int
	)
	onEvent := func(e wire.Event) {
		mu.Lock()
		defer mu.Unlock()
		switch e.Kind {
		case wire.Hello:
			say("guest: up, kernel %s", e.Release)
		case wire.ScenarioStart:
			running = e.Scenario
			lv.status(fmt.Sprintf("[%d/%d] %s ...", done+1, len(plan.Cases), e.Scenario))
		case wire.ScenarioEnd:
			running = ""
			done++
			state := "ran"
			if !e.OK {
				state = e.Value
			}
			lv.outcome(o.Progress, e.OK, "[%d/%d] %s: %s", done, len(plan.Cases), e.Scenario, state)
		case wire.Module:
			if !e.OK {
				say("guest: module %s: %s", e.Name, e.Message)
			}
		case wire.Error:
			say("guest: error: %s", e.Message)
		case wire.BPF:
			if e.OK {
				say("guest: loaded %s", e.Value)
			} else {
				say("guest: the autolowat programs did not load:\n%s", e.Message)
			}
		}
	}
	ses := session{o: o, k: k, extra: extra, say: say, status: lv.status, onEvent: onEvent,
		running: func() string { mu.Lock(); defer mu.Unlock(); return running }}.boot(ctx)
	if ses.setupErr != nil {
		return fail(ses.setupErr)
	}
	record(ses.booted, rep)

	// Step: analysis. Whatever the guest said is used, even when it
	// stopped early, so that nothing it reported is lost.
	evs := ses.events
	rep.Splats = ses.splats
	rep.Features = featureList(evs)
	rep.BPF = bpfReport(rep.BPF, evs, rep.Features)
	// The release is what the guest says it runs, not what the image's
	// header claims: that is what proves which kernel booted.
	for _, e := range evs {
		if e.Kind == wire.Hello && e.Release != "" {
			rep.Kernel.Release = e.Release
		}
	}
	rcvqTraced := false
	for _, f := range rep.Features {
		if f.Name == features.RcvqEntry {
			rcvqTraced = f.Value
		}
	}
	rep.Scenarios = analysis.Analyze(plan, evs, rcvqTraced)
	for i := range rep.Scenarios {
		for _, s := range rep.Splats {
			if s.Scenario == rep.Scenarios[i].ID() {
				rep.Scenarios[i].Splats = append(rep.Scenarios[i].Splats, s.Text)
			}
		}
	}
	if ses.bootErr != nil {
		return fail(ses.bootErr)
	}
	rep.DurationS = time.Since(start).Seconds()
	rep.Repeat = report.Aggregate(rep.Scenarios, false)
	rep.Finish()
	if err := writeOutputs(rep, o.Out); err != nil {
		return rep, err
	}
	return rep, nil
}

func chooseKernel(ctx context.Context, o Options, say func(string, ...any)) (kernel.Kernel, *report.Build, error) {
	if o.Build.Tree != "" {
		bo := o.Build
		bo.LogFile, bo.Progress = filepath.Join(o.Out, "build.log"), o.Progress
		os.Remove(bo.LogFile)
		k, b, err := build.Kernel(ctx, bo)
		var be *kbuild.BuildError
		if err != nil && !errors.As(err, &be) {
			err = fmt.Errorf("%w (full output in %s)", err, bo.LogFile)
		}
		return k, b, err
	}
	if o.Kernel != "" {
		k, err := kernel.FromFile(o.Kernel, o.Modules)
		return k, nil, err
	}
	cache, err := kernel.CacheDir()
	if err != nil {
		return kernel.Kernel{}, nil, err
	}
	k, err := kernel.Default(cache, func(s string) { say("%s", s) })
	return k, nil, err
}

// compileSource compiles --bpf-source for kernel k, into the output
// folder so that the object can be reused with --bpf-object. tree is the
// worktree the kernel was built from, or empty.
func compileSource(ctx context.Context, o Options, tree string, k kernel.Kernel, say func(string, ...any)) (*report.BPF, error) {
	src, err := findSource(o.BPFSource, tree)
	if err != nil {
		return nil, err
	}
	say("bpf: compiling %s against %s", src, k.Image)
	c, err := bpfprog.Compile(ctx, bpfprog.CompileOptions{Source: src, Tree: tree, Kernel: k.Image, Dir: filepath.Join(o.Out, "bpf")})
	if err != nil {
		return nil, err
	}
	say("bpf: %s (vmlinux.h with %d kfunc prototypes: %s)", c.Object, c.Kfuncs, c.KfuncsFrom)
	if len(c.KfuncsLeftOut) > 0 {
		say("bpf: prototypes left out, the program declares them itself: %s", strings.Join(c.KfuncsLeftOut, ", "))
	}
	// The source in a worktree is gone after the run; name it as given.
	return &report.BPF{Source: o.BPFSource, Command: c.Command, Object: c.Object, Programs: c.Programs}, nil
}

// findSource resolves --bpf-source: a relative path names a file of the
// tree that was built (the base plus the series), else of the current
// folder.
func findSource(src, tree string) (string, error) {
	if filepath.IsAbs(src) {
		return src, nil
	}
	tried := []string{}
	if tree != "" {
		p := filepath.Join(tree, src)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		tried = append(tried, p+" (in the tree with the series applied)")
	}
	p, err := filepath.Abs(src)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	tried = append(tried, p)
	return "", fmt.Errorf("--bpf-source %s: no such file; looked at %s", src, strings.Join(tried, " and "))
}

// bpfReport adds what the guest said about loading the programs.
func bpfReport(b *report.BPF, evs []wire.Event, feats []report.Feature) *report.BPF {
	for _, e := range evs {
		if e.Kind != wire.BPF {
			continue
		}
		if b == nil {
			b = &report.BPF{}
		}
		b.Loaded, b.Log = e.OK, e.Message
		if b.Programs == nil && e.Value != "" {
			b.Note = e.Value
		}
		return b
	}
	if b != nil {
		b.Note = "not loaded: the kernel lacks the hook the autolowat programs need"
		for _, f := range feats {
			if f.Name == features.TCPOps && f.Value {
				b.Note = "not loaded: " + features.TCPOpsRevision + " (" + f.Reason + ")"
				return b
			}
		}
		for _, f := range feats {
			if !f.Value && f.Reason != "" && f.Name != features.TCPOps {
				b.Note += "; " + f.Reason
			}
		}
	}
	return b
}

func featureList(evs []wire.Event) []report.Feature {
	out := []report.Feature{}
	for _, e := range evs {
		if e.Kind == wire.Feature {
			out = append(out, report.Feature{Name: e.Name, Value: e.OK, Reason: e.Message})
		}
	}
	return out
}

func guestError(evs []wire.Event) error {
	for _, e := range evs {
		if e.Kind == wire.Error {
			return fmt.Errorf("guest agent: %s", e.Message)
		}
	}
	return nil
}

// newReport is an empty report that says which harness ran, when, how
// and where.
func newReport(o Options) *report.Report {
	host, _ := os.Hostname()
	return &report.Report{Schema: report.Schema, HarnessVersion: version.String(), Started: time.Now().UTC().Truncate(time.Second),
		Command: o.Command, Host: host, Features: []report.Feature{}, Scenarios: []report.Scenario{}}
}

func writeOutputs(rep *report.Report, dir string) error {
	return outputs.WriteFromFolder(dir, rep, nil)
}
