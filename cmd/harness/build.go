package main

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	kernelconfig "github.com/kernel-harness/harness/kernel-config"

	"github.com/kernel-harness/harness/harness/build"
	"github.com/kernel-harness/harness/harness/kbuild"
)

// buildFlags registers the options that make a kernel from a tree, in
// the "Tree and build" section of help; profile is the default profile.
func buildFlags(cmd *cobra.Command, o *build.Options, profile string) {
	fs := cmd.Flags()
	fs.SortFlags = false
	fs.StringVar(&o.Tree, "tree", "", "kernel git checkout (never modified: the series is applied in a worktree of its own)")
	fs.StringVar(&o.Series, "series", "", "mbox, folder of patches, revision range A..B, or lore:<message-id> (needs b4)")
	fs.StringVar(&o.Base, "base", "", "revision to apply the series on (default HEAD of the tree)")
	fs.BoolVar(&o.AllowPartial, "allow-partial", false, "apply a series with missing patches")
	fs.StringVar(&o.Profile, "profile", profile, "config profile: minimal; debug (KASAN, lockdep and friends); selftests (what the tree's BPF selftests are built against); vng (what virtme-ng needs to boot it); selftests-vng (both)")
	fs.Var((*listFlag)(&o.Configs), "config", "more config fragment `FILE` (repeatable)")
	fs.Var((*listFlag)(&o.Items), "config-item", "one more option, `CONFIG_X=y` (repeatable)")
	fs.IntVar(&o.Jobs, "jobs", 0, "parallel make jobs (default: number of CPUs)")
	group(fs, groupTree, "tree", "series", "base", "allow-partial", "profile", "config", "config-item", "jobs")
	cmd.MarkFlagDirname("tree")
	cmd.RegisterFlagCompletionFunc("profile", cobra.FixedCompletions(slices.Sorted(maps.Keys(kernelconfig.Profiles)), cobra.ShellCompDirectiveNoFileComp))
}

func newBuildCmd() *cobra.Command {
	var o build.Options
	var out string
	cmd := &cobra.Command{
		Use:   "build --tree DIR [--series S] [options]",
		Short: "apply a series to a tree and build the kernel",
		Long: `Applies the series in a worktree, configures the kernel from the harness's
fragments and builds it, or takes it from the artifact cache. Prints the
path of the kernel image.`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error { return status(buildMain(o, out)) },
	}
	buildFlags(cmd, &o, "minimal")
	cmd.Flags().StringVar(&out, "out", "", "folder for build.log (default ./harness-out/<timestamp>)")
	group(cmd.Flags(), groupOutput, "out")
	return cmd
}

func buildMain(o build.Options, out string) int {
	if o.Tree == "" {
		fmt.Fprintln(stderr, "harness build: --tree is required")
		return 2
	}
	// Cheap checks before any output folder or checkout.
	if err := build.Check(o); err != nil {
		fmt.Fprintf(stderr, "harness build: %v\n", err)
		return 2
	}
	d, ok := claimOut("build", &out, false)
	if !ok {
		return 2
	}
	defer d.Close()
	ctx := signalContext()
	defer ctx.stop()
	o.LogFile, o.Progress = filepath.Join(d.Path, "build.log"), ctx.watch(os.Stderr, "standard error")
	k, _, err := build.Kernel(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "harness build: %v\n", err)
		var be *kbuild.BuildError
		if !errors.As(err, &be) {
			fmt.Fprintf(stderr, "(full output in %s)\n", o.LogFile)
		}
		return 2
	}
	fmt.Println(k.Image)
	return 0
}
