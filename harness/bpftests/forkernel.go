package bpftests

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kernel-harness/harness/harness/build"
	"github.com/kernel-harness/harness/harness/kbuild"
	"github.com/kernel-harness/harness/harness/kernel"
)

// ForKernelOptions is one build of test_progs for a kernel.
type ForKernelOptions struct {
	// Tree is the user's tree, which names the build's folder in the
	// cache; Worktree the checkout the kernel was built from.
	Tree, Worktree string
	Kernel         kernel.Kernel
	Tests          []string
	Jobs, Nice     int
	Log            string // the build's log file
	Progress       io.Writer
	Say            func(string, ...any)
}

// ForKernel builds test_progs in the worktree the kernel was built
// from, against its BTF, in one folder per tree in the cache (make
// redoes what changed), after checking the kernel's config against the
// selftests' own list.
func ForKernel(ctx context.Context, o ForKernelOptions) (Result, error) {
	wt, k, say := o.Worktree, o.Kernel, o.Say
	var built Result
	if _, err := os.Stat(filepath.Join(wt, "tools/testing/selftests/bpf/Makefile")); err != nil {
		return built, ErrNoTestProgs
	}
	// The kernel's config against the selftests' own list, before
	// minutes of building programs the kernel has no types for.
	if kc := k.Config(); kc != "" {
		gaps, err := ConfigGaps(wt, kc)
		if err != nil {
			return built, err
		}
		if err := GapsError(o.Tree, gaps); err != nil {
			return built, err
		}
	} else {
		say("selftests: no config beside %s; the build will tell what the kernel lacks", k.Image)
	}
	cache, err := kernel.CacheDir()
	if err != nil {
		return built, err
	}
	// One output folder per tree: make redoes what changed.
	outDir := filepath.Join(cache, "selftests", build.ShortHash(o.Tree))
	// A -t that names no test stops here, not after the build.
	if _, err := Objects(wt, outDir, o.Tests); err != nil {
		return built, err
	}
	logPath := o.Log
	logf, err := os.Create(logPath)
	if err != nil {
		return built, err
	}
	defer logf.Close()
	say("selftests: building test_progs in %s (log: %s)", outDir, logPath)
	// The worktree is checked out anew each run: sources unchanged
	// since this folder's last build get old times, as for the kernel.
	kept, record, err := kbuild.KeepTimes(ctx, wt, outDir)
	if err != nil {
		return built, err
	}
	if kept > 0 {
		say("selftests: %d sources unchanged since the last build in %s", kept, outDir)
	}
	t0 := time.Now()
	built, err = Build(ctx, BuildOptions{Tree: wt, Kernel: k.Image, Out: outDir, Jobs: o.Jobs, Nice: o.Nice, Tests: o.Tests, Log: logf, Progress: o.Progress})
	if err != nil {
		return built, fmt.Errorf("%w (full output in %s)", err, logPath)
	}
	if err := record(); err != nil {
		return built, err
	}
	built.Seconds = time.Since(t0).Seconds()
	say("selftests: test_progs built in %s", time.Since(t0).Round(time.Second))
	if len(built.Kfuncs) > 0 {
		say("selftests: the kernel's BTF declares no kfuncs (pahole before 1.26): vmlinux.h declares those the programs call: %s", strings.Join(built.Kfuncs, ", "))
	}
	for _, d := range built.Dropped {
		say("selftests: built without %s, which does not compile in this tree: %s", d.File, d.Error)
	}
	built.Objects, err = Objects(wt, outDir, o.Tests)
	return built, err
}
