package userbpf

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/kernel-harness/harness/harness/report"
)

// CompileSource compiles --bpf-source for the kernel image, into dir (in
// the output folder, so that the object can be reused with --bpf-object).
// tree is the worktree the kernel was built from, or empty.
func CompileSource(ctx context.Context, source, tree, image, dir string, say func(string, ...any)) (*report.BPF, error) {
	src, err := findSource(source, tree)
	if err != nil {
		return nil, err
	}
	say("bpf: compiling %s against %s", src, image)
	c, err := Compile(ctx, CompileOptions{Source: src, Tree: tree, Kernel: image, Dir: dir})
	if err != nil {
		return nil, err
	}
	say("bpf: %s (vmlinux.h with %d kfunc prototypes: %s)", c.Object, c.Kfuncs, c.KfuncsFrom)
	if len(c.KfuncsLeftOut) > 0 {
		say("bpf: prototypes left out, the program declares them itself: %s", strings.Join(c.KfuncsLeftOut, ", "))
	}
	// The source in a worktree is gone after the run; name it as given.
	b := &report.BPF{Source: source, Command: c.Command, Object: c.Object, Programs: c.Programs}
	return b, usable(b, "--bpf-source "+source)
}

// Object inspects --bpf-object for the run: its programs, whether they
// can serve the autolowat cases, and whether a listener's children keep
// their state (Fast Open needs it), all before a boot.
func Object(path string) (*report.BPF, error) {
	progs, err := Inspect(path)
	if err != nil {
		return nil, fmt.Errorf("--bpf-object %w", err)
	}
	abs, _ := filepath.Abs(path)
	b := &report.BPF{Object: abs, Programs: progs}
	return b, usable(b, "--bpf-object "+path)
}

// usable refuses programs that cannot serve the autolowat cases and
// says whether a listener's children keep their state.
func usable(b *report.BPF, what string) error {
	if why := Unusable(b.Programs); why != "" {
		return fmt.Errorf("%s: %s", what, why)
	}
	var err error
	b.NoChildState, err = NoChildState(b.Object)
	return err
}

// findSource resolves --bpf-source: a relative path names a file of the
// tree that was built (the base plus the series), else of the current
// folder.
func findSource(src, tree string) (string, error) {
	if filepath.IsAbs(src) {
		return src, nil
	}
	tried := []string{}
	if tree != "" {
		p := filepath.Join(tree, src)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		tried = append(tried, p+" (in the tree with the series applied)")
	}
	p, err := filepath.Abs(src)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	tried = append(tried, p)
	return "", fmt.Errorf("--bpf-source %s: no such file; looked at %s", src, strings.Join(tried, " and "))
}
