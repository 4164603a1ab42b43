package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kernel-harness/harness/harness/analysis"
	"github.com/kernel-harness/harness/harness/boot/driver"
	"github.com/kernel-harness/harness/harness/input"
	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/run"
)

// runFlags are harness run's options: run.Options and those the command
// turns into them or acts on itself.
type runFlags struct {
	o                               run.Options
	shard, appendArgs               string
	verbose, requireHook            bool
	bootTimeout, idleTimeout, total time.Duration
	// exitUntestable is the exit status of a run that could not test its
	// kernel; 0: 2, as any run that could not be done.
	exitUntestable int
}

func newRunCmd() *cobra.Command {
	var f runFlags
	o := &f.o
	cmd := &cobra.Command{
		Use:   "run",
		Short: "boot a kernel, run the scenarios, report",
		Annotations: map[string]string{"synopsis": `harness run [--kernel bzImage [--modules DIR]] [--out DIR] [--scenario REGEX]
harness run --tree DIR [--series S] [build options] [--out DIR] [--scenario REGEX]`},
		Long: `Boots the kernel in QEMU with the harness as its guest agent, runs the
scenarios over IPv4 and IPv6 in baseline and autolowat modes, and writes
report.json, junit.xml, results.ktap, kcidb.json, events.jsonl,
console.log, report.html and trace.json to the output folder.
Without --kernel it boots the host's kernel when /boot has it readable, else
Debian's 6.12 cloud kernel, fetched once into the cache.

Exit status: 0 all passed or unsupported, 1 a scenario failed or the kernel
reported a splat, 2 the run could not be done (with --exit-untestable N:
N when the options were good but the kernel could not be tested).`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error { return status(runMain(&f)) },
	}
	// No default of its own: the backend decides (minimal, or vng under
	// --backend vng) unless --profile is given.
	buildFlags(cmd, &o.Build, "")
	fs := cmd.Flags()
	fs.Lookup("profile").DefValue = "minimal, or vng under --backend vng"
	fs.BoolVar(&o.Baseline, "baseline", false, "with --tree and --series: run on the base too and compare side by side")
	fs.BoolVar(&o.EachPatch, "each-patch", false, "with --tree and --series: build and run after the first 1, 2, ... patches, and print patches x scenarios")
	group(fs, groupTree, "baseline", "each-patch")

	fs.StringVar(&o.Kernel, "kernel", "", "kernel image (bzImage) to boot, or a kernel build folder (as vng --run takes)")
	fs.StringVar(&o.Modules, "modules", "", "its modules folder, lib/modules/<release> (default: found beside the kernel)")
	choiceFlag(cmd, &o.Accel, "accel", driver.AccelAuto, "accelerator: kvm, tcg or auto (KVM when it works)", driver.AccelKVM, driver.AccelTCG, driver.AccelAuto)
	choiceFlag(cmd, &o.Machine, "machine", "", "QEMU machine type: q35 or microvm (default: microvm for a kernel whose config has no PCI, else q35)", "", "q35", "microvm")
	fs.StringVar(&o.QEMU, "qemu", "", "QEMU binary (default qemu-system-x86_64 from PATH)")
	choiceFlag(cmd, &o.Backend, "backend", run.BackendAuto, "boot through qemu or vng (virtme-ng); auto: vng when $HARNESS_BACKEND or the config file ($XDG_CONFIG_HOME/harness/config: backend = vng) asks for it and vng is installed, else qemu", run.BackendQEMU, run.BackendVNG, run.BackendAuto)
	fs.StringVar(&f.appendArgs, "append", "", "more kernel command-line arguments, after the harness's own")
	fs.IntVar(&o.CPUs, "cpus", 2, "guest CPUs")
	fs.IntVar(&o.MemoryMB, "memory", 512, "guest memory in MiB")
	fs.DurationVar(&f.bootTimeout, "boot-timeout", 15*time.Second, "deadline from start to the guest's first event under KVM (TCG: 4x; --backend vng: 3x more)")
	fs.DurationVar(&f.idleTimeout, "idle-timeout", 30*time.Second, "longest silence from the guest under KVM (TCG: 4x)")
	fs.DurationVar(&f.total, "timeout", 5*time.Minute, "deadline for the whole boot under KVM (TCG: 4x)")
	group(fs, groupVM, "kernel", "modules", "accel", "machine", "qemu", "backend", "append", "cpus", "memory", "boot-timeout", "idle-timeout", "timeout")
	cmd.MarkFlagFilename("kernel")
	cmd.MarkFlagDirname("modules")

	fs.StringVar(&o.Scenario, "scenario", "", "run only scenarios whose name matches this regular expression")
	fs.Var((*listFlag)(&o.ScenarioFiles), "scenarios", "more scenarios from a JSON or YAML `FILE` (repeatable; docs/scenarios.md)")
	fs.StringVar(&f.shard, "shard", "", "run only part `I/N` of the scenarios, for CI jobs: the I-th of every N scenarios, in the plan's order (a scenario's families and modes stay together)")
	atLeastFlag(fs, &o.Repeat, "repeat", 1, 1, "a count of runs", "run every scenario `N` times (in one boot; --repeat-boot: a fresh boot each) and report pass rates, spreads and flaky scenarios")
	fs.BoolVar(&o.RepeatBoot, "repeat-boot", false, "with --repeat: boot the kernel afresh for every run")
	fs.DurationVar(&o.StallTimeout, "stall-timeout", run.DefaultStall, "after a case's last step, how long its reader waits for each wake-up before the case fails no-stall (1ms to 1m; not stretched under TCG)")
	fs.StringVar(&o.BPFObject, "bpf-object", "", "load this compiled BPF `FILE` in place of the harness's autolowat programs, each program attached by its section to the cases' cgroup")
	fs.StringVar(&o.BPFSource, "bpf-source", "", "compile this BPF C `FILE` against the kernel under test (its vmlinux.h; with --tree, the tree's libbpf and selftests headers, and a relative path is looked up in the tree) and load it as --bpf-object")
	group(fs, groupScenario, "scenario", "scenarios", "shard", "repeat", "repeat-boot", "stall-timeout", "bpf-object", "bpf-source")
	cmd.MarkFlagFilename("scenarios", "yaml", "yml", "json")
	cmd.MarkFlagFilename("bpf-object", "o")
	cmd.MarkFlagFilename("bpf-source", "c")

	fs.StringVar(&o.Out, "out", "", "output folder (default ./harness-out/<timestamp>)")
	fs.BoolVar(&f.verbose, "verbose", false, "end with a row per case and its measurements instead of the matrix of scenarios")
	fs.BoolVar(&f.requireHook, "require-hook", false, "exit 1 when the series was not exercised (no autolowat case could run: the kernel lacks the hook), for CI jobs that exist to test the series")
	betweenFlag(fs, &f.exitUntestable, "exit-untestable", 0, 1, 127, "an exit status git bisect run takes (125 skips the commit)",
		"exit `N` (1 to 127; 125 for git bisect run) instead of 2 when the kernel could not be tested: it did not build, did not boot, or its cases could not run; bad options still exit 2, failed cases 1")
	fs.Lookup("exit-untestable").DefValue = "2"
	group(fs, groupOutput, "out", "verbose", "require-hook", "exit-untestable")
	cmd.MarkFlagDirname("out")
	return cmd
}

