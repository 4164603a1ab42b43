package bpftests

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"

	"github.com/kernel-harness/harness/harness/kbuild"
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
	// Tests are the -t selectors of the run: a test file of prog_tests/
	// that does not compile is left out when it holds none of them.
	Tests []string
	// Log receives make's whole output; Progress a meter of its steps.
	Log      io.Writer
	Progress io.Writer
}

// Result is a built test_progs.
type Result struct {
	TestProgs string // OUTPUT/test_progs
	Dir       string // OUTPUT
	// Objects are the .bpf.o files the chosen tests open by name.
	Objects []string
	// Dropped are the test files left out because they do not compile
	// in this tree, each with its first error.
	Dropped []Dropped
	// Kfuncs are the kfuncs the programs call that the kernel's BTF
	// does not declare, given to them in vmlinux.h.
	Kfuncs []string
	// Seconds is how long ForKernel's build took.
	Seconds float64
}

// Dropped is a test file of prog_tests/ test_progs was built without.
type Dropped struct {
	File  string // prog_tests/x.c
	Error string
}

// BuildError is a failed build with its first error line.
type BuildError struct {
	Step  string
	First string
	Err   error
	// Tests are the prog_tests/ files that failed, each with its first
	// error; Others says whether anything else failed too.
	Tests  map[string]string
	Others bool
	// Undeclared are the functions programs of progs/ called that
	// nothing declares: kfuncs, whose prototypes vmlinux.h lacks.
	Undeclared []string
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
	// Rewritten only when the kernel's types changed: make remakes
	// vmlinux.h, and with it every program, when the file is newer.
	btfFile := filepath.Join(out, "vmlinux.btf")
	if old, err := os.ReadFile(btfFile); err != nil || !bytes.Equal(old, btf) {
		if err := os.WriteFile(btfFile, btf, 0o644); err != nil {
			return Result{}, err
		}
	}
	clang, err := Clang(ctx)
	if err != nil {
		return Result{}, err
	}
	jobs := fmt.Sprintf("-j%d", max(o.Jobs, 1))
	bin := filepath.Join(out, "test_progs")
	m := kbuild.NewMeter(o.Progress, "selftests", "steps", estimate(o.Tree, bin))
	defer m.Done()
	// Tests are compiled in OUTPUT with -I., so their .d files name the
	// generated skeletons relative to it: make, in the selftests folder,
	// would find no rule for them on the next build without the vpath.
	//
	// CLANG_CFLAGS keeps the Makefile's own value and adds -mcpu=v4:
	// Linux 7.3's libarena is built with what clang defaults to (v3 only
	// from LLVM 20 on), and Debian 12's clang-19 then fails on its 32-bit
	// atomics and signed divisions. The tests' programs name -mcpu=v3
	// after it on their own command line, so they keep v3.
	args := []string{"-k", "--eval=vpath %.h " + out, "-C", filepath.Join(o.Tree, "tools/testing/selftests/bpf"), jobs,
		"OUTPUT=" + out, "VMLINUX_BTF=" + btfFile, "CLANG=" + clang, "CLANG_CFLAGS=$(CLANG_SYS_INCLUDES) -mcpu=v4",
		"TRUNNER_EXTRA_FILES=", "feature-llvm=0", bin}
	res := Result{TestProgs: bin, Dir: out}
	kf := kfuncHeader{out: out, btf: btf}
	if err := kf.load(ctx); err != nil {
		return Result{}, err
	}
	err = o.make(ctx, log, m, "test_progs", kf.args(args)...)
	// Programs that call kfuncs the kernel's BTF does not declare (Debian
	// 12's pahole 1.24 writes no decl tags, so the tree's vmlinux.h has no
	// kfunc prototypes, which bpf-next's programs rely on) are built
	// again with a vmlinux.h that declares the kfuncs they call.
	var ue *BuildError
	for i := 0; i < 2 && errors.As(err, &ue) && kf.add(ue.Undeclared); i++ {
		had := len(kf.declared)
		if err := kf.write(ctx); err != nil {
			return Result{}, err
		}
		if len(kf.declared) == had {
			break // none the kernel has: building again changes nothing
		}
		fmt.Fprintf(log, "harness: building the programs again with %s, which declares %s\n", kf.path, strings.Join(kf.declared, ", "))
		before := ue
		err = o.make(ctx, log, m, "test_progs", kf.args(args)...)
		if errors.As(err, &ue) && ue.Others && !before.Others {
			// The prototypes broke what built without them (a program
			// that declares a kfunc its own way): back to the tree's own
			// vmlinux.h, and the programs that need more are left out.
			fmt.Fprintf(log, "harness: the declared kfuncs break other programs; building with the tree's own vmlinux.h\n")
			if err := kf.forget(); err != nil {
				return Result{}, err
			}
			err = o.make(ctx, log, m, "test_progs", args...)
			break
		}
	}
	res.Kfuncs = kf.declared
	// A tree's test file that does not compile (a stable tree's backport
	// whose program was not backported) would keep every other test from
	// running. Unless it is one the run chose, test_progs is built
	// without it, in the harness's own worktree, and the report says so.
	var be *BuildError
	if errors.As(err, &be) && len(be.Tests) > 0 && !be.Others {
		drop := map[string]string{}
		for file, first := range be.Tests {
			drop[file] = first
			// A program that does not compile (one calling kfuncs that
			// Debian 12's pahole leaves out of vmlinux.h) takes the
			// tests that load its skeleton along.
			if strings.HasPrefix(file, "progs/") {
				for _, user := range skeletonUsers(o.Tree, file) {
					if drop[user] == "" {
						drop[user] = "uses " + file + ", which does not compile: " + first
					}
				}
			}
		}
		for file, first := range drop {
			if strings.HasPrefix(file, "prog_tests/") && chosen(o.Tree, file, o.Tests) {
				return Result{}, err
			}
			res.Dropped = append(res.Dropped, Dropped{File: file, Error: first})
		}
		sort.Slice(res.Dropped, func(i, j int) bool { return res.Dropped[i].File < res.Dropped[j].File })
		for _, d := range res.Dropped {
			fmt.Fprintf(log, "harness: building test_progs without %s, which does not compile: %s\n", d.File, d.Error)
			if err := os.Remove(filepath.Join(o.Tree, "tools/testing/selftests/bpf", d.File)); err != nil {
				return Result{}, err
			}
		}
		// prog_tests/tests.h lists the test files: made anew without them.
		if err := os.Remove(filepath.Join(o.Tree, "tools/testing/selftests/bpf/prog_tests/tests.h")); err != nil && !errors.Is(err, os.ErrNotExist) {
			return Result{}, err
		}
		err = o.make(ctx, log, m, "test_progs", kf.args(args)...)
	}
	if err != nil {
		return Result{}, err
	}
	return res, nil
}

