package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/kernel-harness/harness/harness/bisect"
	"github.com/kernel-harness/harness/harness/boot/driver"
	"github.com/kernel-harness/harness/harness/run"
)

func bisectCmd(args []string) int {
	fs := flag.NewFlagSet("bisect", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: harness bisect --tree DIR --good REV --bad REV [--scenario REGEX] [--series S] [options]

Finds the first commit between --good and --bad (along first parents) at
which the scenarios fail: each step builds the commit (plus --series, when
given) in the tree's build folder, so only what changed compiles, and from
the artifact cache when it was built before; boots it and runs the
scenarios. A failed scenario or a kernel splat is bad, all passed is good;
unsupported scenarios make a commit a skip. The tree's checkout and its own
git bisect are never touched. Every step is a line of bisect.log in the
output folder; --resume continues from it.

Exit status: 0 the first bad commit was found, 1 skipped commits hide it
(the candidates are listed), 2 the bisect could not be done.

options:
`)
		fs.PrintDefaults()
	}
	var bo run.BisectOptions
	o := &bo.Run
	buildFlags(fs, &o.Build)
	fs.StringVar(&bo.Good, "good", "", "a commit where the scenarios pass")
	fs.StringVar(&bo.Bad, "bad", "", "a later commit where they fail")
	buildFailure := fs.String("build-failure", "skip", "a commit that does not build is: skip or bad")
	bootFailure := fs.String("boot-failure", "skip", "a commit that does not boot (or whose run breaks) is: skip or bad")
	fs.BoolVar(&bo.Resume, "resume", false, "continue the bisect whose bisect.log is in --out")
	fs.StringVar(&o.Out, "out", "", "output folder (default ./harness-out/<timestamp>)")
	fs.StringVar(&o.Scenario, "scenario", "", "the scenarios that decide, by name or name/family/mode (a regular expression)")
	fs.Var((*listFlag)(&o.ScenarioFiles), "scenarios", "more scenarios from a JSON or YAML `FILE` (repeatable)")
	fs.StringVar(&o.Accel, "accel", driver.AccelAuto, "accelerator: kvm, tcg or auto")
	fs.StringVar(&o.Machine, "machine", "", "QEMU machine type: q35 or microvm (default: microvm for a kernel whose config has no PCI, else q35)")
	fs.IntVar(&o.CPUs, "cpus", 2, "guest CPUs")
	fs.IntVar(&o.MemoryMB, "memory", 512, "guest memory in MiB")
	if code, done := parseFlags(fs, args, "bisect"); done {
		return code
	}
	if o.Build.Tree == "" || bo.Good == "" || bo.Bad == "" {
		fmt.Fprintln(os.Stderr, "harness bisect: --tree, --good and --bad are required")
		return 2
	}
	if bo.Resume && o.Out == "" {
		fmt.Fprintln(os.Stderr, "harness bisect: --resume needs the --out of the bisect to continue")
		return 2
	}
	bo.BuildFailure, bo.BootFailure = bisect.Verdict(*buildFailure), bisect.Verdict(*bootFailure)
	o.Deadlines = driver.Deadlines{Boot: 15 * time.Second, Idle: 30 * time.Second, Run: 5 * time.Minute}
	// Cheap checks before any output folder or checkout.
	if err := run.CheckRun(*o); err != nil {
		fmt.Fprintf(os.Stderr, "harness bisect: %v\n", err)
		return 2
	}
	out, ok := claimOut("bisect", &o.Out, bo.Resume)
	if !ok {
		return 2
	}
	defer out.Close()
	ctx := signalContext()
	defer ctx.stop()
	o.Progress = ctx.watch(os.Stderr, "standard error")
	o.Command = os.Args
	rep, err := run.Bisect(ctx, bo)
	if rep != nil {
		rep.Print(os.Stdout)
	}
	fmt.Fprintf(os.Stderr, "output: %s\n", o.Out)
	if err != nil {
		fmt.Fprintf(os.Stderr, "harness bisect: %v\n", err)
		if rep != nil && rep.Outcome != nil && !errors.Is(err, bisect.ErrWrongEnd) {
			fmt.Fprintf(os.Stderr, "(harness bisect --resume --out %s continues from the last step)\n", o.Out)
		}
		return 2
	}
	if rep.Outcome.FirstBad == nil {
		return 1
	}
	return 0
}