func runMain(f *runFlags) int {
	o := f.o
	var err error
	if o.Shard, err = parseShard(f.shard); err != nil {
		fmt.Fprintf(stderr, "harness run: %v\n", err)
		return 2
	}
	o.Append = strings.Fields(f.appendArgs)
	o.Deadlines = driver.Deadlines{Boot: f.bootTimeout, Idle: f.idleTimeout, Run: f.total}
	ctx, p, end, ok := begin("run", &o, false, func(ctx context.Context) (*run.Plan, error) { return run.Check(ctx, o) })
	if !ok {
		return 2
	}
	defer end()
	finish := githubActions("run", p) // GitHub Actions: groups, annotations, step summary (ci.go)

	rep, err := run.Run(ctx, p)
	finish(rep, err)
	// A run that failed before any case started is one error line, not
	// a matrix of cases in error.
	if rep != nil && len(rep.Scenarios) > 0 && (err == nil || anyStarted(rep)) {
		rep.Summary(os.Stdout, report.SummaryOptions{Verbose: f.verbose, Out: o.Out})
		if rep.Baseline != nil {
			fmt.Println()
			rep.Baseline.SideBySide(os.Stdout)
		}
	}
	if rep != nil && rep.EachPatch != nil {
		fmt.Println()
		rep.EachPatch.Table(os.Stdout)
	}
	fmt.Fprintf(stderr, "output: %s\n", input.Quote(o.Out))
	if err != nil {
		fmt.Fprintf(stderr, "harness run: %v\n", err)
	}
	code, why := runExit(rep, err, ctx.Err() != nil, f)
	if why != "" {
		fmt.Fprintf(stderr, "harness run: %s\n", why)
	}
	return code
}

// runExit is a run's exit status, once its options were taken: 0 passed,
// 1 failed (or, with --require-hook, did not exercise the series), 2 not
// done. A run not done that was not stopped (by a signal, a closed
// standard error) could not test its kernel: it exits --exit-untestable
// when given, so that git bisect run skips the commit rather than mark
// it bad. why says what the status means where the run's own words do
// not.
func runExit(rep *report.Report, err error, stopped bool, f *runFlags) (code int, why string) {
	code = 2
	if err == nil && rep != nil {
		code = report.Exit(rep.Verdict)
	}
	switch {
	case code == 2 && f.exitUntestable != 0 && !stopped:
		return f.exitUntestable, fmt.Sprintf("the kernel could not be tested: exit %d (--exit-untestable)", f.exitUntestable)
	case code == 0 && f.requireHook && (rep.Hook == nil || !rep.Hook.Exercised):
		return 1, "--require-hook: the series was not exercised: no autolowat case ran"
	}
	return code, ""
}

// anyStarted says whether the guest started any case.
func anyStarted(rep *report.Report) bool {
	for _, sc := range rep.Scenarios {
		if sc.Reason != analysis.NeverStarted {
			return true
		}
	}
	return false
}
