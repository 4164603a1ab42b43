package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/kernel-harness/harness/harness/build"
	"github.com/kernel-harness/harness/harness/cleanup"
)

// cacheKeyCmd prints the artifact key a build of these options would be
// stored under, without compiling: a CI workflow keys its cache with it.
// The key needs the final .config, so the series is applied and the
// kernel configured, as `harness build` does (seconds).
func newCacheKeyCmd() *cobra.Command {
	var o build.Options
	cmd := &cobra.Command{
		Use:   "key --tree DIR [--series S] [build options]",
		Short: "print the key a build of these options is cached under",
		Long: `Applies the series in the harness's worktree and configures the kernel as
harness build does, then prints the key the build is cached under (in
$XDG_CACHE_HOME/harness/artifacts/KEY) and stops before compiling.
The same options on the same tree give the same key.`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error { return status(cacheKeyMain(o)) },
	}
	buildFlags(cmd, &o, "minimal")
	return cmd
}

func cacheKeyMain(o build.Options) int {
	if o.Tree == "" {
		fmt.Fprintln(stderr, "harness cache key: --tree is required")
		return 2
	}
	if err := build.Check(o); err != nil {
		fmt.Fprintf(stderr, "harness cache key: %v\n", err)
		return 2
	}
	dir, remove, err := cleanup.TempDir("harness-key-")
	if err != nil {
		fmt.Fprintf(stderr, "harness cache key: %v\n", err)
		return 2
	}
	defer remove()
	ctx := signalContext()
	defer ctx.stop()
	// Only the key goes to stdout, for $(harness cache key ...).
	o.KeyOnly, o.LogFile, o.Progress = true, filepath.Join(dir, "build.log"), ctx.watch(os.Stderr, "standard error")
	_, b, err := build.Kernel(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "harness cache key: %v\n", err)
		if log, _ := os.ReadFile(o.LogFile); len(log) > 0 {
			fmt.Fprintf(stderr, "--- output of git and make:\n%s", log)
		}
		return 2
	}
	fmt.Println(b.Key)
	return 0
}
