package e2e

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kernel-harness/harness/harness/outdir"
	"github.com/kernel-harness/harness/internal/testutil"
)

// sandbox is where a harness runs in a test: its own working folder,
// cache and TMPDIR, so that anything it leaves behind is seen.
type sandbox struct {
	cwd, cache, tmp string
}

func newSandbox(t *testing.T) sandbox {
	t.Helper()
	return sandbox{cwd: t.TempDir(), cache: t.TempDir(), tmp: t.TempDir()}
}

func (s sandbox) env() []string {
	return append(os.Environ(), "XDG_CACHE_HOME="+s.cache, "TMPDIR="+s.tmp)
}

// run runs the harness in the sandbox, failing the test when it has not
// ended within limit: a hang is a failure, not a stuck test.
func (s sandbox) run(t *testing.T, limit time.Duration, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, harnessBinary(t), args...)
	cmd.Dir, cmd.Env = s.cwd, append(s.env(), env...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("harness %s still running after %v; stderr:\n%s", strings.Join(args, " "), limit, errb.String())
	}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("run harness: %v", err)
	}
	return code, out.String(), errb.String()
}

// empty fails the test when dir holds anything.
func empty(t *testing.T, what, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	if len(ents) > 0 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("%s %s is not empty: %v", what, dir, names)
	}
}

// fakeBzImage writes the header of an x86 bzImage of release rel into
// dir and returns its path; syssize, when above 0, claims that much code
// after 4 sectors of setup. A kernel file for the tests that need one
// only to pass the input checks, so that they run under -short.
func fakeBzImage(t *testing.T, dir, rel string, syssize uint32) string {
	t.Helper()
	img := testutil.BzImage{Version: rel + " (builder) #1 SMP", SetupSects: 4, SysSize: syssize}.Bytes()
	return testutil.WriteFile(t, filepath.Join(dir, "bzImage-"+rel), img)
}

