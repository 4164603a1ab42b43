package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kernel-harness/harness/harness/boot/driver"
	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/run"
)

func newSelftestsCmd() *cobra.Command {
	var (
		o                 run.SelftestsOptions
		appendArgs        string
		boot, idle, total time.Duration
	)
	cmd := &cobra.Command{
		Use:         "selftests",
		Short:       "build and run the tree's BPF selftests (test_progs) in the VM",
		Annotations: map[string]string{"synopsis": "harness selftests --tree DIR [--series S] [build options] -t NAME [-t NAME...] [--out DIR]"},
		Long: `Builds the kernel and the tree's BPF selftests runner, test_progs
(tools/testing/selftests/bpf), against it, boots the kernel with test_progs
in the guest, runs test_progs -t NAME, and writes report.json, junit.xml,
results.ktap, kcidb.json and report.html with one testcase per
test_progs subtest, with its log.
Missing build tools (clang, pahole, libelf-dev, ...) are named with their
Debian package before anything is built.

Exit status: 0 all passed or skipped, 1 a test failed, 2 the run could not
be done.`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error {
			return status(selftestsMain(o, appendArgs, boot, idle, total))
		},
	}
	// test_progs is compiled against the kernel's types: its kernel is the
	// selftests profile (selftests-vng under vng, which boots it) unless
	// asked otherwise; the plan settles it once the backend is known.
	buildFlags(cmd, &o.Build, "")
	fs := cmd.Flags()
	fs.Lookup("profile").DefValue = "selftests, or selftests-vng under --backend vng"
	fs.IntVar(&o.Nice, "nice", 10, "build the selftests under nice -n `N` (0: not niced)")
	group(fs, groupTree, "nice")
	choiceFlag(cmd, &o.Backend, "backend", run.BackendAuto, "boot through qemu or vng (virtme-ng); auto: as harness run", run.BackendQEMU, run.BackendVNG, run.BackendAuto)
	choiceFlag(cmd, &o.Accel, "accel", driver.AccelAuto, "accelerator: kvm, tcg or auto (KVM when it works)", driver.AccelKVM, driver.AccelTCG, driver.AccelAuto)
	choiceFlag(cmd, &o.Machine, "machine", "", "QEMU machine type: q35 or microvm (default: from the kernel's config)", "", "q35", "microvm")
	fs.StringVar(&o.QEMU, "qemu", "", "QEMU binary (default qemu-system-x86_64 from PATH)")
	fs.StringVar(&appendArgs, "append", "", "more kernel command-line arguments")
	fs.IntVar(&o.CPUs, "cpus", 2, "guest CPUs")
	fs.IntVar(&o.MemoryMB, "memory", 1024, "guest memory in MiB (test_progs and its libraries sit in the initramfs)")
	fs.DurationVar(&boot, "boot-timeout", 30*time.Second, "deadline from start to the guest's first event under KVM (TCG: 4x; --backend vng: 3x more)")
	fs.DurationVar(&idle, "idle-timeout", 60*time.Second, "longest silence from the guest under KVM (TCG: 4x)")
	fs.DurationVar(&total, "timeout", 5*time.Minute, "deadline for the whole boot, test_progs included, under KVM (TCG: 4x)")
	group(fs, groupVM, "backend", "accel", "machine", "qemu", "append", "cpus", "memory", "boot-timeout", "idle-timeout", "timeout")
	fs.VarP((*listFlag)(&o.Tests), "test", "t", "run the test_progs tests `NAME` (test_progs -t: a name, a glob, test/subtest; repeatable)")
	group(fs, groupScenario, "test")
	fs.StringVar(&o.Out, "out", "", "output folder (default ./harness-out/<timestamp>)")
	group(fs, groupOutput, "out")
	cmd.MarkFlagDirname("out")
	return cmd
}

func selftestsMain(o run.SelftestsOptions, appendArgs string, boot, idle, total time.Duration) int {
	o.Append = strings.Fields(appendArgs)
	o.Deadlines = driver.Deadlines{Boot: boot, Idle: idle, Run: total}
	ctx, p, end, ok := begin("selftests", &o.Options, false, func(ctx context.Context) (*run.Plan, error) { return run.CheckSelftests(ctx, o) })
	if !ok {
		return 2
	}
	defer end()
	finish := githubActions("selftests", p) // step summary and annotations, as harness run

	rep, err := run.RunSelftests(ctx, p)
	finish(rep, err)
	if rep != nil && len(rep.Scenarios) > 0 {
		rep.Summary(os.Stdout, report.SummaryOptions{Out: o.Out})
	}
	fmt.Fprintf(stderr, "output: %s\n", o.Out)
	if err != nil {
		fmt.Fprintf(stderr, "harness selftests: %v\n", err)
		return 2
	}
	return report.Exit(rep.Verdict)
}
