package run

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kernel-harness/harness/harness/boot/driver"
	"github.com/kernel-harness/harness/internal/testutil"
)

// fakeKernel writes the header of a bzImage of release rel.
func fakeKernel(t *testing.T, rel string) string {
	return testutil.FakeBzImage(t, t.TempDir(), rel)
}

// Every mistake a look at the options finds is refused, naming the fix,
// before anything is built or booted; what is right passes.
func TestCheckRun(t *testing.T) {
	dir := t.TempDir()
	good := Options{Kernel: fakeKernel(t, "6.12.2"), CPUs: 2, MemoryMB: 512, Deadlines: driver.Deadlines{Boot: time.Second, Idle: time.Second, Run: time.Second}}
	if err := CheckRun(good); err != nil {
		t.Fatalf("good options refused: %v", err)
	}
	fifo := filepath.Join(dir, "fifo")
	syscall.Mkfifo(fifo, 0o644)
	garbage := filepath.Join(dir, "g.json")
	os.WriteFile(garbage, []byte(`{"scenarios":[]} x`), 0o644)
	frag := filepath.Join(dir, "bad.config")
	os.WriteFile(frag, []byte("CONFIG_A=maybe\n"), 0o644)
	for _, tt := range []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"kernel fifo", func(o *Options) { o.Kernel = fifo }, "is a named pipe, not a regular file"},
		{"modules without kernel", func(o *Options) { o.Kernel, o.Modules = "", dir }, "--modules goes with --kernel"},
		{"scenarios device", func(o *Options) { o.ScenarioFiles = []string{"/dev/zero"} }, "/dev/zero is a character device"},
		{"scenarios garbage", func(o *Options) { o.ScenarioFiles = []string{garbage} }, "more after the scenarios"},
		{"memory", func(o *Options) { o.MemoryMB = 48 }, "--memory 48: the guest needs at least 256 MiB"},
		{"cpus", func(o *Options) { o.CPUs = 0 }, "--cpus 0: at least 1"},
		{"timeout", func(o *Options) { o.Deadlines.Run = 0 }, "--timeout must be above 0"},
		{"timeout too long", func(o *Options) { o.Deadlines.Boot = 1000000 * time.Hour }, "--boot-timeout 1000000h0m0s: at most 24h0m0s"},
		{"repeat too many", func(o *Options) { o.Repeat = 1 << 62 }, "--repeat 4611686018427387904: at most 1000"},
		{"cases too many", func(o *Options) { o.Repeat = 1000 }, "cases in one boot"},
		{"bpf object", func(o *Options) { o.BPFObject = fifo }, "--bpf-object: " + fifo + " is a named pipe"},
		{"tree missing", func(o *Options) { o.Kernel, o.Build.Tree = "", filepath.Join(dir, "none") }, "--tree: stat"},
		{"tree file", func(o *Options) { o.Kernel, o.Build.Tree = "", frag }, "is not a folder"},
		{"profile", func(o *Options) { o.Kernel, o.Build.Tree, o.Build.Profile = "", dir, "huge" }, `unknown --profile "huge"`},
		{"series device", func(o *Options) { o.Kernel, o.Build.Tree, o.Build.Series = "", dir, "/dev/zero" }, "--series: /dev/zero is a character device"},
		{"config", func(o *Options) { o.Kernel, o.Build.Tree, o.Build.Configs = "", dir, []string{frag} }, frag + ":1"},
		{"series without tree", func(o *Options) { o.Build.Series = "/s" }, "--series: build options, and there is no --tree"},
		{"build options without tree", func(o *Options) { o.Build.Profile, o.Build.Items, o.Build.Jobs = "debug", []string{"CONFIG_X=y"}, 2 },
			"--profile, --config-item, --jobs: build options, and there is no --tree to build"},
		{"input inside out", func(o *Options) { o.Out = filepath.Dir(o.Kernel) }, "--kernel " + good.Kernel + " is inside --out"},
		{"scenarios inside out", func(o *Options) { o.Out, o.ScenarioFiles = dir, []string{garbage} }, "--scenarios " + garbage + " is inside --out"},
		{"config item", func(o *Options) { o.Kernel, o.Build.Tree, o.Build.Items = "", dir, []string{"TUN=y"} }, "write CONFIG_TUN=y"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := good
			tt.edit(&o)
			if err := CheckRun(o); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%v, want %q", err, tt.want)
			}
		})
	}
	t.Run("bpf source without clang", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		o := good
		o.BPFSource = frag
		if err := CheckRun(o); err == nil || !strings.Contains(err.Error(), "--bpf-source needs clang") {
			t.Errorf("%v", err)
		}
	})
	t.Run("missing TMPDIR", func(t *testing.T) {
		t.Setenv("TMPDIR", filepath.Join(dir, "none"))
		if err := CheckRun(good); err == nil || !strings.Contains(err.Error(), "is not a folder the harness can use") {
			t.Errorf("%v", err)
		}
	})
	t.Run("no home for the cache", func(t *testing.T) {
		t.Setenv("HOME", "")
		t.Setenv("XDG_CACHE_HOME", "")
		o := good
		o.Kernel = "" // the default kernel goes to the cache
		if err := CheckRun(o); err == nil || !strings.Contains(err.Error(), "no cache folder: set XDG_CACHE_HOME or HOME") {
			t.Errorf("%v", err)
		}
	})
	t.Run("long TMPDIR", func(t *testing.T) {
		long := filepath.Join(t.TempDir(), strings.Repeat("x", 100))
		os.MkdirAll(long, 0o755)
		t.Setenv("TMPDIR", long)
		if err := CheckRun(good); err == nil || !strings.Contains(err.Error(), "set TMPDIR to a shorter folder") {
			t.Errorf("%v", err)
		}
		o := good
		o.Backend = BackendVNG
		if err := CheckRun(o); err != nil {
			t.Errorf("vng makes no sockets: %v", err)
		}
	})
}