// Every input a look can tell is wrong is refused with exit status 2 and
// a message naming the fix, before any output folder, checkout, build or
// boot: nothing is left in the working folder, the cache or TMPDIR.
func TestE2EBadInputBeforeWork(t *testing.T) {
	fx := t.TempDir()
	write := func(name, body string) string { return testutil.WriteFile(t, filepath.Join(fx, name), []byte(body)) }
	fifo := filepath.Join(fx, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	kernel := fakeBzImage(t, fx, "6.12.2-fake", 0)
	cut := fakeBzImage(t, fx, "6.12.3-cut", 0x10000)
	otherModules, err := filepath.Abs(filepath.Join("..", "..", "harness", "image", "testdata", "modules-6.12.9"))
	if err != nil {
		t.Fatal(err)
	}
	emptyFile := write("empty.json", "")
	garbage := write("garbage.json", `{"scenarios":[{"name":"x","path":"in-order","frames":[{"header":1,"payload":1}],"sends":[10]}]} and more`)
	huge := write("huge.json", `{"scenarios":[{"name":"x","path":"in-order","frames":[{"header":4611686018427387904,"payload":4611686018427387904}],"sends":[8]}]}`)
	escape := write("escape.json", `{"scenarios":[{"name":"x\u001b[2J","path":"in-order","frames":[{"header":1,"payload":1}],"sends":[10]}]}`)
	frag := write("bad.config", "CONFIG_TUN=perhaps\n")
	tree := t.TempDir() // checked as a folder before git is asked anything
	mine := t.TempDir()
	os.WriteFile(filepath.Join(mine, "notes.txt"), []byte("mine"), 0o644)
	longTmp := filepath.Join(t.TempDir(), strings.Repeat("t", 90))
	os.MkdirAll(longTmp, 0o755)

	for _, tt := range []struct {
		name string
		args []string
		env  []string
		want string
	}{
		{"scenarios from a device", []string{"run", "--scenarios", "/dev/zero"}, nil, "/dev/zero is a character device, not a regular file"},
		{"scenarios from a fifo", []string{"run", "--scenarios", fifo}, nil, fifo + " is a named pipe, not a regular file"},
		{"empty scenarios file", []string{"run", "--scenarios", emptyFile}, nil, "the file is empty"},
		{"more after the scenarios", []string{"run", "--scenarios", garbage}, nil, "more after the scenarios"},
		{"frame of 2^62 bytes", []string{"run", "--scenarios", huge}, nil, "must be between 0 and 1 MiB"},
		{"escape in a name", []string{"run", "--scenarios", escape}, nil, `scenario "x\x1b[2J": name has control characters`},
		{"kernel is a fifo", []string{"run", "--kernel", fifo}, nil, fifo + " is a named pipe, not a regular file"},
		{"kernel cut off", []string{"run", "--kernel", cut}, nil, "is cut off: 1024 bytes where its header says 1051136: copy the image again"},
		{"modules of another release", []string{"run", "--kernel", kernel, "--modules", otherModules}, nil, "holds modules of 6.12.9-test, but the kernel is 6.12.2-fake"},
		{"memory too small", []string{"run", "--kernel", kernel, "--memory", "48"}, nil, "--memory 48: the guest needs at least 256 MiB"},
		{"TMPDIR too long for a socket", []string{"run", "--kernel", kernel}, []string{"TMPDIR=" + longTmp}, "set TMPDIR to a shorter folder"},
		{"series from a device", []string{"build", "--tree", tree, "--series", "/dev/zero"}, nil, "--series: /dev/zero is a character device"},
		{"config file missing", []string{"build", "--tree", tree, "--config", filepath.Join(fx, "none.config")}, nil, "none.config: no such file"},
		{"config file wrong", []string{"run", "--tree", tree, "--config", frag}, nil, frag + ":1"},
		{"config item without CONFIG_", []string{"build", "--tree", tree, "--config-item", "TUN=y"}, nil, "write CONFIG_TUN=y"},
		{"config item malformed", []string{"bisect", "--tree", tree, "--good", "a", "--bad", "b", "--config-item", "CONFIG_TUN"}, nil, `--config-item "CONFIG_TUN": want CONFIG_X=y`},
		{"tree missing", []string{"cache", "key", "--tree", filepath.Join(fx, "none")}, nil, "--tree: stat"},
		{"build without a tree", []string{"build"}, nil, "--tree is required"},
		{"out is someone's folder", []string{"run", "--kernel", kernel, "--qemu", "/bin/false", "--out", mine}, nil, "is not empty and holds no harness output"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sb := newSandbox(t)
			start := time.Now()
			code, _, stderr := sb.run(t, 30*time.Second, tt.env, tt.args...)
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 2 and %q", code, stderr, tt.want)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v to refuse", d)
			}
			empty(t, "working folder", sb.cwd)
			empty(t, "cache", sb.cache)
			empty(t, "TMPDIR", sb.tmp)
		})
	}
	if _, err := os.Stat(filepath.Join(mine, "notes.txt")); err != nil {
		t.Errorf("the user's folder was touched: %v", err)
	}
}

// Started as PID 1 (a container's command) without the initramfs's
// marker, the harness is the command it was asked to be, not the agent.
func TestE2EPID1IsACommand(t *testing.T) {
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare (util-linux) is not installed")
	}
	if err := exec.Command("unshare", "--pid", "--fork", "--mount-proc", "true").Run(); err != nil {
		t.Skipf("cannot make a PID namespace here (needs root): %v", err)
	}
	sb := newSandbox(t)
	cmd := exec.Command("unshare", "--pid", "--fork", "--mount-proc", harnessBinary(t), "run", "--memory", "48")
	cmd.Dir, cmd.Env = sb.cwd, sb.env()
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), "--memory 48: the guest needs at least") {
		t.Errorf("as PID 1: %v\n%s\nwant exit 2 and the --memory message", err, out)
	}
}

