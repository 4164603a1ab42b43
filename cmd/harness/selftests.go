package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/run"
	"github.com/kernel-harness/harness/harness/vm"
)

func selftestsCmd(args []string) int {
	fs := flag.NewFlagSet("selftests", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: harness selftests --tree DIR [--series S] [build options] -t NAME [-t NAME...] [--out DIR]

Builds the kernel and the tree's BPF selftests runner, test_progs
(tools/testing/selftests/bpf), against it, boots the kernel with test_progs
in the guest, runs test_progs -t NAME, and writes report.json, junit.xml
and report.html with one testcase per test_progs subtest, with its log.
Missing build tools (clang, pahole, libelf-dev, ...) are named with their
Debian package before anything is built.

Exit status: 0 all passed or skipped, 1 a test failed, 2 the run could not
be done.

options:
`)
		fs.PrintDefaults()
	}
	var o run.SelftestsOptions
	buildFlags(fs, &o.Build)
	// test_progs is compiled against the kernel's types: its kernel is the
	// selftests profile unless asked otherwise.
	o.Build.Profile = "selftests"
	fs.Lookup("profile").DefValue = o.Build.Profile
	fs.Var((*listFlag)(&o.Tests), "t", "run the test_progs tests `NAME` (test_progs -t: a name, a glob, test/subtest; repeatable)")
	fs.IntVar(&o.Nice, "nice", 10, "build the selftests under nice -n `N` (0: not niced)")
	fs.StringVar(&o.Out, "out", "", "output folder (default ./harness-out/<timestamp>)")
	fs.StringVar(&o.Backend, "backend", run.BackendAuto, "boot through qemu or vng (virtme-ng); auto: as harness run")
	fs.StringVar(&o.Accel, "accel", vm.AccelAuto, "accelerator: kvm, tcg or auto (KVM when it works)")
	fs.StringVar(&o.Machine, "machine", "", "QEMU machine type: q35 or microvm (default: from the kernel's config)")
	fs.StringVar(&o.QEMU, "qemu", "", "QEMU binary (default qemu-system-x86_64 from PATH)")
	appendArgs := fs.String("append", "", "more kernel command-line arguments")
	fs.IntVar(&o.CPUs, "cpus", 2, "guest CPUs")
	fs.IntVar(&o.MemoryMB, "memory", 1024, "guest memory in MiB (test_progs and its libraries sit in the initramfs)")
	boot := fs.Duration("boot-timeout", 30*time.Second, "deadline from start to the guest's first event under KVM (TCG: 4x; --backend vng: 3x more)")
	idle := fs.Duration("idle-timeout", 60*time.Second, "longest silence from the guest under KVM (TCG: 4x)")
	total := fs.Duration("timeout", 5*time.Minute, "deadline for the whole boot, test_progs included, under KVM (TCG: 4x)")
	if code, done := parseFlags(fs, args, "selftests"); done {
		return code
	}
	if o.Out == "" {
		o.Out = defaultOut()
	}
	o.Append = strings.Fields(*appendArgs)
	o.Deadlines = vm.Deadlines{Boot: *boot, Idle: *idle, Run: *total}
	o.Progress = os.Stderr
	finish := githubActions("selftests", &o.Options) // step summary and annotations, as harness run

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := run.RunSelftests(ctx, o)
	finish(rep, err)
	if rep != nil && len(rep.Scenarios) > 0 {
		rep.Summary(os.Stdout, report.SummaryOptions{Out: o.Out})
	}
	fmt.Fprintf(os.Stderr, "output: %s\n", o.Out)
	if err != nil {
		fmt.Fprintf(os.Stderr, "harness selftests: %v\n", err)
		return 2
	}
	return report.Exit(rep.Verdict)
}
