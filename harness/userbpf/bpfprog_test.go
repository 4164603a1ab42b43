package userbpf

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/internal/testutil"
)

func TestInspect(t *testing.T) {
	progs, err := Inspect("../../selftests/progs/autolowat_bpfel.o")
	if err != nil {
		t.Fatal(err)
	}
	if len(progs) != 2 || progs[0].Name != "autolowat" || progs[0].Section != "sockops" ||
		progs[1].Name != "autolowat_optin" || progs[1].Section != "cgroup/setsockopt" {
		t.Errorf("programs %+v", progs)
	}
}

func TestInspectRefuses(t *testing.T) {
	// The tracer's fentry programs attach to kernel functions, not to a
	// cgroup: the harness would never run them.
	_, err := Inspect("../../selftests/progs/tracer_bpfel.o")
	if err == nil || !strings.Contains(err.Error(), "not cgroup programs") || !strings.Contains(err.Error(), `section "fentry/`) {
		t.Errorf("err %v", err)
	}
	junk := filepath.Join(t.TempDir(), "junk.o")
	os.WriteFile(junk, []byte("not ELF"), 0o644)
	if _, err := Inspect(junk); err == nil || !strings.Contains(err.Error(), junk) {
		t.Errorf("junk: err %v", err)
	}
}

// fakeKernel is a bzImage whose "vmlinux" is a BPF object: enough BTF for
// a vmlinux.h, which the test programs below do not need.
func fakeKernel(t *testing.T) string {
	t.Helper()
	return bzImageOf(t, "../../selftests/progs/autolowat_bpfel.o")
}

// bzImageOf wraps an ELF file as the compressed kernel of a bzImage.
func bzImageOf(t *testing.T, elf string) string {
	t.Helper()
	obj, err := os.ReadFile(elf)
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(obj)
	w.Close()
	img := testutil.BzImage{SetupSects: 3, Protocol: 0x020f, Payload: gz.Bytes()}
	return testutil.WriteFile(t, filepath.Join(t.TempDir(), "bzImage"), img.Bytes())
}

func needTools(t *testing.T) {
	for _, tool := range []string{"clang", "bpftool"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: make deps-bpf", tool)
		}
	}
	if _, err := os.Stat("/usr/include/bpf/bpf_helpers.h"); err != nil {
		t.Skip("libbpf headers are not installed: apt-get install libbpf-dev")
	}
}

func TestCompile(t *testing.T) {
	needTools(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "ok.bpf.c")
	os.WriteFile(src, []byte(`#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
char _license[] SEC("license") = "GPL";
SEC("sockops") int ok(struct bpf_sock_ops *skops) { return 1; }
`), 0o644)
	c, err := Compile(context.Background(), CompileOptions{Source: src, Kernel: fakeKernel(t), Dir: filepath.Join(dir, "out")})
	if err != nil {
		t.Fatal(err)
	}
	if c.Object != filepath.Join(dir, "out", "ok.bpf.o") || len(c.Programs) != 1 || c.Programs[0].Section != "sockops" {
		t.Errorf("compiled %+v", c)
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "vmlinux.h")); err != nil {
		t.Error(err)
	}
}

// hostKernel is a bzImage whose "vmlinux" carries the running kernel's
// BTF: a whole kernel's types, kfuncs included.
func hostKernel(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		t.Skipf("the running kernel has no BTF to borrow: %v", err)
	}
	objcopy, err := exec.LookPath("llvm-objcopy")
	if err != nil {
		t.Skip("llvm-objcopy is not installed: make deps-bpf")
	}
	elf := filepath.Join(t.TempDir(), "vmlinux")
	out, err := exec.Command(objcopy, "--remove-section=.BTF", "--remove-section=.BTF.ext",
		"--add-section=.BTF=/sys/kernel/btf/vmlinux", "../../selftests/progs/autolowat_bpfel.o", elf).CombinedOutput()
	if err != nil {
		t.Fatalf("objcopy: %v\n%s", err, out)
	}
	return bzImageOf(t, elf)
}

// vmlinux.h declares the kernel's kfuncs, so a program that calls one
// without declaring it compiles, as the series' tcp_autolowat.c does; a
// program that declares one its own way keeps its declaration.
func TestCompileKfuncs(t *testing.T) {
	needTools(t)
	dir := t.TempDir()
	kernel := hostKernel(t)
	head := `#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
char _license[] SEC("license") = "GPL";
`
	body := `SEC("sockops") int p(struct bpf_sock_ops *skops)
{
	struct bpf_sock_ops_kern *kern = (void *)bpf_cast_to_kern_ctx(skops);
	return kern->op != 0;
}
`
	undeclared := filepath.Join(dir, "undeclared.bpf.c")
	os.WriteFile(undeclared, []byte(head+body), 0o644)
	c, err := Compile(context.Background(), CompileOptions{Source: undeclared, Kernel: kernel, Dir: filepath.Join(dir, "a")})
	if err != nil {
		t.Fatal(err)
	}
	if c.Kfuncs == 0 || len(c.KfuncsLeftOut) != 0 {
		t.Errorf("%d prototypes (%s), left out %v", c.Kfuncs, c.KfuncsFrom, c.KfuncsLeftOut)
	}
	own := filepath.Join(dir, "own.bpf.c")
	os.WriteFile(own, []byte(head+"extern long bpf_cast_to_kern_ctx(void *obj) __ksym;\n"+body), 0o644)
	c, err = Compile(context.Background(), CompileOptions{Source: own, Kernel: kernel, Dir: filepath.Join(dir, "b")})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.KfuncsLeftOut, []string{"bpf_cast_to_kern_ctx"}) {
		t.Errorf("left out %v, want the kfunc the program declares its own way", c.KfuncsLeftOut)
	}
}

