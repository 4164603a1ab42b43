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
	return &report.BPF{Source: source, Command: c.Command, Object: c.Object, Programs: c.Programs}, nil
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
