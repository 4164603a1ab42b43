package vmlinux

import (
	"context"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"
)

func specOf(t *testing.T, types ...btf.Type) *btf.Spec {
	t.Helper()
	b, err := btf.NewBuilder(types, nil)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := b.Spec()
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// kernelTypes is a kernel's BTF in small: functions of every kind a
// kfunc prototype must get right, or must leave out.
func kernelTypes(tagged bool) []btf.Type {
	i32 := &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
	u32 := &btf.Typedef{Name: "u32", Type: &btf.Int{Name: "unsigned int", Size: 4}}
	char := &btf.Int{Name: "char", Size: 1, Encoding: btf.Char}
	sk := &btf.Struct{Name: "sock", Size: 8}
	ptr := func(t btf.Type) *btf.Pointer { return &btf.Pointer{Target: t} }
	proto := func(ret btf.Type, params ...btf.Type) *btf.FuncProto {
		p := &btf.FuncProto{Return: ret}
		for _, t := range params {
			p.Params = append(p.Params, btf.FuncParam{Name: "arg", Type: t})
		}
		return p
	}
	fn := func(name string, linkage btf.FuncLinkage, kfunc bool, p *btf.FuncProto) *btf.Func {
		f := &btf.Func{Name: name, Type: p, Linkage: linkage}
		if kfunc && tagged {
			f.Tags = []string{kfuncTag}
		}
		return f
	}
	less := ptr(proto(&btf.Int{Name: "_Bool", Size: 1, Encoding: btf.Bool}, ptr(sk), ptr(&btf.Const{Type: sk})))
	ids := &btf.Enum{Name: "bpf_func_id", Size: 4, Values: []btf.EnumValue{{Name: "BPF_FUNC_skb_load_bytes", Value: 26}}}
	return []btf.Type{
		ids,
		&btf.Typedef{Name: "bpf_callback_t", Type: ptr(proto(i32))},
		fn("bpf_cast_to_kern_ctx", btf.GlobalFunc, true, proto(ptr(&btf.Void{}), ptr(&btf.Void{}))),
		fn("bpf_sock_ops_tcp_set_rcvlowat", btf.GlobalFunc, true, proto(i32, ptr(&btf.Struct{Name: "bpf_sock_ops_kern"}), i32)),
		fn("bpf_rbtree_add_impl", btf.GlobalFunc, true, proto(i32, ptr(sk), less, u32)),
		fn("bpf_strcmp", btf.GlobalFunc, true, proto(i32, ptr(&btf.Const{Type: char}), &btf.Const{Type: ptr(char)})),
		fn("bpf_log", btf.GlobalFunc, true, &btf.FuncProto{Return: &btf.Void{}, Params: []btf.FuncParam{{Name: "fmt", Type: ptr(&btf.Const{Type: char})}, {Type: &btf.Void{}}}}),
		fn("bpf_anon", btf.GlobalFunc, true, proto(i32, ptr(&btf.Struct{Size: 4}))),
		fn("bpf_skb_load_bytes", btf.GlobalFunc, false, proto(i32)), // a helper: libbpf declares it
		fn("bpf_callback_t", btf.GlobalFunc, false, proto(i32)),     // the name of a type
		fn("bpf_prog_put", btf.GlobalFunc, false, proto(&btf.Void{}, ptr(sk))),
		fn("bpf_timer_cb", btf.StaticFunc, false, proto(i32)), // pahole says static of every function
		fn("tcp_reno_cong_avoid", btf.GlobalFunc, true, proto(&btf.Void{}, ptr(sk), u32, u32)),
	}
}

func TestPrototypes(t *testing.T) {
	for _, tagged := range []bool{true, false} {
		k, err := Prototypes(specOf(t, kernelTypes(tagged)...), map[string]bool{"bpf_log": tagged})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{"bpf_cast_to_kern_ctx": true, "bpf_sock_ops_tcp_set_rcvlowat": true,
			"bpf_rbtree_add_impl": true, "bpf_strcmp": true}
		if tagged {
			want["tcp_reno_cong_avoid"] = true // a kfunc by its tag, whatever its name
		} else {
			want["bpf_log"] = true
			want["bpf_prog_put"] = true // no tags: every bpf_* function
			want["bpf_timer_cb"] = true
		}
		if strings.Join(k.Names, " ") != strings.Join(slices.Sorted(maps.Keys(want)), " ") {
			t.Errorf("tagged %v: names %v, want %v", tagged, k.Names, slices.Sorted(maps.Keys(want)))
		}
	}
	k, _ := Prototypes(specOf(t, kernelTypes(false)...), nil)
	for _, want := range []string{
		`extern void *bpf_cast_to_kern_ctx(void *) __attribute__((section(".ksyms"))) __attribute__((weak));`,
		`extern int bpf_sock_ops_tcp_set_rcvlowat(struct bpf_sock_ops_kern *, int) __attribute__((section(".ksyms"))) __attribute__((weak));`,
		`extern int bpf_rbtree_add_impl(struct sock *, _Bool (*)(struct sock *, const struct sock *), u32) __attribute__((section(".ksyms"))) __attribute__((weak));`,
		`extern int bpf_strcmp(const char *, char *const) __attribute__((section(".ksyms"))) __attribute__((weak));`,
		`extern void bpf_log(const char *, ...) __attribute__((section(".ksyms"))) __attribute__((weak));`,
	} {
		if !strings.Contains(k.C+"\n", want+"\n") {
			t.Errorf("prototypes lack\n%s\ngot\n%s", want, k.C)
		}
	}
	if !strings.Contains(k.From, "no bpf_kfunc decl tags") {
		t.Errorf("from %q", k.From)
	}
}

// The prototypes go inside bpftool's include guard, after the types.
func TestWithPrototypes(t *testing.T) {
	c := "#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\nstruct sock {};\n" + guardEnd + "\n"
	got := withPrototypes(c, Kfuncs{From: "tags", C: "extern int bpf_x(void);"})
	want := "#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\nstruct sock {};\n\n#ifndef BPF_NO_KFUNC_PROTOTYPES\n" +
		"/* kfuncs, written by the harness from the kernel's BTF: tags */\nextern int bpf_x(void);\n#endif /* BPF_NO_KFUNC_PROTOTYPES */\n\n" + guardEnd + "\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if withPrototypes(c, Kfuncs{}) != c {
		t.Error("no prototypes changed the header")
	}
}