func TestCompileErrors(t *testing.T) {
	needTools(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.c")
	os.WriteFile(bad, []byte("int f( { return 1; }\n"), 0o644)
	_, err := Compile(context.Background(), CompileOptions{Source: bad, Kernel: fakeKernel(t), Dir: filepath.Join(dir, "out")})
	// The compiler's own words, and the command to rerun it by hand.
	if err == nil || !strings.Contains(err.Error(), "bad.c:1:") || !strings.Contains(err.Error(), "command: ") {
		t.Errorf("err %v", err)
	}
	_, err = Compile(context.Background(), CompileOptions{Source: filepath.Join(dir, "none.c"), Kernel: fakeKernel(t), Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "none.c") {
		t.Errorf("missing source: err %v", err)
	}
	ok := filepath.Join(dir, "ok.c")
	os.WriteFile(ok, []byte("int x;\n"), 0o644)
	_, err = Compile(context.Background(), CompileOptions{Source: ok, Kernel: ok, Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "vmlinux.h") || !strings.Contains(err.Error(), "not an x86 bzImage") {
		t.Errorf("bad kernel: err %v", err)
	}
}

// Fast Open needs state that follows a listener's opt-in to its child:
// socket storage marked BPF_F_CLONE. Ours has it; the same object with
// the flag off is what the series' own program is like.
func TestNoChildState(t *testing.T) {
	const obj = "../../selftests/progs/autolowat_bpfel.o"
	if why, err := NoChildState(obj); err != nil || why != "" {
		t.Fatalf("ours: %q, %v; want no reason", why, err)
	}
	spec, err := ebpf.LoadCollectionSpec(obj)
	if err != nil {
		t.Fatal(err)
	}
	spec.Maps["states"].Flags &^= bpfFClone
	want := "autolowat keeps no state for a child created with data: its socket storage is not BPF_F_CLONE (map states)"
	if got := noChildState(spec); got != want {
		t.Errorf("without BPF_F_CLONE:\n got %q\nwant %q", got, want)
	}
	// No socket storage: the object does not tell, a run will.
	delete(spec.Maps, "states")
	if got := noChildState(spec); got != "" {
		t.Errorf("without socket storage: %q", got)
	}
	if _, err := NoChildState(filepath.Join(t.TempDir(), "none.o")); err == nil {
		t.Error("a missing object gave no error")
	}
}

// A file that is not a BPF object the kernel can load is named as what
// it is, not in the ELF reader's terms.
func TestInspectNotAnObject(t *testing.T) {
	good, err := os.ReadFile("../../selftests/progs/autolowat_bpfel.o")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	be := append([]byte(nil), good...)
	be[5] = 2
	x86 := append([]byte(nil), good...)
	x86[18], x86[19] = 62, 0 // EM_X86_64
	for name, tc := range map[string]struct {
		data []byte
		want string
	}{
		"passwd":     {[]byte("root:x:0:0:root:/root:/bin/bash\n"), "is not an ELF object"},
		"tiny":       {[]byte("\x7fELF\x02\x01"), "is cut off"},
		"cut":        {good[:len(good)/2], "is cut off"},
		"big-endian": {be, "is a big-endian object"},
		"x86":        {x86, "an ELF object for another machine"},
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, tc.data, 0o644)
		if _, err := Inspect(p); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}

// The autolowat cases need a sockops program and one that takes the
// opt-in: an object without either is refused before a boot.
func TestUnusable(t *testing.T) {
	progs, err := Inspect("../../selftests/progs/autolowat_bpfel.o")
	if err != nil {
		t.Fatal(err)
	}
	if why := Unusable(progs); why != "" {
		t.Errorf("the harness's own programs: %s", why)
	}
	var noOptIn, noSockops []report.BPFProgram
	for _, p := range progs {
		if p.Type != ebpf.CGroupSockopt.String() {
			noOptIn = append(noOptIn, p)
		}
		if p.Type != ebpf.SockOps.String() {
			noSockops = append(noSockops, p)
		}
	}
	if why := Unusable(noOptIn); !strings.Contains(why, "no cgroup/setsockopt program") {
		t.Errorf("without the opt-in: %q", why)
	}
	if why := Unusable(noSockops); !strings.Contains(why, "no sockops program") {
		t.Errorf("without sockops: %q", why)
	}
}
