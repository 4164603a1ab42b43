// Package build makes a kernel from a tree and a series: the series
// applied in the harness's worktree of the tree, the kernel configured
// from the profile's fragments and built in an O= folder kept per tree
// and profile, and the result stored in the artifact cache.
package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	kernelconfig "github.com/kernel-harness/harness/kernel-config"

	"github.com/kernel-harness/harness/harness/artifact"
	"github.com/kernel-harness/harness/harness/input"
	"github.com/kernel-harness/harness/harness/kbuild"
	"github.com/kernel-harness/harness/harness/kernel"
	"github.com/kernel-harness/harness/harness/progress"
	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/require"
	"github.com/kernel-harness/harness/harness/series"
)

// Options is how to make a kernel from a tree and a series.
type Options struct {
	Tree         string
	Series       string // mbox, folder of patches, A..B, lore:<id>; empty: none
	Base         string // default HEAD of the tree
	AllowPartial bool
	Profile      string   // minimal or debug
	Configs      []string // more fragments
	Items        []string // CONFIG_X=y
	Jobs         int
	// KeyOnly stops once the cache key is known (applied and configured,
	// nothing compiled): `harness cache key`.
	KeyOnly bool
	// Patches, when above 0, applies only the first Patches patches of
	// the series (--each-patch).
	Patches int
	// LogFile receives the full output of git and make (build.log).
	LogFile string
	// Progress receives lines and the progress bar for the user.
	Progress io.Writer
	// WithTree, when set, is called with the worktree (the base plus the
	// series) and the kernel once the kernel is ready, before the
	// worktree is removed: files of the tree are used there.
	WithTree func(worktree string, k kernel.Kernel) error
	// Preflighted: Preflight passed already (the caller's checks).
	Preflighted bool
}

// Preflight is what a build needs of the machine and the tree, checked
// before any output folder or worktree is made: the build's tools, and a
// tree that is a git checkout.
func Preflight(ctx context.Context, o Options) error {
	if err := require.Error("the kernel", require.Check(ctx, kbuild.Requirements)); err != nil {
		return err
	}
	return checkTree(ctx, o.Tree)
}

// checkTree refuses a tree that is not a git checkout of Linux: a build
// there would make a worktree and run make for nothing.
func checkTree(ctx context.Context, tree string) error {
	if out, err := exec.CommandContext(ctx, "git", "-C", tree, "rev-parse", "--git-dir").CombinedOutput(); err != nil {
		return fmt.Errorf("--tree %s is not a git checkout: %s", tree, strings.TrimSpace(string(out)))
	}
	for _, f := range []string{"Makefile", "Kconfig", "arch/x86/Kconfig"} {
		if _, err := os.Stat(filepath.Join(tree, f)); err != nil {
			return fmt.Errorf("--tree %s is a git checkout but not a Linux tree (no %s at its top): give the top folder of a kernel tree", tree, f)
		}
	}
	return nil
}