// With the running kernel's BTF, in both ways of telling kfuncs apart,
// the header compiles with libbpf's headers and a program that calls a
// kfunc it does not declare (as the series' tcp_autolowat.c does).
func TestPrototypesCompile(t *testing.T) {
	raw, err := os.ReadFile("/sys/kernel/btf/vmlinux")
	if err != nil {
		t.Skipf("no kernel BTF to read: %v", err)
	}
	for _, tool := range []string{"bpftool", "clang"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: make deps-bpf", tool)
		}
	}
	if _, err := os.Stat("/usr/include/bpf/bpf_helpers.h"); err != nil {
		t.Skip("libbpf headers are not installed: apt-get install libbpf-dev")
	}
	dir := t.TempDir()
	h, err := headerFromBTF(context.Background(), raw, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Kfuncs.Names) == 0 {
		t.Fatalf("no kfunc prototypes (%s)", h.Kfuncs.From)
	}
	t.Logf("%d kfunc prototypes from %s", len(h.Kfuncs.Names), h.Kfuncs.From)
	src := filepath.Join(dir, "prog.bpf.c")
	os.WriteFile(src, []byte(`#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
SEC("sockops")
int prog(struct bpf_sock_ops *skops)
{
	struct bpf_sock_ops_kern *kern = bpf_cast_to_kern_ctx(skops);
	return kern->op != 0;
}
char _license[] SEC("license") = "GPL";
`), 0o644)
	compile := func() {
		t.Helper()
		out, err := exec.Command("clang", "-g", "-O2", "--target=bpf", "-D__TARGET_ARCH_x86", "-Wall", "-Werror",
			"-I"+dir, "-c", src, "-o", filepath.Join(dir, "prog.o")).CombinedOutput()
		if err != nil {
			t.Fatalf("clang: %v\n%s", err, out)
		}
	}
	compile()
	// Without decl tags: every bpf_* function of the kernel.
	spec, err := btf.LoadSpecFromReader(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	for typ := range spec.All() {
		if fn, ok := typ.(*btf.Func); ok {
			fn.Tags = nil
		}
	}
	k, err := Prototypes(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Names) <= len(h.Kfuncs.Names) || !strings.Contains(k.From, "no bpf_kfunc decl tags") {
		t.Fatalf("without tags: %d prototypes from %s", len(k.Names), k.From)
	}
	hdr, _ := os.ReadFile(h.Path)
	c := string(hdr)
	c = c[:strings.Index(c, "\n#ifndef BPF_NO_KFUNC_PROTOTYPES")] + "\n" + guardEnd + "\n"
	os.WriteFile(h.Path, []byte(withPrototypes(c, k)), 0o644)
	compile()
}

// Named kfuncs only: what a build found called and undeclared, tags or
// not, helpers and unknown names left out.
func TestPrototypesOf(t *testing.T) {
	only := map[string]bool{"bpf_sock_ops_tcp_set_rcvlowat": true, "tcp_reno_cong_avoid": true, "bpf_skb_load_bytes": true, "bpf_no_such": true}
	for _, tagged := range []bool{true, false} {
		k, err := PrototypesOf(specOf(t, kernelTypes(tagged)...), only)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(k.Names, " "); got != "bpf_sock_ops_tcp_set_rcvlowat tcp_reno_cong_avoid" {
			t.Errorf("tagged %v: %s", tagged, got)
		}
	}
}
