package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/kernel-harness/harness/harness/analysis"
	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/run"
	"github.com/kernel-harness/harness/harness/vm"
)

func runCmd(args []string) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: harness run [--kernel bzImage [--modules DIR]] [--out DIR] [--scenario REGEX]
       harness run --tree DIR [--series S] [build options] [--out DIR] [--scenario REGEX]

Boots the kernel in QEMU with the harness as its guest agent, runs the
scenarios over IPv4 and IPv6 in baseline and autolowat modes, and writes
report.json, junit.xml, events.jsonl, console.log and report.html to the
output folder.
Without --kernel it boots the host's kernel when /boot has it readable, else
Debian's 6.12 cloud kernel, fetched once into the cache.

Exit status: 0 all passed or unsupported, 1 a scenario failed or the kernel
reported a splat, 2 the run could not be done.

options:
`)
		fs.PrintDefaults()
	}
	var o run.Options
	buildFlags(fs, &o.Build)
	fs.BoolVar(&o.Baseline, "baseline", false, "with --tree and --series: run on the base too and compare side by side")
	fs.IntVar(&o.Repeat, "repeat", 1, "run every scenario `N` times (in one boot; --repeat-boot: a fresh boot each) and report pass rates, spreads and flaky scenarios")
	fs.BoolVar(&o.RepeatBoot, "repeat-boot", false, "with --repeat: boot the kernel afresh for every run")
	fs.BoolVar(&o.EachPatch, "each-patch", false, "with --tree and --series: build and run after the first 1, 2, ... patches, and print patches x scenarios")
	fs.StringVar(&o.Kernel, "kernel", "", "kernel image (bzImage) to boot, or a kernel build folder (as vng --run takes)")
	fs.StringVar(&o.Modules, "modules", "", "its modules folder, lib/modules/<release> (default: found beside the kernel)")
	fs.StringVar(&o.Out, "out", "", "output folder (default ./harness-out/<timestamp>)")
	fs.StringVar(&o.Scenario, "scenario", "", "run only scenarios whose name matches this regular expression")
	shard := fs.String("shard", "", "run only part `I/N` of the scenarios, for CI jobs: the I-th of every N scenarios, in the plan's order (a scenario's families and modes stay together)")
	fs.Var((*listFlag)(&o.ScenarioFiles), "scenarios", "more scenarios from a JSON or YAML `FILE` (repeatable; docs/scenarios.md)")
	fs.StringVar(&o.BPFObject, "bpf-object", "", "load this compiled BPF `FILE` in place of the harness's autolowat programs, each program attached by its section to the cases' cgroup")
	fs.StringVar(&o.BPFSource, "bpf-source", "", "compile this BPF C `FILE` against the kernel under test (its vmlinux.h; with --tree, the tree's libbpf and selftests headers, and a relative path is looked up in the tree) and load it as --bpf-object")
	fs.StringVar(&o.Accel, "accel", vm.AccelAuto, "accelerator: kvm, tcg or auto (KVM when it works)")
	fs.StringVar(&o.Machine, "machine", "", "QEMU machine type: q35 or microvm (default: microvm for a kernel whose config has no PCI, else q35)")
	fs.StringVar(&o.QEMU, "qemu", "", "QEMU binary (default qemu-system-x86_64 from PATH)")
	fs.StringVar(&o.Backend, "backend", run.BackendAuto, "boot through qemu or vng (virtme-ng); auto: vng when $HARNESS_BACKEND or the config file ($XDG_CONFIG_HOME/harness/config: backend = vng) asks for it and vng is installed, else qemu")
	appendArgs := fs.String("append", "", "more kernel command-line arguments, after the harness's own")
	verbose := fs.Bool("verbose", false, "end with a row per case and its measurements instead of the matrix of scenarios")
	requireHook := fs.Bool("require-hook", false, "exit 1 when the series was not exercised (no autolowat case could run: the kernel lacks the hook), for CI jobs that exist to test the series")
	fs.IntVar(&o.CPUs, "cpus", 2, "guest CPUs")
	fs.IntVar(&o.MemoryMB, "memory", 512, "guest memory in MiB")
	boot := fs.Duration("boot-timeout", 15*time.Second, "deadline from start to the guest's first event under KVM (TCG: 4x; --backend vng: 3x more)")
	idle := fs.Duration("idle-timeout", 30*time.Second, "longest silence from the guest under KVM (TCG: 4x)")
	total := fs.Duration("timeout", 5*time.Minute, "deadline for the whole boot under KVM (TCG: 4x)")
	fs.Lookup("profile").DefValue = "minimal, or vng under --backend vng"
	if code, done := parseFlags(fs, args, "run"); done {
		return code
	}
	if !flagSet(fs, "profile") {
		o.Build.Profile = "" // the backend decides (run.Options)
	}
	var err error
	if o.Shard, err = parseShard(*shard); err != nil {
		fmt.Fprintf(os.Stderr, "harness run: %v\n", err)
		return 2
	}
	if o.Out == "" {
		o.Out = defaultOut()
	}
	if o.Kernel != "" && o.Build.Tree != "" {
		fmt.Fprintln(os.Stderr, "harness run: give --kernel or --tree, not both")
		return 2
	}
	if o.Build.Tree == "" && (o.Build.Series != "" || o.Build.Base != "") {
		fmt.Fprintln(os.Stderr, "harness run: --series and --base need --tree")
		return 2
	}
	o.Append = strings.Fields(*appendArgs)
	o.Deadlines = vm.Deadlines{Boot: *boot, Idle: *idle, Run: *total}
	o.Progress = os.Stderr
	finish := githubActions("run", &o) // GitHub Actions: groups, annotations, step summary (ci.go)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := run.Run(ctx, o)
	finish(rep, err)
	// A run that failed before any case started is one error line, not
	// a matrix of cases in error.
	if rep != nil && len(rep.Scenarios) > 0 && (err == nil || anyStarted(rep)) {
		rep.Summary(os.Stdout, report.SummaryOptions{Verbose: *verbose, Out: o.Out})
		if rep.Baseline != nil {
			fmt.Println()
			rep.Baseline.SideBySide(os.Stdout)
		}
	}
	if rep != nil && rep.EachPatch != nil {
		fmt.Println()
		rep.EachPatch.Table(os.Stdout)
	}
	fmt.Fprintf(os.Stderr, "output: %s\n", o.Out)
	if err != nil {
		fmt.Fprintf(os.Stderr, "harness run: %v\n", err)
		return 2
	}
	if code := report.Exit(rep.Verdict); code != 0 {
		return code
	}
	if *requireHook && (rep.Hook == nil || !rep.Hook.Exercised) {
		fmt.Fprintln(os.Stderr, "harness run: --require-hook: the series was not exercised: no autolowat case ran")
		return 1
	}
	return 0
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

// flagSet says whether the command line gave the flag.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func defaultOut() string {
	return filepath.Join("harness-out", time.Now().Format("20060102-150405"))
}
