package userbpf

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/vmlinux"
)

// CompileOptions is one BPF C file to compile for one kernel.
type CompileOptions struct {
	Source string // the BPF C file
	// Tree is the kernel tree the source comes from: its libbpf headers
	// and the selftests' headers are used, as its own Makefile would.
	// Empty: the system's libbpf headers (libbpf-dev).
	Tree   string
	Kernel string // bzImage whose BTF becomes vmlinux.h
	Dir    string // work folder: vmlinux.h, headers and the object go here
}

// Compiled is the result of Compile.
type Compiled struct {
	Object   string
	Command  []string
	Programs []report.BPFProgram
	// Kfuncs is how many kfunc prototypes vmlinux.h had, told apart as
	// KfuncsFrom says; KfuncsLeftOut those a header of the program's
	// declared otherwise.
	Kfuncs        int
	KfuncsFrom    string
	KfuncsLeftOut []string
}

// FindClang is the clang --bpf-source compiles with, or why there is
// none: looked up with the other checks, before any work.
func FindClang() (string, error) {
	clang, err := exec.LookPath("clang")
	if err != nil {
		return "", errors.New("--bpf-source needs clang: apt-get install clang llvm (or make deps-bpf)")
	}
	return clang, nil
}

// Compile builds Source into a BPF object the way the kernel's selftests
// do (clang --target=bpf against a vmlinux.h of the kernel under test),
// and checks it as Inspect does. Compiler errors come back in full.
func Compile(ctx context.Context, o CompileOptions) (*Compiled, error) {
	clang, err := FindClang()
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(o.Source); err != nil {
		return nil, fmt.Errorf("--bpf-source: %w", err)
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, err
	}
	incs := []string{"-I" + o.Dir}
	if o.Tree != "" {
		hdrs, err := treeHeaders(ctx, o.Tree, o.Dir)
		if err != nil {
			return nil, err
		}
		incs = append(incs, "-I"+hdrs,
			"-I"+filepath.Join(o.Tree, "tools/testing/selftests/bpf"),
			"-I"+filepath.Join(o.Tree, "tools/include/uapi"))
	} else if _, err := os.Stat("/usr/include/bpf/bpf_helpers.h"); err != nil {
		return nil, errors.New("--bpf-source without --tree uses the system's libbpf headers: apt-get install libbpf-dev")
	}
	incs = append(incs, "-I"+filepath.Dir(o.Source))
	if o.Tree != "" {
		// A program of the selftests' kept outside the tree still finds
		// their headers (bpf_tracing_net.h, bpf_misc.h) as it would in
		// progs/.
		incs = append(incs, "-I"+filepath.Join(o.Tree, "tools/testing/selftests/bpf/progs"))
	}
	sys, err := systemIncludes(ctx, clang)
	if err != nil {
		return nil, err
	}
	base := strings.TrimSuffix(filepath.Base(o.Source), ".c")
	obj := filepath.Join(o.Dir, strings.TrimSuffix(base, ".bpf")+".bpf.o")
	args := []string{"-g", "-O2", "--target=bpf", "-mcpu=v3", "-D__TARGET_ARCH_x86",
		"-Wall", "-std=gnu11", "-fno-strict-aliasing"}
	args = append(args, incs...)
	for _, d := range sys {
		args = append(args, "-idirafter", d)
	}
	args = append(args, "-c", o.Source, "-o", obj)
	// vmlinux.h declares the kernel's kfuncs, as the selftests' own does
	// with a new enough pahole and bpftool. A header of the program's that
	// declares one of them otherwise wins: that prototype is left out.
	skip := map[string]bool{}
	for {
		h, err := vmlinux.WriteHeader(ctx, o.Kernel, o.Dir, skip)
		if err != nil {
			return nil, fmt.Errorf("--bpf-source: vmlinux.h: %w", err)
		}
		cmd := exec.CommandContext(ctx, clang, args...)
		out, err := cmd.CombinedOutput()
		c := &Compiled{Object: obj, Command: cmd.Args, Kfuncs: len(h.Kfuncs.Names), KfuncsFrom: h.Kfuncs.From}
		if err != nil {
			if more := clashes(out, h.Kfuncs.Names, skip); len(more) > 0 && len(skip) < maxClashes {
				for _, n := range more {
					skip[n] = true
				}
				continue
			}
			return c, fmt.Errorf("--bpf-source %s: clang failed (%w):\n%s\ncommand: %s", o.Source, err, out, strings.Join(cmd.Args, " "))
		}
		for n := range skip {
			c.KfuncsLeftOut = append(c.KfuncsLeftOut, n)
		}
		sort.Strings(c.KfuncsLeftOut)
		c.Programs, err = Inspect(obj)
		return c, err
	}
}

// maxClashes bounds the prototypes left out before a compile error is
// taken as the program's own.
const maxClashes = 32

var clashRE = regexp.MustCompile(`(?:conflicting types for|redefinition of|redeclaration of) '(\w+)'`)

// clashes returns the kfuncs whose prototype clang refused alongside a
// declaration of the program's, and that are not left out already.
func clashes(out []byte, kfuncs []string, skip map[string]bool) []string {
	ours := map[string]bool{}
	for _, n := range kfuncs {
		ours[n] = true
	}
	var names []string
	for _, m := range clashRE.FindAllSubmatch(out, -1) {
		n := string(m[1])
		if ours[n] && !skip[n] && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names
}

// treeHeaders installs the tree's libbpf headers, bpf_helper_defs.h
// included (generated from the tree's uapi bpf.h), and returns the folder
// to put on the include path.
func treeHeaders(ctx context.Context, tree, dir string) (string, error) {
	build, dest := filepath.Join(dir, "libbpf")+"/", filepath.Join(dir, "libbpf-headers")
	if err := os.MkdirAll(build, 0o755); err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "make", "-s", "-C", filepath.Join(tree, "tools/lib/bpf"),
		"OUTPUT="+build, "DESTDIR="+dest, "prefix=/", "install_headers")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("libbpf headers from %s: %w\n%s", tree, err, out)
	}
	return filepath.Join(dest, "include"), nil
}

// systemIncludes asks clang for its default include path, which
// --target=bpf drops; the kernel's selftests do the same
// (CLANG_SYS_INCLUDES).
func systemIncludes(ctx context.Context, clang string) ([]string, error) {
	cmd := exec.CommandContext(ctx, clang, "-v", "-E", "-x", "c", "-")
	cmd.Stdin = bytes.NewReader(nil)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%s -v -E: %w\n%s", clang, err, out)
	}
	var dirs []string
	in := false
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "#include <...> search starts here:"):
			in = true
		case strings.HasPrefix(line, "End of search list."):
			in = false
		case in:
			dirs = append(dirs, strings.TrimSpace(line))
		}
	}
	return dirs, nil
}