// Kernel applies the series in a worktree of its own, configures and
// builds the kernel in an O= folder kept per tree and profile, and stores
// the result in the artifact cache; a build already there is not redone.
func Kernel(ctx context.Context, o Options) (kernel.Kernel, *report.Build, error) {
	say := progress.Say(o.Progress)
	logw := io.Discard
	if o.LogFile != "" {
		f, err := os.OpenFile(o.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return kernel.Kernel{}, nil, fmt.Errorf("build log: %w", err)
		}
		defer f.Close()
		logw = f
	}
	if o.Profile == "" {
		o.Profile = "minimal"
	}
	if o.Jobs <= 0 {
		o.Jobs = runtime.NumCPU()
	}
	if !o.Preflighted {
		if err := Preflight(ctx, o); err != nil {
			return kernel.Kernel{}, nil, err
		}
	}
	tree, err := filepath.Abs(o.Tree)
	if err != nil {
		return kernel.Kernel{}, nil, err
	}
	if _, ok := kernelconfig.Profiles[o.Profile]; !ok {
		return kernel.Kernel{}, nil, fmt.Errorf("unknown --profile %q (want %s)", o.Profile, kernelconfig.Names())
	}
	cacheDir, err := kernel.CacheDir()
	if err != nil {
		return kernel.Kernel{}, nil, err
	}

	// Step: series.
	s, err := series.Load(ctx, o.Series, tree)
	if err != nil {
		return kernel.Kernel{}, nil, fmt.Errorf("series: %w", err)
	}
	if err := s.Check(o.AllowPartial); err != nil {
		return kernel.Kernel{}, nil, err
	}
	if o.Patches > 0 && o.Patches < len(s.Patches) {
		// A copy: the digest, and so the cache key, is the prefix's.
		prefix := *s
		prefix.Patches = s.Patches[:o.Patches]
		s = &prefix
	}
	cache, err := artifact.Open(cacheDir)
	if err != nil {
		return kernel.Kernel{}, nil, err
	}
	warnDirty(ctx, tree, say)
	// Step: the index of inputs already built, which needs no checkout.
	// A caller that wants the worktree (WithTree) takes the whole way.
	baseHash, _, err := series.Resolve(ctx, tree, o.Base)
	if err != nil {
		return kernel.Kernel{}, nil, err
	}
	inputs, err := inputsKey(ctx, baseHash, s, o)
	if err != nil {
		return kernel.Kernel{}, nil, err
	}
	if ie, ok := readIndex(cache, inputs); ok && o.WithTree == nil {
		b := ie.Build
		b.Tree, b.Profile, b.Key = tree, o.Profile, ie.Key.String()
		if b.Series != nil {
			b.Series.Source = o.Series
		}
		if o.KeyOnly {
			return kernel.Kernel{}, &b, nil
		}
		if e, ok := cache.Get(ie.Key); ok {
			if b.Series != nil {
				sayPatches(say, b.Series.Patches)
			}
			b.CacheHit, b.Seconds = true, e.Seconds
			say("build: cache hit %s (%s, built %s; inputs unchanged, nothing checked out)", b.Key, e.Release, e.Built.Format(time.RFC3339))
			fmt.Fprintf(logw, "build: inputs %s were built as %s (%s): nothing checked out, configured or compiled\n", inputs, b.Key, e.Image())
			return e.Kernel(), &b, nil
		}
	}

	// One folder per tree holds its worktree and its build folders, so
	// that the way from a build folder to the sources is always
	// ../../src: ccache then hits whatever the cache's location (see
	// kbuild's ccacheEnv).
	treeDir := filepath.Join(cacheDir, "trees", ShortHash(tree))
	wt := filepath.Join(treeDir, "src")
	if err := os.MkdirAll(treeDir, 0o755); err != nil {
		return kernel.Kernel{}, nil, err
	}
	unlockTree, err := kernel.LockWait(ctx, treeDir+".lock", func(pid int) {
		holder := ""
		if pid > 0 {
			holder = fmt.Sprintf(" (pid %d)", pid)
		}
		say("waiting for another harness build of this tree%s", holder)
	})
	if err != nil {
		return kernel.Kernel{}, nil, err
	}
	defer unlockTree()
	say("series: applying %d patches on %s in %s", len(s.Patches), baseName(o.Base), wt)
	applied, err := series.Apply(ctx, tree, o.Base, wt, s, logw)
	if err != nil {
		return kernel.Kernel{}, nil, err
	}
	b := &report.Build{Tree: tree, Base: applied.Base, BaseSubject: applied.BaseSubject, Profile: o.Profile}
	if len(s.Patches) > 0 {
		b.Series = &report.Series{Source: o.Series, Version: s.Version, Cover: s.Cover}
		for i, p := range applied.Patches {
			b.Series.Patches = append(b.Series.Patches, report.Patch{Number: p.Number, Total: p.Total, Subject: p.Subject, State: p.State, SHA256: s.Patches[i].SHA256()})
		}
		sayPatches(say, b.Series.Patches)
	}

	// Step: config. Checked before anything is compiled.
	obj := filepath.Join(treeDir, "build", buildFolder(o, len(s.Patches) > 0))
	if err := os.MkdirAll(obj, 0o755); err != nil {
		return kernel.Kernel{}, b, err
	}
	paths, err := kernelconfig.Write(o.Profile, filepath.Join(obj, "harness-fragments"), wt)
	if err != nil {
		return kernel.Kernel{}, b, err
	}
	var frags []kbuild.Fragment
	for _, p := range append(paths, o.Configs...) {
		f, err := kbuild.ParseFragment(p)
		if err != nil {
			return kernel.Kernel{}, b, err
		}
		frags = append(frags, f)
	}
	say("config: %s profile, %d fragments, in %s", o.Profile, len(frags), obj)
	cfg, err := kbuild.Configure(ctx, wt, obj, "allnoconfig", frags, o.Items, logw)
	if err != nil {
		return kernel.Kernel{}, b, err
	}
	if err := kbuild.RequireBTF(cfg.Path); err != nil {
		return kernel.Kernel{}, b, err
	}

	// Step: build, or the cache.
	key := artifact.Key{Base: applied.Base, Series: s.Digest(), Config: cfg.Digest, Fragments: kernelconfig.Version(o.Profile)}
	b.Key = key.String()
	if err := writeIndex(cache, inputs, indexEntry{Key: key, Build: *b}); err != nil {
		say("build: cannot record the inputs of %s: %v", b.Key, err)
	}
	if o.KeyOnly {
		return kernel.Kernel{}, b, nil
	}
	unlock, err := cache.Lock(&key)
	if err != nil {
		return kernel.Kernel{}, nil, err
	}
	defer unlock()
	if e, ok := cache.Get(key); ok {
		b.CacheHit, b.Seconds = true, e.Seconds
		say("build: cache hit %s (%s, built %s)", b.Key, e.Release, e.Built.Format(time.RFC3339))
		return e.Kernel(), b, o.withTree(wt, e.Kernel())
	}
	// The worktree is new, but only what changed since this folder's last
	// build needs compiling.
	kept, record, err := kbuild.KeepTimes(ctx, wt, obj)
	if err != nil {
		return kernel.Kernel{}, b, err
	}
	if kept > 0 {
		say("build: %d sources unchanged since the last build in %s", kept, obj)
	}
	start := time.Now()
	art, err := kbuild.Build(ctx, wt, obj, o.Jobs, cfg.Modules, o.LogFile, o.Progress)
	if err != nil {
		return kernel.Kernel{}, b, err
	}
	if err := record(); err != nil {
		return kernel.Kernel{}, b, err
	}
	b.Seconds, b.Objects = time.Since(start).Seconds(), art.Objects
	e, err := cache.Put(artifact.Entry{Key: key, Release: art.Release, Built: time.Now(), Seconds: b.Seconds, Tree: tree, Subject: applied.BaseSubject}, art.Image, cfg.Path, art.Modules)
	if err != nil {
		return kernel.Kernel{}, b, err
	}
	say("build: %s in %.0fs, stored as %s", art.Release, b.Seconds, b.Key)
	return e.Kernel(), b, o.withTree(wt, e.Kernel())
}