// Runs started together without --out get a folder each; a run given a
// folder another harness holds is refused, naming it; a previous output
// given as --out is replaced whole, saying so. None of this boots: the
// runs stop when their QEMU exits at once, after claiming a folder.
func TestE2EOutputFolders(t *testing.T) {
	sb := newSandbox(t)
	// A run that passes every check and fails once its folder is made:
	// the QEMU it is given exits at once.
	failing := []string{"run", "--kernel", fakeBzImage(t, t.TempDir(), "6.12.2-fake", 0), "--qemu", "/bin/false"}
	const n = 4
	type result struct {
		code   int
		stderr string
	}
	results := make(chan result, n)
	for range n {
		go func() {
			cmd := exec.Command(harnessBinary(t), failing...)
			cmd.Dir, cmd.Env = sb.cwd, sb.env()
			var errb strings.Builder
			cmd.Stderr = &errb
			err := cmd.Run()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			}
			results <- result{code, errb.String()}
		}()
	}
	seen := map[string]bool{}
	for range n {
		select {
		case r := <-results:
			out := ""
			for _, l := range strings.Split(r.stderr, "\n") {
				if p, ok := strings.CutPrefix(l, "output: "); ok {
					out = p
				}
			}
			if r.code != 2 || out == "" || !strings.Contains(r.stderr, "qemu exited") {
				t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
				continue
			}
			if seen[out] {
				t.Errorf("two runs wrote %s", out)
			}
			seen[out] = true
			if _, err := os.Stat(filepath.Join(sb.cwd, out, "report.json")); err != nil {
				t.Errorf("%s has no report: %v", out, err)
			}
		case <-time.After(60 * time.Second):
			t.Fatal("runs still going after 60s")
		}
	}

	// A folder another harness holds.
	held := filepath.Join(t.TempDir(), "out")
	d, err := outdir.Claim(held, outdir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	code, _, stderr := sb.run(t, 30*time.Second, nil, append(failing, "--out", held)...)
	if code != 2 || !strings.Contains(stderr, "is in use by another harness") || !strings.Contains(stderr, "give another --out") {
		t.Errorf("held folder: exit %d, stderr:\n%s", code, stderr)
	}
	// A previous output is replaced; its stale parts go (written while
	// its run held the folder, so its list names them).
	os.MkdirAll(filepath.Join(held, "run-7"), 0o755)
	os.WriteFile(filepath.Join(held, "report.json"), []byte("{}"), 0o644)
	d.Close()
	code, _, stderr = sb.run(t, 30*time.Second, nil, append(failing, "--out", held)...)
	if code != 2 || !strings.Contains(stderr, "replacing the previous harness output in "+held) {
		t.Errorf("previous output: exit %d, stderr:\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(held, "run-7")); !os.IsNotExist(err) {
		t.Errorf("stale run-7 kept: %v", err)
	}
	empty(t, "TMPDIR", sb.tmp)
}

// Debian's own kernel, cut off as a failed copy leaves it, is refused
// before booting; whole, with its own modules, it passes the checks (its
// modules' vermagic, read from .ko.xz files, is its release).
func TestE2EDebianKernelChecks(t *testing.T) {
	needQEMU(t) // the kernel is fetched: not a -short test
	k := debianKernel(t)
	if k.Modules == "" {
		t.Fatalf("Debian kernel %s without modules", k.Image)
	}
	whole, err := os.ReadFile(k.Image)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "vmlinuz")
	os.WriteFile(cut, whole[:len(whole)/2], 0o644)
	sb := newSandbox(t)
	code, _, stderr := sb.run(t, 30*time.Second, nil, "run", "--kernel", cut)
	if code != 2 || !strings.Contains(stderr, "is cut off") || !strings.Contains(stderr, "copy the image again") {
		t.Errorf("cut-off kernel: exit %d, stderr:\n%s", code, stderr)
	}
	empty(t, "working folder", sb.cwd)
	code, _, stderr = sb.run(t, 30*time.Second, nil, "run", "--kernel", k.Image, "--modules", k.Modules, "--scenario", "^nothing$", "--out", filepath.Join(sb.cwd, "out"))
	if code != 2 || !strings.Contains(stderr, "no scenario matches") {
		t.Errorf("whole kernel with its modules: exit %d, stderr:\n%s\nwant the checks passed and the plan refused", code, stderr)
	}
}

