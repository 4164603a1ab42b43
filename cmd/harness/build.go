package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/kernel-harness/harness/harness/build"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/kernel-harness/harness/harness/kbuild"
)

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// buildFlags registers the options that make a kernel from a tree.
func buildFlags(fs *flag.FlagSet, o *build.Options) {
	fs.StringVar(&o.Tree, "tree", "", "kernel git checkout (never modified: the series is applied in a worktree of its own)")
	fs.StringVar(&o.Series, "series", "", "mbox, folder of patches, revision range A..B, or lore:<message-id> (needs b4)")
	fs.StringVar(&o.Base, "base", "", "revision to apply the series on (default HEAD of the tree)")
	fs.BoolVar(&o.AllowPartial, "allow-partial", false, "apply a series with missing patches")
	fs.StringVar(&o.Profile, "profile", "minimal", "config profile: minimal; debug (KASAN, lockdep and friends); selftests (what the tree's BPF selftests are built against); vng (what virtme-ng needs to boot it)")
	fs.Var((*listFlag)(&o.Configs), "config", "more config fragment `FILE` (repeatable)")
	fs.Var((*listFlag)(&o.Items), "config-item", "one more option, CONFIG_X=y (repeatable)")
	fs.IntVar(&o.Jobs, "jobs", 0, "parallel make jobs (default: number of CPUs)")
}

func buildCmd(args []string) int {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	var o build.Options
	buildFlags(fs, &o)
	out := fs.String("out", "", "folder for build.log (default ./harness-out/<timestamp>)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: harness build --tree DIR [--series S] [options]

Applies the series in a worktree, configures the kernel from the harness's
fragments and builds it, or takes it from the artifact cache. Prints the
path of the kernel image.

options:
`)
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args, "build"); done {
		return code
	}
	if o.Tree == "" {
		fmt.Fprintln(os.Stderr, "harness build: --tree is required")
		return 2
	}
	dir := *out
	if dir == "" {
		dir = defaultOut()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintf(os.Stderr, "harness build: %v\n", err)
		return 2
	}
	o.LogFile, o.Progress = filepath.Join(dir, "build.log"), os.Stderr
	os.Remove(o.LogFile)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	k, _, err := build.Kernel(ctx, o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "harness build: %v\n", err)
		var be *kbuild.BuildError
		if !errors.As(err, &be) {
			fmt.Fprintf(os.Stderr, "(full output in %s)\n", o.LogFile)
		}
		return 2
	}
	fmt.Println(k.Image)
	return 0
}
