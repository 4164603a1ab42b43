package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/kernel-harness/harness/harness/bisect"
	"github.com/kernel-harness/harness/harness/boot/driver"
	"github.com/kernel-harness/harness/harness/run"
)

func newBisectCmd() *cobra.Command {
	var (
		bo                        run.BisectOptions
		buildFailure, bootFailure string
	)
	o := &bo.Run
	cmd := &cobra.Command{
		Use:         "bisect",
		Short:       "find the first commit at which scenarios fail",
		Annotations: map[string]string{"synopsis": "harness bisect --tree DIR --good REV --bad REV [--scenario REGEX] [--series S] [options]"},
		Long: `Finds the first commit between --good and --bad (along first parents) at
which the scenarios fail: each step builds the commit (plus --series, when
given) in the tree's build folder, so only what changed compiles, and from
the artifact cache when it was built before; boots it and runs the
scenarios. A failed scenario or a kernel splat is bad, all passed is good;
unsupported scenarios make a commit a skip. The tree's checkout and its own
git bisect are never touched. Every step is a line of bisect.log in the
output folder; --resume continues from it.

Exit status: 0 the first bad commit was found, 1 skipped commits hide it
(the candidates are listed), 2 the bisect could not be done.`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error {
			bo.BuildFailure, bo.BootFailure = bisect.Verdict(buildFailure), bisect.Verdict(bootFailure)
			return status(bisectMain(bo))
		},
	}
	buildFlags(cmd, &o.Build, "minimal")
	fs := cmd.Flags()
	fs.StringVar(&bo.Good, "good", "", "a commit where the scenarios pass")
	fs.StringVar(&bo.Bad, "bad", "", "a later commit where they fail")
	choiceFlag(cmd, &buildFailure, "build-failure", string(bisect.Skip), "a commit that does not build is: skip or bad", string(bisect.Skip), string(bisect.Bad))
	choiceFlag(cmd, &bootFailure, "boot-failure", string(bisect.Skip), "a commit that does not boot (or whose run breaks) is: skip or bad", string(bisect.Skip), string(bisect.Bad))
	group(fs, groupTree, "good", "bad", "build-failure", "boot-failure")
	choiceFlag(cmd, &o.Accel, "accel", driver.AccelAuto, "accelerator: kvm, tcg or auto", driver.AccelKVM, driver.AccelTCG, driver.AccelAuto)
	choiceFlag(cmd, &o.Machine, "machine", "", "QEMU machine type: q35 or microvm (default: microvm for a kernel whose config has no PCI, else q35)", "", "q35", "microvm")
	fs.IntVar(&o.CPUs, "cpus", 2, "guest CPUs")
	fs.IntVar(&o.MemoryMB, "memory", 512, "guest memory in MiB")
	group(fs, groupVM, "accel", "machine", "cpus", "memory")
	fs.StringVar(&o.Scenario, "scenario", "", "the scenarios that decide, by name or name/family/mode (a regular expression)")
	fs.Var((*listFlag)(&o.ScenarioFiles), "scenarios", "more scenarios from a JSON or YAML `FILE` (repeatable)")
	group(fs, groupScenario, "scenario", "scenarios")
	fs.StringVar(&o.Out, "out", "", "output folder (default ./harness-out/<timestamp>)")
	fs.BoolVar(&bo.Resume, "resume", false, "continue the bisect whose bisect.log is in --out")
	group(fs, groupOutput, "out", "resume")
	return cmd
}

func bisectMain(bo run.BisectOptions) int {
	o := &bo.Run
	if o.Build.Tree == "" || bo.Good == "" || bo.Bad == "" {
		fmt.Fprintln(stderr, "harness bisect: --tree, --good and --bad are required")
		return 2
	}
	if bo.Resume && o.Out == "" {
		fmt.Fprintln(stderr, "harness bisect: --resume needs the --out of the bisect to continue")
		return 2
	}
	o.Deadlines = driver.Deadlines{Boot: 15 * time.Second, Idle: 30 * time.Second, Run: 5 * time.Minute}
	ctx, p, end, ok := begin("bisect", o, bo.Resume, func(ctx context.Context) (*run.Plan, error) { return run.CheckBisect(ctx, bo) })
	if !ok {
		return 2
	}
	defer end()
	rep, err := run.Bisect(ctx, p)
	if rep != nil {
		rep.Print(os.Stdout)
	}
	fmt.Fprintf(stderr, "output: %s\n", o.Out)
	if err != nil {
		fmt.Fprintf(stderr, "harness bisect: %v\n", err)
		if rep != nil && rep.Outcome != nil && !errors.Is(err, bisect.ErrWrongEnd) {
			fmt.Fprintf(stderr, "(harness bisect --resume --out %s continues from the last step)\n", o.Out)
		}
		return 2
	}
	if rep.Outcome.FirstBad == nil {
		return 1
	}
	return 0
}
