package bpftests

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/kernel-harness/harness/harness/vmlinux"
)

// BuildOptions is one build of test_progs.
type BuildOptions struct {
	// Tree is the kernel source with the series applied (the run's
	// worktree); Kernel the bzImage built from it, whose BTF the BPF
	// programs are compiled against (vmlinux.h).
	Tree   string
	Kernel string
	// Out is the output folder (OUTPUT=), kept between builds.
	Out  string
	Jobs int
	// Nice runs make under nice -n Nice when above 0.
	Nice int
	// Log receives make's whole output.
	Log io.Writer
}

// Result is a built test_progs.
type Result struct {
	TestProgs string // OUTPUT/test_progs
	Dir       string // OUTPUT
}

// BuildError is a failed build with its first error line.
type BuildError struct {
	Step  string
	First string
	Err   error
}

func (e *BuildError) Error() string {
	return fmt.Sprintf("selftests build (%s) failed: %s", e.Step, e.First)
}

func (e *BuildError) Unwrap() error { return e.Err }

// Build makes test_progs: the kernel's BTF taken out of the bzImage
// (VMLINUX_BTF, which vmlinux.h is made from), then `make test_progs` in
// tools/testing/selftests/bpf, which builds its own libbpf, bpftool and
// resolve_btfids from the tree, and takes its uapi headers from
// tools/include.
//
// TRUNNER_EXTRA_FILES is emptied: it would build bpf_testmod.ko and its
// siblings, which need a kernel with modules (the minimal profile has
// none) and are only used by the tests that load them. feature-llvm=0
// keeps LLVM's static libraries (JIT disassembly in logs) out of the
// binary, which the guest must hold in memory.
func Build(ctx context.Context, o BuildOptions) (Result, error) {
	out, err := filepath.Abs(o.Out)
	if err != nil {
		return Result{}, err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return Result{}, err
	}
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	btf, err := vmlinux.BTF(o.Kernel)
	if err != nil {
		return Result{}, fmt.Errorf("the kernel's BTF, for vmlinux.h: %w", err)
	}
	btfFile := filepath.Join(out, "vmlinux.btf")
	if err := os.WriteFile(btfFile, btf, 0o644); err != nil {
		return Result{}, err
	}
	clang, err := Clang(ctx)
	if err != nil {
		return Result{}, err
	}
	jobs := fmt.Sprintf("-j%d", max(o.Jobs, 1))
	bin := filepath.Join(out, "test_progs")
	err = o.make(ctx, log, "test_progs", "-C", filepath.Join(o.Tree, "tools/testing/selftests/bpf"), jobs,
		"OUTPUT="+out, "VMLINUX_BTF="+btfFile, "CLANG="+clang, "TRUNNER_EXTRA_FILES=", "feature-llvm=0", bin)
	if err != nil {
		return Result{}, err
	}
	return Result{TestProgs: bin, Dir: out}, nil
}

// firstError finds the first compiler or make error of a build's output.
var firstError = regexp.MustCompile(`(: error: |: fatal error: |undefined reference|\*\*\* )`)

func (o BuildOptions) make(ctx context.Context, log io.Writer, step string, args ...string) error {
	name := "make"
	if o.Nice > 0 {
		args = append([]string{"-n", fmt.Sprint(o.Nice), "make"}, args...)
		name = "nice"
	}
	cmd := exec.CommandContext(ctx, name, args...)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	fmt.Fprintf(log, "$ %s %s\n", name, strings.Join(args, " "))
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("selftests build: %w", err)
	}
	first := make(chan string, 1)
	go func() {
		var found string
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(log, line)
			if found == "" && firstError.MatchString(line) {
				found = line
			}
		}
		first <- found
	}()
	err := cmd.Wait()
	pw.Close()
	f := <-first
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("selftests build (%s): %w", step, ctx.Err())
		}
		if f == "" {
			f = err.Error()
		}
		return &BuildError{Step: step, First: f, Err: err}
	}
	return nil
}

// ErrNoTestProgs is returned when a tree has no BPF selftests.
var ErrNoTestProgs = errors.New("the tree has no tools/testing/selftests/bpf")
