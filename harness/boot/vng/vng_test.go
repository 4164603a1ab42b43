package vng

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/kernel-harness/harness/harness/wire"
)

func TestCommandLine(t *testing.T) {
	agent := []string{"/usr/bin/harness", "agent", "--events", "/tmp/x/events.jsonl", "--files", "/tmp/x"}
	tests := []struct {
		name string
		o    Options
		want []string
	}{
		{
			name: "image, defaults left to vng",
			o:    Options{Kernel: "/k/bzImage"},
			want: []string{"--run", "/k/bzImage", "--user", "root", "--verbose"},
		},
		{
			name: "build folder, cpus and memory",
			o:    Options{Kernel: "/build/abc", CPUs: 2, MemoryMB: 512},
			want: []string{"--run", "/build/abc", "--user", "root", "--verbose", "--cpus", "2", "--memory", "512M"},
		},
		{
			name: "tcg disables kvm",
			o:    Options{Kernel: "/k/bzImage", Accel: "tcg"},
			want: []string{"--run", "/k/bzImage", "--user", "root", "--verbose", "--disable-kvm"},
		},
		{
			name: "kvm and auto leave it to vng",
			o:    Options{Kernel: "/k/bzImage", Accel: "kvm"},
			want: []string{"--run", "/k/bzImage", "--user", "root", "--verbose"},
		},
		{
			name: "rwdir, extra args and the agent",
			o:    Options{Kernel: "/k/bzImage", RWDir: "/tmp/x", Append: []string{"loglevel=7", "panic=-1"}, Command: agent},
			want: []string{"--run", "/k/bzImage", "--user", "root", "--verbose", "--rwdir", "/tmp/x",
				"--append", "loglevel=7 panic=-1",
				"--exec", "/usr/bin/harness agent --events /tmp/x/events.jsonl --files /tmp/x"},
		},
		{
			name: "9p forced",
			o:    Options{Kernel: "/k/bzImage", Force9P: true, RWDir: "/tmp/x"},
			want: []string{"--run", "/k/bzImage", "--user", "root", "--verbose", "--force-9p", "--rwdir", "/tmp/x"},
		},
		{
			name: "a command that needs quoting",
			o:    Options{Kernel: "/k/bzImage", Command: []string{"/a b/harness", "it's", ""}},
			want: []string{"--run", "/k/bzImage", "--user", "root", "--verbose", "--exec", `'/a b/harness' 'it'\''s' ''`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CommandLine(tt.o); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("CommandLine:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestKernelArg(t *testing.T) {
	dir := t.TempDir()
	boot := filepath.Join(dir, "arch", "x86", "boot")
	os.MkdirAll(boot, 0o755)
	img := filepath.Join(boot, "bzImage")
	os.WriteFile(img, nil, 0o644)
	if got := KernelArg(img); got != img {
		t.Errorf("without .config: got %s, want the image", got)
	}
	os.WriteFile(filepath.Join(dir, ".config"), nil, 0o644)
	if got := KernelArg(img); got != dir {
		t.Errorf("in a build folder: got %s, want %s", got, dir)
	}
	if got := KernelArg("/boot/vmlinuz-6.12"); got != "/boot/vmlinuz-6.12" {
		t.Errorf("an installed kernel: got %s", got)
	}
}

func TestFindMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := Find("")
	// pip install fails on Debian 12's externally managed Python.
	if err == nil || !strings.Contains(err.Error(), "pipx install virtme-ng") || strings.Contains(err.Error(), "pip install") {
		t.Fatalf("want an error saying how to install vng, got %v", err)
	}
}

func TestFollowerWaitsForWholeLines(t *testing.T) {
	p := filepath.Join(t.TempDir(), "events.jsonl")
	f := &follower{path: p}
	if evs, err := f.read(); err != nil || len(evs) != 0 {
		t.Fatalf("no file yet: %v %v", evs, err)
	}
	os.WriteFile(p, []byte(`{"kind":"hello","t_ns":1}`+"\n"+`{"kind":"do`), 0o644)
	evs, err := f.read()
	if err != nil || len(evs) != 1 {
		t.Fatalf("first read: %v %v", evs, err)
	}
	os.WriteFile(p, []byte(`{"kind":"hello","t_ns":1}`+"\n"+`{"kind":"done","t_ns":2}`+"\n"), 0o644)
	evs, err = f.read()
	if err != nil || len(evs) != 1 || evs[0].e.Kind != wire.Done {
		t.Fatalf("second read: %v %v", evs, err)
	}
	os.WriteFile(p, []byte(`{"kind":"hello","t_ns":1}`+"\n"+`{"kind":"done","t_ns":2}`+"\n"+"garbage\n"), 0o644)
	if _, err := f.read(); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("want the bad line named, got %v", err)
	}
}

func TestKVMFailed(t *testing.T) {
	if !KVMFailed([]string{"booting", "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69"}) {
		t.Error("QEMU's MSR failure under KVM is a KVM failure")
	}
	if KVMFailed([]string{"vng: error: no kernel found"}) {
		t.Error("a vng error is not a KVM failure")
	}
}

// TestFlagsInRecordedHelp: every flag the harness can pass is one the
// real vng lists in its --help (recorded from virtme-ng 1.41, testdata/).
func TestFlagsInRecordedHelp(t *testing.T) {
	help, err := os.ReadFile("testdata/vng-1.41-help.txt")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, f := range regexp.MustCompile(`--[a-z0-9][a-z0-9-]*`).FindAllString(string(help), -1) {
		listed[f] = true
	}
	if !listed["--run"] || !listed["--force-9p"] || len(listed) < 50 {
		t.Fatalf("the recorded help lists %d flags: not vng's --help?", len(listed))
	}
	// Every option set, so that every flag CommandLine knows is passed.
	all := Options{Kernel: "/k", CPUs: 2, MemoryMB: 512, Append: []string{"x=1"}, Accel: accelTCG,
		RWDir: "/tmp/x", Force9P: true, Command: []string{"true"}}
	args := CommandLine(all)
	n := 0
	for i, a := range args {
		if !strings.HasPrefix(a, "--") || (i > 0 && args[i-1] == "--append") {
			continue
		}
		n++
		if !listed[a] {
			t.Errorf("the harness passes %s, which vng 1.41's --help does not list", a)
		}
	}
	if n < 9 {
		t.Errorf("only %d flags in %q: is every option set?", n, args)
	}
}