// Every refusal the README promises happens before the output folder is
// made: each case is given --out OUT (a folder that does not exist), is
// refused with exit status 2 and the message, and OUT still does not
// exist; nothing is left in the working folder, the cache or TMPDIR
// either. Nothing here builds or boots: a fake bzImage stands for a
// kernel, a one-commit git repository for a tree, and a case that gets
// past its refusal is stopped by a QEMU that is not there (--qemu) or a
// vng that fails.
func TestE2ERefusedBeforeOut(t *testing.T) {
	fx := t.TempDir()
	write := func(name, body string) string { return testutil.WriteFile(t, filepath.Join(fx, name), []byte(body)) }
	kernel := fakeBzImage(t, fx, "6.12.2-fake", 0)
	// A kernel without PCI, its config beside it (as the artifact cache
	// keeps it): microvm could boot it, q35 cannot.
	noPCI := filepath.Join(fx, "nopci")
	os.MkdirAll(noPCI, 0o755)
	noPCIKernel := fakeBzImage(t, noPCI, "6.12.2-nopci", 0)
	os.WriteFile(filepath.Join(noPCI, "config"), []byte("# CONFIG_PCI is not set\n# CONFIG_ACPI is not set\nCONFIG_VIRTIO_MMIO=y\nCONFIG_VIRTIO_MMIO_CMDLINE_DEVICES=y\nCONFIG_BPF=y\n"), 0o644)
	spaced := filepath.Join(fx, "with space")
	os.MkdirAll(spaced, 0o755)
	spacedKernel := fakeBzImage(t, spaced, "6.12.2-fake", 0)
	// A tree: a plain git repository with one empty commit; S: a patch.
	tree := filepath.Join(fx, "tree")
	for _, args := range [][]string{{"init", "-q", tree}, {"-C", tree, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "empty"}} {
		if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	series := write("one.patch", "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\nFrom: t <t@t>\nSubject: [PATCH] x\n\n---\n")
	tracer, err := filepath.Abs("../../selftests/progs/tracer_bpfel.o")
	if err != nil {
		t.Fatal(err)
	}
	// A vng that fails if it is ever run, and a PATH without any vng.
	vngBin := t.TempDir()
	os.WriteFile(filepath.Join(vngBin, "vng"), []byte("#!/bin/sh\necho 'vng stand-in: the harness should have refused' >&2\nexit 1\n"), 0o755)
	withVNG := "PATH=" + vngBin + string(os.PathListSeparator) + os.Getenv("PATH")
	withoutVNG := "PATH=" + t.TempDir()
	// Scenario files past the README's bounds: 4096 frames, 16 MiB and
	// 65536 steps a scenario.
	frames := write("frames.json", `{"scenarios":[{"name":"x","path":"in-order","frames":[`+
		strings.Repeat(`{"header":1,"payload":1},`, 4096)+`{"header":1,"payload":1}],"sends":[8194]}]}`)
	big := write("big.json", `{"scenarios":[{"name":"x","path":"in-order","frames":[`+
		strings.Repeat(`{"header":1048000,"payload":1},`, 16)+`{"header":1048000,"payload":1}],"sends":[1]}]}`)
	steps := write("steps.json", `{"scenarios":[{"name":"x","path":"in-order","frames":[{"header":65536,"payload":65536}],"steps":[`+
		strings.Repeat(`{"send":1},`, 65536)+`{"send":1}]}]}`)
	noQEMU := filepath.Join(fx, "no-qemu")

	for _, tt := range []struct {
		name string
		args []string
		env  []string
		out  string // the --out folder's name, in the working folder; "out" when empty
		want string
	}{
		// The brief's combinations of run and selftests options.
		{"baseline with repeat", []string{"run", "--baseline", "--repeat", "2", "--tree", tree, "--series", series}, nil, "", "--baseline does not combine with --repeat or --each-patch"},
		{"repeat-boot without repeat", []string{"run", "--repeat-boot"}, nil, "", "--repeat-boot needs --repeat N with N of 2 or more"},
		{"each-patch without a tree", []string{"run", "--each-patch"}, nil, "", "--each-patch needs --tree and --series"},
		{"each-patch with repeat", []string{"run", "--each-patch", "--repeat", "2", "--tree", tree, "--series", series}, nil, "", "--each-patch does not combine with --repeat"},
		{"selftests with nothing", []string{"selftests"}, nil, "", "harness selftests needs --tree"},
		{"selftests without a tree", []string{"selftests", "-t", "foo"}, nil, "", "harness selftests needs --tree"},
		{"selftests without -t", []string{"selftests", "--tree", tree}, nil, "", "name the tests with -t NAME"},
		// Usage errors (README: the command line).
		{"one-dash option", []string{"run", "-accel", "kvm"}, nil, "", "-accel: long options take two dashes: --accel"},
		{"not one of the words", []string{"run", "--accel", "kwm"}, nil, "", `invalid argument "kwm" for "--accel" flag: want kvm, tcg or auto`},
		{"repeat 0", []string{"run", "--repeat", "0"}, nil, "", `invalid argument "0" for "--repeat" flag`},
		{"stray argument", []string{"run", "stray"}, nil, "", `unexpected argument "stray"`},
		{"unknown option", []string{"run", "--frobnicate"}, nil, "", "unknown flag: --frobnicate"},
		{"mistyped command", []string{"rnu"}, nil, "", "Did you mean this?\n\trun"},
		{"bad --scenario regexp", []string{"run", "--kernel", kernel, "--qemu", noQEMU, "--scenario", "("}, nil, "", "--scenario: error parsing regexp"},
		{"shard out of range", []string{"run", "--kernel", kernel, "--qemu", noQEMU, "--shard", "3/2"}, nil, "", `--shard "3/2": I counts from 1 to N=2`},
		{"shard with no scenario", []string{"run", "--kernel", kernel, "--qemu", noQEMU, "--shard", "100/100"}, nil, "", "--shard 100/100: no cases"},
		{"bisect without --bad", []string{"bisect", "--tree", tree, "--good", "HEAD"}, nil, "", "--tree, --good and --bad are required"},
		// Scenario files past their bounds.
		{"4097 frames", []string{"run", "--kernel", kernel, "--qemu", noQEMU, "--scenarios", frames}, nil, "", "4097 frames: at most 4096"},
		{"17 MiB scenario", []string{"run", "--kernel", kernel, "--qemu", noQEMU, "--scenarios", big}, nil, "", "at most 16 MiB a scenario"},
		{"65537 steps", []string{"run", "--kernel", kernel, "--qemu", noQEMU, "--scenarios", steps}, nil, "", "65537 steps: at most 65536"},
		// Kernels a machine or backend cannot boot.
		{"q35 without PCI", []string{"run", "--kernel", noPCIKernel, "--qemu", noQEMU, "--machine", "q35"}, nil, "", "--machine q35: the kernel has no PCI"},
		{"bpf object not for a cgroup", []string{"run", "--kernel", kernel, "--qemu", noQEMU, "--bpf-object", tracer}, nil, "", "not cgroup programs"},
		{"vng not installed", []string{"run", "--backend", "vng", "--kernel", kernel}, []string{withoutVNG}, "", "vng (virtme-ng) not found"},
		{"vng kernel path with a space", []string{"run", "--backend", "vng", "--kernel", spacedKernel}, []string{withVNG}, "", "vng splits paths at spaces and quotes"},
		{"vng out path with a space", []string{"run", "--backend", "vng", "--kernel", kernel}, []string{withVNG}, "o ut", "vng splits paths at spaces and quotes"},
		{"vng kernel without its options", []string{"run", "--backend", "vng", "--kernel", noPCIKernel}, []string{withVNG}, "", "vng cannot boot this kernel"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sb := newSandbox(t)
			name := tt.out
			if name == "" {
				name = "out"
			}
			out := filepath.Join(sb.cwd, name)
			start := time.Now()
			code, _, stderr := sb.run(t, 30*time.Second, tt.env, append(tt.args, "--out", out)...)
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 2 and %q", code, stderr, tt.want)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v to refuse", d)
			}
			if _, err := os.Lstat(out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("--out %s exists after the refusal (%v)", out, err)
			}
			empty(t, "working folder", sb.cwd)
			empty(t, "cache", sb.cache)
			empty(t, "TMPDIR", sb.tmp)
		})
	}
}
