package run

import (
	"context"
	"errors"
	"fmt"

	"github.com/kernel-harness/harness/harness/boot"
	"github.com/kernel-harness/harness/harness/build"
	"github.com/kernel-harness/harness/harness/input"

	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/scenario"
	"github.com/kernel-harness/harness/harness/series"
	"github.com/kernel-harness/harness/harness/userbpf"
)

// Plan is a verb's options checked once, before any output folder
// exists: the scenarios loaded and expanded, the BPF object inspected,
// the backend and profile chosen. Every verb runs from a Plan and
// nothing in it is loaded again.
type Plan struct {
	Options
	// Backend is the backend chosen (qemu or vng), BackendWhy why.
	Backend, BackendWhy string
	// Cases are the scenario cases one boot runs: filtered, sharded and,
	// for --repeat in one boot, repeated. ShardNote says what the shard
	// kept, for the progress.
	Cases     []scenario.Case
	ShardNote string
	// ScenarioSources names, for each file of --scenarios, the scenarios
	// it holds (GitHub annotations point at their lines).
	ScenarioSources map[string][]string
	// BPF is --bpf-object as inspected.
	BPF *report.BPF
	// Selftests is set for harness selftests: test_progs' selectors.
	Selftests *Selftests
	// bisect is set for harness bisect: the range to search.
	bisect *bisectPlan
	// patches are the series' patches, loaded for --each-patch.
	patches []series.Patch
	// built is the build record of a kernel built before the pipeline
	// (a bisect step), written into the report with the rest.
	built *report.Build
}

// Check is the one gate of every verb: it refuses what is wrong on its
// face and returns the checked plan.
func Check(ctx context.Context, o Options) (*Plan, error) {
	p, err := check(o)
	if err != nil {
		return nil, err
	}
	if err := p.chooseBackend(); err != nil {
		return nil, err
	}
	if err := boot.CheckRun(p.Backend, p.Machine, p.QEMU, p.Kernel, p.Modules); err != nil {
		return nil, err
	}
	if err := p.preflight(ctx); err != nil {
		return nil, err
	}
	if p.EachPatch {
		s, err := series.Load(ctx, p.Build.Series, p.Build.Tree)
		if err != nil {
			return nil, fmt.Errorf("series: %w", err)
		}
		if err := s.Check(p.Build.AllowPartial); err != nil {
			return nil, err
		}
		if len(s.Patches) == 0 {
			return nil, fmt.Errorf("--each-patch: series %s has no patches", p.Build.Series)
		}
		p.patches = s.Patches
	}
	return p, nil
}

// preflight checks the machine and the tree for a build, once.
func (p *Plan) preflight(ctx context.Context) error {
	if p.Build.Tree == "" {
		return nil
	}
	if err := build.Preflight(ctx, p.Build); err != nil {
		return err
	}
	p.Build.Preflighted = true
	return nil
}

// check is Check without the choice of a backend. Every mistake it
// finds is said at once, not only the first.
func check(o Options) (*Plan, error) {
	p := &Plan{Options: o}
	errs := []error{checkModes(o), checkOptions(o), p.loadScenarios()}
	if o.BPFObject != "" && input.Regular(o.BPFObject) == nil {
		var err error
		p.BPF, err = userbpf.Object(o.BPFObject)
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return p, nil
}

// chooseBackend settles the backend, before anything is built or booted
// so that a missing vng is said at once, and what it changes (the default
// profile, the paths vng takes).
func (p *Plan) chooseBackend() error {
	var err error
	if p.Backend, p.BackendWhy, err = boot.ChooseBackend(p.Options.Backend); err != nil {
		return err
	}
	return vngDefaults(&p.Options, p.Backend, p.Selftests != nil)
}

// loadScenarios loads the scenario files once and expands the cases one
// boot runs.
func (p *Plan) loadScenarios() error {
	all, sources, err := scenario.LoadAll(p.ScenarioFiles)
	if err != nil {
		return err
	}
	cases, err := scenario.Select(all, p.Scenario)
	if err != nil {
		return err
	}
	if cases, p.ShardNote, err = shardCases(p.Options, cases); err != nil {
		return err
	}
	if !p.RepeatBoot {
		if p.Repeat > MaxRepeat {
			return nil // checkModes says so
		}
		if n := len(cases) * max(p.Repeat, 1); n > MaxCases {
			return fmt.Errorf("%d cases in one boot (%d x --repeat %d): at most %d; choose fewer with --scenario or --shard, or give --repeat-boot", n, len(cases), p.Repeat, MaxCases)
		}
		cases = scenario.Repeat(cases, p.Repeat)
	}
	p.Cases, p.ScenarioSources = cases, sources
	return nil
}

// reuse makes later boots of the same kernel take it as a file, and a
// BPF source compiled for it as the object it became.
func (p *Plan) reuse(r *report.Report, kernel bool) {
	if kernel {
		p.Kernel, p.Modules, p.Build = r.Kernel.Path, r.Kernel.Modules, build.Options{}
	}
	if p.BPFSource != "" && r.BPF != nil && r.BPF.Object != "" {
		p.BPFSource, p.BPFObject = "", r.BPF.Object
		p.BPF = &report.BPF{Object: r.BPF.Object, Programs: r.BPF.Programs, NoChildState: r.BPF.NoChildState}
	}
}

// with is a copy of the plan for one part of a verb (a boot of a
// repeat, a side of a baseline, a prefix, a bisect step).
func (p *Plan) with(edit func(*Plan)) *Plan {
	c := *p
	edit(&c)
	return &c
}

// Backends, as --backend names them.
const (
	BackendQEMU = boot.BackendQEMU
	BackendVNG  = boot.BackendVNG
	BackendAuto = boot.BackendAuto
)

// shardCases keeps the cases of o.Shard (all without one). A shard left
// with nothing is refused: a CI job that tests nothing must not pass.
func shardCases(o Options, cases []scenario.Case) (kept []scenario.Case, note string, err error) {
	if o.Shard.N == 0 || len(cases) == 0 {
		return cases, "", nil
	}
	part := o.Shard.Cases(cases)
	if len(part) == 0 {
		return nil, "", fmt.Errorf("--shard %s: no cases: the plan has fewer than %d scenarios; use fewer shards", o.Shard, o.Shard.I)
	}
	return part, fmt.Sprintf("plan: shard %s: %d of %d cases", o.Shard, len(part), len(cases)), nil
}

// vngDefaults settles what the backend changes before any work: the
// profile a tree is built with unless --profile says, and paths vng
// would split refused.
func vngDefaults(o *Options, backend string, selftests bool) error {
	if o.Build.Tree != "" {
		if o.Build.Profile == "" {
			o.Build.Profile = boot.DefaultProfile(backend, selftests)
		}
		if err := boot.CheckProfile(backend, o.Build.Profile, o.Build.Tree, o.Build.Configs, o.Build.Items); err != nil {
			return err
		}
	}
	return boot.CheckPaths(backend, "--out", o.Out, "--kernel", o.Kernel)
}
