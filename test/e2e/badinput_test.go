package e2e

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kernel-harness/harness/harness/outdir"
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

// fakeBzImage is the header of an x86 bzImage of release rel; syssize,
// when above 0, claims that much code after 5 sectors of setup.
func fakeBzImage(t *testing.T, dir, rel string, syssize uint32) string {
	t.Helper()
	b := make([]byte, 0x400)
	b[0x1f1] = 4
	binary.LittleEndian.PutUint32(b[0x1f4:], syssize)
	copy(b[0x202:], "HdrS")
	binary.LittleEndian.PutUint16(b[0x20e:], 0x100)
	copy(b[0x300:], rel+" (builder) #1 SMP\x00")
	p := filepath.Join(dir, "bzImage-"+rel)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Every input a look can tell is wrong is refused with exit status 2 and
// a message naming the fix, before any output folder, checkout, build or
// boot: nothing is left in the working folder, the cache or TMPDIR.
func TestE2EBadInputBeforeWork(t *testing.T) {
	fx := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(fx, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
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
		{"out is someone's folder", []string{"run", "--kernel", kernel, "--out", mine}, nil, "is not empty and holds no harness output"},
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
// runs stop at the plan (no scenario matches), after claiming a folder.
func TestE2EOutputFolders(t *testing.T) {
	sb := newSandbox(t)
	const n = 4
	type result struct {
		code   int
		stderr string
	}
	results := make(chan result, n)
	for range n {
		go func() {
			cmd := exec.Command(harnessBinary(t), "run", "--scenario", "^nothing$")
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
			if r.code != 2 || out == "" || !strings.Contains(r.stderr, "no scenario matches") {
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
	code, _, stderr := sb.run(t, 30*time.Second, nil, "run", "--scenario", "^nothing$", "--out", held)
	if code != 2 || !strings.Contains(stderr, "is in use by another harness") || !strings.Contains(stderr, "give another --out") {
		t.Errorf("held folder: exit %d, stderr:\n%s", code, stderr)
	}
	d.Close()

	// A previous output is replaced; its stale parts go.
	os.MkdirAll(filepath.Join(held, "run-7"), 0o755)
	os.WriteFile(filepath.Join(held, "report.json"), []byte("{}"), 0o644)
	code, _, stderr = sb.run(t, 30*time.Second, nil, "run", "--scenario", "^nothing$", "--out", held)
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
