package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kernel-harness/harness/harness/bpftests"
	"github.com/kernel-harness/harness/harness/build"
	"github.com/kernel-harness/harness/harness/image"
	"github.com/kernel-harness/harness/harness/kbuild"
	"github.com/kernel-harness/harness/harness/kernel"
	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/require"
	"github.com/kernel-harness/harness/harness/scenario"
	"github.com/kernel-harness/harness/harness/testprogs"
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
	return pipeline(ctx, s, &selftests{stage: s})
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
func (st *selftests) build(ctx context.Context, wt string, k kernel.Kernel) error {
	o, say, rep := st.p, st.say, st.rep
	if _, err := os.Stat(filepath.Join(wt, "tools/testing/selftests/bpf/Makefile")); err != nil {
		return bpftests.ErrNoTestProgs
	}
	// The kernel's config against the selftests' own list, before
	// minutes of building programs the kernel has no types for.
	if kc := k.Config(); kc != "" {
		gaps, err := bpftests.ConfigGaps(wt, kc)
		if err != nil {
			return err
		}
		if err := bpftests.GapsError(o.Build.Tree, gaps); err != nil {
			return err
		}
	} else {
		say("selftests: no config beside %s; the build will tell what the kernel lacks", k.Image)
	}
	cache, err := kernel.CacheDir()
	if err != nil {
		return err
	}
	// One output folder per tree: make redoes what changed.
	outDir := filepath.Join(cache, "selftests", build.ShortHash(o.Build.Tree))
	// A -t that names no test stops here, not after the build.
	if _, err := bpftests.Objects(wt, outDir, st.p.Selftests.Tests); err != nil {
		return err
	}
	logPath := filepath.Join(o.Out, "selftests-build.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	say("selftests: building test_progs in %s (log: %s)", outDir, logPath)
	// The worktree is checked out anew each run: sources unchanged
	// since this folder's last build get old times, as for the kernel.
	kept, record, err := kbuild.KeepTimes(ctx, wt, outDir)
	if err != nil {
		return err
	}
	if kept > 0 {
		say("selftests: %d sources unchanged since the last build in %s", kept, outDir)
	}
	t0 := time.Now()
	st.built, err = bpftests.Build(ctx, bpftests.BuildOptions{Tree: wt, Kernel: k.Image, Out: outDir, Jobs: o.Build.Jobs, Nice: st.p.Selftests.Nice, Tests: st.p.Selftests.Tests, Log: logf, Progress: o.Progress})
	if err != nil {
		return fmt.Errorf("%w (full output in %s)", err, logPath)
	}
	if err := record(); err != nil {
		return err
	}
	rep.Selftests.BuildS = time.Since(t0).Seconds()
	say("selftests: test_progs built in %s", time.Since(t0).Round(time.Second))
	for _, d := range st.built.Dropped {
		say("selftests: built without %s, which does not compile in this tree: %s", d.File, d.Error)
		rep.Selftests.Dropped = append(rep.Selftests.Dropped, report.DroppedTest{File: d.File, Error: d.Error})
	}
	st.built.Objects, err = bpftests.Objects(wt, outDir, st.p.Selftests.Tests)
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
		if e.Kind != testprogs.Event {
			continue
		}
		tp, out, err := testprogs.FromEvent(e)
		errs = errors.Join(errs, err)
		if tp != nil {
			st.rep.Scenarios = tp.Scenarios()
			st.say("guest: test_progs %s", out.Exit)
		}
		// Raw, for whoever wants to read test_progs' own words.
		os.WriteFile(filepath.Join(st.p.Out, "test_progs.out"), []byte(out.Stdout), 0o644)
		if out.JSON != "" {
			os.WriteFile(filepath.Join(st.p.Out, "test_progs.json"), []byte(out.JSON), 0o644)
		}
	}
	return errs
}
