package run

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/kernel-harness/harness/harness/boot"
	"github.com/kernel-harness/harness/harness/bpftests"
	"github.com/kernel-harness/harness/harness/image"
	"github.com/kernel-harness/harness/harness/kernel"
	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/require"
	"github.com/kernel-harness/harness/harness/scenario"
	"github.com/kernel-harness/harness/harness/testprogsout"
	"github.com/kernel-harness/harness/harness/wire"
)

// SelftestsOptions is one `harness selftests`: the tree's test_progs,
// built against the run's kernel, run in its VM.
type SelftestsOptions struct {
	Options
	// Tests are test_progs -t selectors (names, globs, test/subtest).
	Tests []string
	// Nice runs the selftests build under nice -n Nice.
	Nice int
}

// Selftests is what a plan for harness selftests adds.
type Selftests struct {
	Tests []string
	Nice  int
}

// CheckSelftests is Check for harness selftests.
func CheckSelftests(ctx context.Context, o SelftestsOptions) (*Plan, error) {
	if o.Build.Tree == "" {
		return nil, errors.New("harness selftests needs --tree: the selftests are the tree's")
	}
	if len(o.Tests) == 0 {
		return nil, errors.New("name the tests with -t NAME (test_progs -t; repeatable)")
	}
	if err := checkOptions(o.Options); err != nil {
		return nil, err
	}
	// test_progs prints nothing while a test runs: only the whole
	// deadline bounds the silence.
	o.Deadlines.Idle = max(o.Deadlines.Idle, o.Deadlines.Run)
	p := &Plan{Options: o.Options, Selftests: &Selftests{Tests: o.Tests, Nice: o.Nice}}
	if err := p.chooseBackend(); err != nil {
		return nil, err
	}
	if err := boot.CheckRun(p.Backend, p.Machine, p.QEMU, "", ""); err != nil {
		return nil, err
	}
	// A missing tool stops the run before minutes of kernel build.
	if err := require.Error("the BPF selftests", require.Check(ctx, bpftests.Requirements)); err != nil {
		return nil, err
	}
	return p, p.preflight(ctx)
}

// RunSelftests builds the kernel (Build.Tree and Build.Series) and the
// tree's test_progs against it, boots it on the chosen backend, runs
// test_progs -t in the guest, and reports each subtest as a scenario:
// the same report.json, junit.xml, summary and step summary as a run.
func RunSelftests(ctx context.Context, p *Plan) (*report.Report, error) {
	s := newStage(p)
	s.rep.Selftests = &report.Selftests{Tests: p.Selftests.Tests}
	rep, _, err := pipeline(ctx, s, &selftests{stage: s})
	return rep, err
}

// selftests is the payload of harness selftests: test_progs and what it
// needs in the guest, its output read as scenarios.
type selftests struct {
	*stage
	built bpftests.Result
}

func (st *selftests) inTree() func(context.Context, string, kernel.Kernel) error {
	return st.build
}

// build makes test_progs in the worktree the kernel was built from,
// against its BTF.
func (st *selftests) build(ctx context.Context, wt string, k kernel.Kernel) (err error) {
	p := st.p
	st.built, err = bpftests.ForKernel(ctx, bpftests.ForKernelOptions{Tree: p.Build.Tree, Worktree: wt, Kernel: k,
		Tests: p.Selftests.Tests, Jobs: p.Build.Jobs, Nice: p.Selftests.Nice, Log: filepath.Join(p.Out, "selftests-build.log"),
		Progress: p.Progress, Say: st.say})
	st.rep.Selftests.BuildS = st.built.Seconds
	for _, d := range st.built.Dropped {
		st.rep.Selftests.Dropped = append(st.rep.Selftests.Dropped, report.DroppedTest{File: d.File, Error: d.Error})
	}
	return err
}

func (st *selftests) files(ctx context.Context, k kernel.Kernel) ([]image.File, error) {
	// The agent wants a scenario plan, empty here, beside the selftests'.
	plan := scenario.Plan{StepTimeoutMS: 5000}
	if k.Modules != "" {
		plan.ModulesList = image.GuestLoadList
	}
	pf, err := planFile(plan)
	if err != nil {
		return nil, err
	}
	var args []string
	for _, t := range st.p.Selftests.Tests {
		args = append(args, "-t", t)
	}
	sp, err := json.Marshal(wire.SelftestsPlan{Dir: wire.SelftestsDir, Args: args, TimeoutS: int(st.p.Deadlines.Run.Seconds())})
	if err != nil {
		return nil, err
	}
	files, err := bpftests.GuestFiles(ctx, st.built)
	if err != nil {
		return nil, err
	}
	return append([]image.File{pf, {Path: wire.SelftestsPlanPath, Mode: 0o644, Data: sp}}, files...), nil
}

func (st *selftests) running() string { return "test_progs" }

func (st *selftests) event(e wire.Event) {
	switch {
	case e.Kind == wire.Hello:
		st.say("guest: up, kernel %s", e.Release)
	case e.Kind == wire.Log && e.Name == "test_progs":
		if strings.HasPrefix(e.Message, "#") || strings.HasPrefix(e.Message, "Summary:") {
			st.say("guest: %s", e.Message)
		}
	case e.Kind == wire.Error:
		st.say("guest: error: %s", e.Message)
	}
}

// analyse reads test_progs' output as scenarios.
func (st *selftests) analyse(evs []wire.Event) error {
	var errs error
	for _, e := range evs {
		if e.Kind != wire.TestProgs {
			continue
		}
		tp, out, err := testprogsout.FromEvent(e)
		errs = errors.Join(errs, err)
		if tp != nil {
			st.rep.Scenarios = tp.Scenarios()
			st.say("guest: test_progs %s", out.Exit)
		}
		// Raw, for whoever wants to read test_progs' own words.
		errs = errors.Join(errs, os.WriteFile(filepath.Join(st.p.Out, "test_progs.out"), []byte(out.Stdout), 0o644))
		if out.JSON != "" {
			errs = errors.Join(errs, os.WriteFile(filepath.Join(st.p.Out, "test_progs.json"), []byte(out.JSON), 0o644))
		}
	}
	return errs
}