// kfuncHeader is the vmlinux.h given to the selftests' Makefile
// (VMLINUX_H) with prototypes of the kfuncs the programs were found to
// call undeclared, remembered in the output folder so that a later build
// there starts with them and remakes nothing.
type kfuncHeader struct {
	out   string
	btf   []byte
	names []string
	path  string // empty: the Makefile's own vmlinux.h
	// declared are the names the kernel has, which the header declares.
	declared []string
}

func (k *kfuncHeader) listFile() string { return filepath.Join(k.out, "harness-kfuncs") }

// load takes up the kfuncs of earlier builds in the folder.
func (k *kfuncHeader) load(ctx context.Context) error {
	b, err := os.ReadFile(k.listFile())
	if err != nil {
		return nil // none yet
	}
	k.names = strings.Fields(string(b))
	if len(k.names) == 0 {
		return nil
	}
	return k.write(ctx)
}

// add takes up names not known yet; false when there are none.
func (k *kfuncHeader) add(names []string) bool {
	more := false
	for _, n := range names {
		if !slices.Contains(k.names, n) {
			k.names, more = append(k.names, n), true
		}
	}
	sort.Strings(k.names)
	return more
}

// write makes the header with the tree's bpftool, which the first build
// made; the Makefile's copy of an older one goes, so that it copies this.
func (k *kfuncHeader) write(ctx context.Context) error {
	bpftool := filepath.Join(k.out, "tools/sbin/bpftool")
	if _, err := os.Stat(bpftool); err != nil {
		return nil // not built yet: the first build makes it
	}
	h, changed, err := vmlinux.WriteHeaderOf(ctx, k.btf, filepath.Join(k.out, "harness-vmlinux"), bpftool, k.names)
	if err != nil {
		return fmt.Errorf("vmlinux.h with kfunc prototypes: %w", err)
	}
	k.path, k.declared = "", h.Kfuncs.Names
	if len(h.Kfuncs.Names) > 0 { // else the kernel has none of them: the tree's own will do
		k.path = h.Path
	}
	if changed && k.path != "" {
		if err := os.Remove(filepath.Join(k.out, "tools/include/vmlinux.h")); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return os.WriteFile(k.listFile(), []byte(strings.Join(k.names, "\n")+"\n"), 0o644)
}

// forget goes back to the Makefile's own vmlinux.h, for this build and
// the next ones in the folder.
func (k *kfuncHeader) forget() error {
	k.names, k.path, k.declared = nil, "", nil
	for _, p := range []string{k.listFile(), filepath.Join(k.out, "tools/include/vmlinux.h")} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// args are make's arguments with VMLINUX_H when there is a header.
func (k *kfuncHeader) args(args []string) []string {
	if k.path == "" {
		return args
	}
	return append(append([]string(nil), args[:len(args)-1]...), "VMLINUX_H="+k.path, args[len(args)-1])
}

// chosen says whether a test file holds a test the selectors pick.
func chosen(tree, file string, selectors []string) bool {
	b, err := os.ReadFile(filepath.Join(tree, "tools/testing/selftests/bpf", file))
	if err != nil {
		return true // unknown: do not drop it
	}
	return holds(b, selectors)
}

// testError is a compiler error in a test file of prog_tests/.
var testError = regexp.MustCompile(`(?:^|/)(prog_tests/[\w-]+\.c):\d+:(?:\d+:)? (?:fatal )?error: `)

// progError is a compiler error in a program of progs/; undeclared is
// the one such error a program is dropped for: a call to a kfunc that
// vmlinux.h does not declare, because pahole before 1.26 (Debian 12 has
// 1.24) writes no kfunc prototypes into the kernel's BTF. Any other
// error in a program (a type the kernel's config left out) is the
// build's, not the program's.
var (
	progError  = regexp.MustCompile(`(?:^|/)(progs/[\w-]+\.c):\d+:(?:\d+:)? (?:fatal )?error: `)
	undeclared = regexp.MustCompile(`error: call to undeclared function '(\w+)'`)
)

// skeletonUsers are the test files of prog_tests/ that include the
// skeleton of a program of progs/.
func skeletonUsers(tree, prog string) []string {
	dir := filepath.Join(tree, "tools/testing/selftests/bpf")
	skel := `"` + strings.TrimSuffix(filepath.Base(prog), ".c") + `.skel.h"`
	tests, _ := filepath.Glob(filepath.Join(dir, "prog_tests/*.c"))
	var users []string
	for _, t := range tests {
		if b, err := os.ReadFile(t); err == nil && bytes.Contains(b, []byte(skel)) {
			users = append(users, "prog_tests/"+filepath.Base(t))
		}
	}
	return users
}

// failure is which files a failed build's errors were in.
type failure struct {
	tests      map[string]string
	others     bool
	undeclared []string
}

// add files an error line of the build: in a test file, make's own
// lines about it, or anything else.
func (f *failure) add(line string) {
	p := progError.FindStringSubmatch(line)
	switch m := testError.FindStringSubmatch(line); {
	case m != nil:
		if f.tests[m[1]] == "" {
			f.tests[m[1]] = line
		}
	case p != nil && (f.tests[p[1]] != "" || undeclared.MatchString(line)):
		if u := undeclared.FindStringSubmatch(line); u != nil && !slices.Contains(f.undeclared, u[1]) {
			f.undeclared = append(f.undeclared, u[1])
		}
		// After its undeclared call, the program's other errors follow
		// from it (the call's implicit int result).
		if f.tests[p[1]] == "" {
			f.tests[p[1]] = line
		}
	case strings.Contains(line, "*** ") && (strings.Contains(line, ".test.o]") || strings.Contains(line, ".bpf.o]")):
	case strings.Contains(line, "not remade because of errors"):
	default:
		f.others = true
	}
}

// firstError finds the first compiler or make error of a build's output.
var firstError = regexp.MustCompile(`(: error: |: fatal error: |undefined reference|\*\*\* )`)

// estimate is how many steps a cold build of test_progs makes: each
// program compiled and its skeleton made, each test compiled, and about
// 150 more for libbpf, bpftool and resolve_btfids. A build on top of an
// earlier one makes only what changed: no estimate then.
func estimate(tree, bin string) int {
	if _, err := os.Stat(bin); err == nil {
		return 0
	}
	dir := filepath.Join(tree, "tools/testing/selftests/bpf")
	progs, _ := filepath.Glob(filepath.Join(dir, "progs/*.c"))
	tests, _ := filepath.Glob(filepath.Join(dir, "prog_tests/*.c"))
	return 2*len(progs) + len(tests) + 150
}

// makeStep is a line kbuild-style make prints for one step
// ("  CLNG-BPF [test_progs] x.bpf.o", "  GEN-SKEL ...", "  CC ...").
var makeStep = regexp.MustCompile(`^  [A-Z][A-Z-]+ `)

func (o BuildOptions) make(ctx context.Context, log io.Writer, m kbuild.Meter, step string, args ...string) error {
	name := "make"
	if o.Nice > 0 {
		args = append([]string{"-n", fmt.Sprint(o.Nice), "make"}, args...)
		name = "nice"
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM} // not outliving a killed harness
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	fmt.Fprintf(log, "$ %s %s\n", name, strings.Join(args, " "))
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("selftests build: %w", err)
	}
	first := make(chan string, 1)
	failed := make(chan failure, 1)
	go func() {
		var found string
		fl := failure{tests: map[string]string{}}
		steps := 0
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(log, line)
			if makeStep.MatchString(line) {
				steps++
				m.Set(steps)
			}
			if !firstError.MatchString(line) {
				continue
			}
			if found == "" {
				found = line
			}
			fl.add(line)
		}
		first <- found
		failed <- fl
	}()
	err := cmd.Wait()
	pw.Close()
	f := <-first
	fl := <-failed
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("selftests build (%s): %w", step, ctx.Err())
		}
		if f == "" {
			f = err.Error()
		}
		return &BuildError{Step: step, First: f, Err: err, Tests: fl.tests, Others: fl.others, Undeclared: fl.undeclared}
	}
	return nil
}

// ErrNoTestProgs is returned when a tree has no BPF selftests.
var ErrNoTestProgs = errors.New("the tree has no tools/testing/selftests/bpf")
