package image

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kernel-harness/harness/internal/testutil"
)

// fakeModulesDir writes a modules.dep and modules.builtin (and the module
// files they name, with their path as content) into a temp dir.
func fakeModulesDir(t testing.TB, dep, builtin string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "modules.dep"), []byte(dep), 0o644); err != nil {
		t.Fatal(err)
	}
	if builtin != "" {
		if err := os.WriteFile(filepath.Join(dir, "modules.builtin"), []byte(builtin), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, line := range strings.Split(dep, "\n") {
		mod, _, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(mod))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("module "+mod), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Shaped like a real modules.dep: deps are transitive, listed in the order
// modprobe removes them (dependents first).
const testDep = `kernel/lib/libcrc32c.ko.xz:
kernel/net/netfilter/nf_defrag_ipv6.ko.xz:
kernel/net/netfilter/nf_defrag_ipv4.ko.xz:
kernel/net/netfilter/nf_conntrack.ko.xz: kernel/net/netfilter/nf_defrag_ipv6.ko.xz kernel/net/netfilter/nf_defrag_ipv4.ko.xz kernel/lib/libcrc32c.ko.xz
kernel/net/netfilter/nf_nat.ko.xz: kernel/net/netfilter/nf_conntrack.ko.xz kernel/net/netfilter/nf_defrag_ipv6.ko.xz kernel/net/netfilter/nf_defrag_ipv4.ko.xz kernel/lib/libcrc32c.ko.xz
kernel/net/sched/sch_netem.ko.zst:
kernel/net/ipv4/tcp_bbr.ko:
kernel/drivers/net/dummy-net.ko.gz:
`

const testBuiltin = `kernel/drivers/char/virtio_console.ko
kernel/net/ipv6/ipv6.ko
kernel/drivers/block/virtio-blk.ko
`

func TestResolve(t *testing.T) {
	m, err := OpenModules(fakeModulesDir(t, testDep, testBuiltin))
	if err != nil {
		t.Fatal(err)
	}
	load, builtin, missing := m.Resolve([]string{
		"nf_nat",
		"sch-netem",                  // '-' and '_' are the same
		"nf_conntrack",               // already loaded as a dep of nf_nat
		"virtio_blk",                 // built in, listed with '-'
		"ipv6.ko",                    // file name instead of module name
		"nosuch-mod",                 // neither
		"nf_nat",                     // duplicate
		"",                           // ignored
		"dummy_net",                  // '-' in the file name
		"kernel/net/ipv4/tcp_bbr.ko", // a path
	})
	wantLoad := []string{
		"kernel/lib/libcrc32c.ko.xz",
		"kernel/net/netfilter/nf_defrag_ipv4.ko.xz",
		"kernel/net/netfilter/nf_defrag_ipv6.ko.xz",
		"kernel/net/netfilter/nf_conntrack.ko.xz",
		"kernel/net/netfilter/nf_nat.ko.xz",
		"kernel/net/sched/sch_netem.ko.zst",
		"kernel/drivers/net/dummy-net.ko.gz",
		"kernel/net/ipv4/tcp_bbr.ko",
	}
	if !reflect.DeepEqual(load, wantLoad) {
		t.Errorf("load =\n%q\nwant\n%q", load, wantLoad)
	}
	if want := []string{"virtio_blk", "ipv6"}; !reflect.DeepEqual(builtin, want) {
		t.Errorf("builtin = %q, want %q", builtin, want)
	}
	if want := []string{"nosuch_mod"}; !reflect.DeepEqual(missing, want) {
		t.Errorf("missing = %q, want %q", missing, want)
	}
}

// A dep list that is not transitive still loads deps of deps first.
func TestResolveNonTransitive(t *testing.T) {
	dep := "a.ko: b.ko\nb.ko: c.ko\nc.ko:\n"
	m, err := OpenModules(fakeModulesDir(t, dep, ""))
	if err != nil {
		t.Fatal(err)
	}
	load, builtin, missing := m.Resolve([]string{"a", "c"})
	if want := []string{"c.ko", "b.ko", "a.ko"}; !reflect.DeepEqual(load, want) {
		t.Errorf("load = %q, want %q", load, want)
	}
	if builtin != nil || missing != nil {
		t.Errorf("builtin = %q, missing = %q; want none", builtin, missing)
	}
}

func TestResolveNil(t *testing.T) {
	var m *Modules
	load, builtin, missing := m.Resolve([]string{"tcp-bbr", "sch_netem", "tcp_bbr"})
	if load != nil || builtin != nil {
		t.Errorf("load = %q, builtin = %q; want none", load, builtin)
	}
	if want := []string{"tcp_bbr", "sch_netem"}; !reflect.DeepEqual(missing, want) {
		t.Errorf("missing = %q, want %q", missing, want)
	}
}

func TestModuleName(t *testing.T) {
	for in, want := range map[string]string{
		"tcp_bbr":                       "tcp_bbr",
		"tcp-bbr":                       "tcp_bbr",
		"kernel/net/ipv4/tcp_bbr.ko.xz": "tcp_bbr",
		"kernel/drivers/a-b/c-d.ko.zst": "c_d",
		"x.ko.gz":                       "x",
		"x.ko":                          "x",
	} {
		if got := ModuleName(in); got != want {
			t.Errorf("ModuleName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOpenModulesErrors(t *testing.T) {
	_, err := OpenModules(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "modules.dep not found") || !strings.Contains(err.Error(), "depmod") {
		t.Errorf("no modules.dep: err = %v", err)
	}
	for dep, want := range map[string]string{
		"kernel/a.ko kernel/b.ko\n":     "no ':'",
		"/lib/modules/x/a.ko:\n":        "not a clean relative path",
		"kernel/a.ko: ../../etc/b.ko\n": "not a clean relative path",
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "modules.dep"), []byte(dep), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := OpenModules(dir); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("modules.dep %q: err = %v, want %q", dep, err, want)
		}
	}
}

// A modules folder whose modules.dep or first module is a FIFO is
// refused at once, naming it, instead of hanging the run.
func TestModulesReleaseFIFO(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "modules.dep"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := testutil.Within(t, 10*time.Second, "a FIFO modules.dep", func() error { _, err := ModulesRelease(dir); return err })
	if err == nil || !strings.Contains(err.Error(), "named pipe") {
		t.Errorf("FIFO modules.dep: %v", err)
	}
	os.Remove(filepath.Join(dir, "modules.dep"))
	os.WriteFile(filepath.Join(dir, "modules.dep"), []byte("kernel/net/tun.ko:\n"), 0o644)
	os.MkdirAll(filepath.Join(dir, "kernel", "net"), 0o755)
	if err := syscall.Mkfifo(filepath.Join(dir, "kernel", "net", "tun.ko"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = testutil.Within(t, 10*time.Second, "a FIFO module", func() error { _, err := ModulesRelease(dir); return err })
	if err == nil || !strings.Contains(err.Error(), "named pipe") {
		t.Errorf("FIFO module: %v", err)
	}
}
