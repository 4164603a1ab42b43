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

	"github.com/kernel-harness/harness/harness/build"
	"github.com/kernel-harness/harness/harness/require"

	"github.com/kernel-harness/harness/harness/bpftests"
	"github.com/kernel-harness/harness/harness/image"
	"github.com/kernel-harness/harness/harness/kbuild"
	"github.com/kernel-harness/harness/harness/kernel"
	"github.com/kernel-harness/harness/harness/report"
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

// RunSelftests builds the kernel (Build.Tree and Build.Series) and the
// tree's test_progs against it, boots it on the chosen backend, runs
// test_progs -t in the guest, and reports each subtest as a scenario:
// the same report.json, junit.xml, summary and step summary as a run.
func RunSelftests(ctx context.Context, o SelftestsOptions) (*report.Report, error) {
	start := time.Now()
	rep := newReport(o.Options)
	say := func(format string, args ...any) {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, format+"\n", args...)
		}
	}
	fail := func(err error) (*report.Report, error) {
		rep.Verdict, rep.Error = report.Error, err.Error()
		rep.DurationS = time.Since(start).Seconds()
		if werr := errors.Join(os.MkdirAll(o.Out, 0o755), writeOutputs(rep, o.Out)); werr != nil {
			err = errors.Join(err, werr)
		}
		return rep, err
	}
	rep.Selftests = &report.Selftests{Tests: o.Tests}
	if o.Build.Tree == "" {
		return fail(errors.New("harness selftests needs --tree: the selftests are the tree's"))
	}
	if len(o.Tests) == 0 {
		return fail(errors.New("name the tests with -t NAME (test_progs -t; repeatable)"))
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return fail(err)
	}
	be, err := resolveBackend(o.Options) // before anything is built
	if err != nil {
		return fail(err)
	}
	if err := vngDefaults(&o.Options, be.name); err != nil {
		return fail(err)
	}
	// Requirements first: a missing tool stops the run before minutes of
	// kernel build.
	if err := require.Error("the BPF selftests", require.Check(ctx, bpftests.Requirements)); err != nil {
		return fail(err)
	}

	// Kernel, then test_progs from the same worktree, against its BTF.
	var built bpftests.Result
	// test_progs prints nothing while a test runs: only the whole
	// deadline bounds the silence.
	o.Deadlines.Idle = max(o.Deadlines.Idle, o.Deadlines.Run)
	o.Build.WithTree = func(wt string, k kernel.Kernel) error {
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
		if _, err := bpftests.Objects(wt, outDir, o.Tests); err != nil {
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
		built, err = bpftests.Build(ctx, bpftests.BuildOptions{Tree: wt, Kernel: k.Image, Out: outDir, Jobs: o.Build.Jobs, Nice: o.Nice, Tests: o.Tests, Log: logf, Progress: o.Progress})
		if err != nil {
			return fmt.Errorf("%w (full output in %s)", err, logPath)
		}
		if err := record(); err != nil {
			return err
		}
		rep.Selftests.BuildS = time.Since(t0).Seconds()
		say("selftests: test_progs built in %s", time.Since(t0).Round(time.Second))
		for _, d := range built.Dropped {
			say("selftests: built without %s, which does not compile in this tree: %s", d.File, d.Error)
			rep.Selftests.Dropped = append(rep.Selftests.Dropped, report.DroppedTest{File: d.File, Error: d.Error})
		}
		built.Objects, err = bpftests.Objects(wt, outDir, o.Tests)
		return err
	}
	// chooseKernel would send to build.log for the selftests' errors too.
	var stErr error
	withTree := o.Build.WithTree
	o.Build.WithTree = func(wt string, k kernel.Kernel) error {
		stErr = withTree(wt, k)
		return stErr
	}
	k, kb, err := chooseKernel(ctx, o.Options, say)
	rep.Build = kb
	if stErr != nil {
		return fail(stErr)
	}
	if err != nil {
		return fail(err)
	}
	rep.Kernel = report.Kernel{Release: k.Release, Path: k.Image, Modules: k.Modules, Source: k.Source}
	say("kernel: %s (%s, %s)", k.Release, k.Image, k.Source)

	// The guest's files: an empty scenario plan (the agent wants one),
	// the selftests plan, test_progs and its libraries.
	plan := scenario.Plan{StepTimeoutMS: 5000}
	if k.Modules != "" {
		plan.ModulesList = image.GuestLoadList
	}
	planJSON, err := json.Marshal(plan)
	if err != nil {
		return fail(err)
	}
	var args []string
	for _, t := range o.Tests {
		args = append(args, "-t", t)
	}
	spJSON, err := json.Marshal(wire.SelftestsPlan{Dir: wire.SelftestsDir, Args: args, TimeoutS: int(o.Deadlines.Run.Seconds())})
	if err != nil {
		return fail(err)
	}
	files, err := bpftests.GuestFiles(ctx, built)
	if err != nil {
		return fail(err)
	}
	extra := append([]image.File{
		{Path: wire.PlanPath, Mode: 0o644, Data: planJSON},
		{Path: wire.SelftestsPlanPath, Mode: 0o644, Data: spJSON},
	}, files...)
	onEvent := func(e wire.Event) {
		switch {
		case e.Kind == wire.Hello:
			say("guest: up, kernel %s", e.Release)
		case e.Kind == wire.Log && e.Name == "test_progs":
			if strings.HasPrefix(e.Message, "#") || strings.HasPrefix(e.Message, "Summary:") {
				say("guest: %s", e.Message)
			}
		case e.Kind == wire.Error:
			say("guest: error: %s", e.Message)
		}
	}
	ses := session{o: o.Options, k: k, extra: extra, say: say, status: func(string) {}, onEvent: onEvent, label: "test_progs"}.boot(ctx)
	if ses.setupErr != nil {
		return fail(ses.setupErr)
	}
	record(ses.booted, rep)
	bootErr := ses.bootErr

	// Analysis: test_progs' output, as scenarios.
	evs := ses.events
	rep.Splats = ses.splats
	for _, e := range evs {
		switch e.Kind {
		case wire.Hello:
			if e.Release != "" {
				rep.Kernel.Release = e.Release
			}
		case testprogs.Event:
			tp, out, err := testprogs.FromEvent(e)
			if err != nil && bootErr == nil {
				bootErr = err
			}
			if tp != nil {
				rep.Scenarios = tp.Scenarios()
				say("guest: test_progs %s", out.Exit)
			}
			// Raw, for whoever wants to read test_progs' own words.
			os.WriteFile(filepath.Join(o.Out, "test_progs.out"), []byte(out.Stdout), 0o644)
			if out.JSON != "" {
				os.WriteFile(filepath.Join(o.Out, "test_progs.json"), []byte(out.JSON), 0o644)
			}
		}
	}
	if bootErr != nil {
		return fail(bootErr)
	}
	rep.DurationS = time.Since(start).Seconds()
	rep.Finish()
	if err := writeOutputs(rep, o.Out); err != nil {
		return rep, err
	}
	return rep, nil
}