// sayPatches lists the series' patches and what became of each, so that
// the run's first screen says what it tests.
func sayPatches(say func(string, ...any), patches []report.Patch) {
	for _, p := range patches {
		state := p.State
		if state != "applied" {
			state += " in the base"
		}
		say("series: [%d/%d] %s: %s", p.Number, p.Total, state, input.Quote(p.Subject))
	}
}

// buildFolder names the O= folder of a build: one per profile and user
// fragments, and one for the base and one for the base plus a series, so
// that --baseline, which builds both, does not recompile everything that
// includes a header the series changes (bpf.h, tcp.h) each time it goes
// from one to the other. Bisect steps and --each-patch prefixes stay in
// one folder and compile only what differs between them.
func buildFolder(o Options, withSeries bool) string {
	side := "base"
	if withSeries {
		side = "series"
	}
	return side + "-" + ShortHash(o.Profile+"\x00"+strings.Join(o.Configs, "\x00"))
}

func (o Options) withTree(wt string, k kernel.Kernel) error {
	if o.WithTree == nil {
		return nil
	}
	return o.WithTree(wt, k)
}

// ShortHash names a folder after s.
func ShortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])[:12]
}

// warnDirty says when the tree has local edits: the build is of commits,
// in a worktree of its own, and leaves them out.
func warnDirty(ctx context.Context, tree string, say func(string, ...any)) {
	out, err := exec.CommandContext(ctx, "git", "-C", tree, "status", "--porcelain", "--untracked-files=no").Output()
	if err != nil || len(strings.TrimSpace(string(out))) == 0 {
		return
	}
	n := len(strings.Split(strings.TrimSpace(string(out)), "\n"))
	say("warning: %s has local changes (%d files) that are not built: the harness builds commits (commit them, or pass them as --series)", tree, n)
}

func baseName(base string) string {
	if base == "" {
		return "HEAD"
	}
	return base
}
