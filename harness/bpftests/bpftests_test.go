package bpftests

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseLdd(t *testing.T) {
	out := `	linux-vdso.so.1 (0x00007ffd6d5f2000)
	libelf.so.1 => /lib/x86_64-linux-gnu/libelf.so.1 (0x00007f0b4c9a0000)
	libz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x00007f0b4c980000)
	libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f0b4c79f000)
	/lib64/ld-linux-x86-64.so.2 (0x00007f0b4ca0f000)
`
	got, err := parseLdd([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/lib/x86_64-linux-gnu/libelf.so.1", "/lib/x86_64-linux-gnu/libz.so.1", "/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if _, err := parseLdd([]byte("\tlibzstd.so.1 => not found\n")); err == nil || !strings.Contains(err.Error(), "libzstd") {
		t.Errorf("a missing library must be named, got %v", err)
	}
}

func TestConfigGaps(t *testing.T) {
	tree := t.TempDir()
	frag := filepath.Join(tree, ConfigFragment)
	os.MkdirAll(filepath.Dir(frag), 0o755)
	os.WriteFile(frag, []byte(`CONFIG_BPF=y
CONFIG_CRYPTO_SKCIPHER=y
CONFIG_NF_CONNTRACK=m
CONFIG_TUN=m
# CONFIG_BPF_UNPRIV_DEFAULT_OFF is not set
CONFIG_NR_CPUS=16
`), 0o644)
	kc := filepath.Join(t.TempDir(), ".config")
	os.WriteFile(kc, []byte(`CONFIG_BPF=y
CONFIG_CRYPTO_SKCIPHER=m
CONFIG_TUN=y
CONFIG_BPF_UNPRIV_DEFAULT_OFF=y
CONFIG_NR_CPUS=64
`), 0o644)
	gaps, err := ConfigGaps(tree, kc)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"CONFIG_CRYPTO_SKCIPHER=y (kernel: m)", // a module's types are not in vmlinux.h
		"CONFIG_NF_CONNTRACK=m (kernel: not set)",
		"CONFIG_BPF_UNPRIV_DEFAULT_OFF=n (kernel: y)",
		"CONFIG_NR_CPUS=16 (kernel: 64)",
	}
	if !reflect.DeepEqual(gaps, want) {
		t.Errorf("got %q\nwant %q", gaps, want)
	}
	err = GapsError(tree, gaps)
	if err == nil || !strings.Contains(err.Error(), "--profile selftests") || !strings.Contains(err.Error(), "lacks 4") {
		t.Errorf("the error must count the gaps and say how to build with them: %v", err)
	}
}

func TestBuildSteps(t *testing.T) {
	for line, want := range map[string]bool{
		"  CLNG-BPF [test_progs] tcp_hdr_options.bpf.o":  true,
		"  GEN-SKEL [test_progs] tcp_hdr_options.skel.h": true,
		"  TEST-OBJ [test_progs] tcp_hdr_options.test.o": true,
		"  CC      /out/libbpf/staticobjs/btf.o":         true,
		"make: Entering directory '/tree'":               false,
		"progs/lsm_cgroup.c:105:21: error: variable":     false,
		"      |                ^":                       false,
	} {
		if got := makeStep.MatchString(line); got != want {
			t.Errorf("%q: step %v, want %v", line, got, want)
		}
	}
	tree := t.TempDir()
	dir := filepath.Join(tree, "tools/testing/selftests/bpf")
	for _, f := range []string{"progs/a.c", "progs/b.c", "prog_tests/a.c"} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755)
		os.WriteFile(filepath.Join(dir, f), nil, 0o644)
	}
	bin := filepath.Join(t.TempDir(), "test_progs")
	if got := estimate(tree, bin); got != 2*2+1+150 {
		t.Errorf("cold estimate %d", got)
	}
	os.WriteFile(bin, nil, 0o755)
	if got := estimate(tree, bin); got != 0 {
		t.Errorf("estimate over an earlier build %d, want none", got)
	}
}

func TestObjects(t *testing.T) {
	tree, out := t.TempDir(), t.TempDir()
	dir := filepath.Join(tree, "tools/testing/selftests/bpf/prog_tests")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "tcp_hdr_options.c"), []byte("#include \"test_tcp_hdr_options.skel.h\"\nvoid test_tcp_hdr_options(void)\n{\n}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "xdp.c"), []byte("void test_xdp(void)\n{\n\tconst char *file = \"./test_xdp.bpf.o\";\n}\nvoid serial_test_xdp_attach(void)\n{\n\tbpf_object__open_file(\"test_xdp_attach.bpf.o\", NULL);\n\topen(\"missing.bpf.o\");\n}\n"), 0o644)
	for _, o := range []string{"test_xdp.bpf.o", "test_xdp_attach.bpf.o", "other.bpf.o"} {
		os.WriteFile(filepath.Join(out, o), nil, 0o644)
	}
	for _, c := range []struct {
		sel  []string
		want []string
	}{
		{[]string{"tcp_hdr_options"}, nil},
		{[]string{"tcp_hdr_options/simple_estab"}, nil},
		{[]string{"xdp_attach"}, []string{"test_xdp.bpf.o", "test_xdp_attach.bpf.o"}}, // the file's objects
		{[]string{"tcp_hdr*,xdp"}, []string{"test_xdp.bpf.o", "test_xdp_attach.bpf.o"}},
		{[]string{"hdr_opt"}, nil}, // a substring, as test_progs -t
	} {
		got, err := Objects(tree, out, c.sel)
		if err != nil {
			t.Errorf("%v: %v", c.sel, err)
			continue
		}
		var names []string
		for _, g := range got {
			names = append(names, filepath.Base(g))
		}
		if strings.Join(names, " ") != strings.Join(c.want, " ") {
			t.Errorf("%v: %v, want %v", c.sel, names, c.want)
		}
	}
	if _, err := Objects(tree, out, []string{"nosuch"}); err == nil || !strings.Contains(err.Error(), "no test_progs test matches -t nosuch") {
		t.Errorf("no match: %v", err)
	}
}

// The lines of a stable tree whose backported test lacks its program,
// built with make -k: only the test file failed.
func TestFailureFiles(t *testing.T) {
	f := failure{tests: map[string]string{}}
	for _, line := range []string{
		"/w/tools/testing/selftests/bpf/prog_tests/bpf_attr_size.c:8:10: fatal error: cgroup_skb_direct_packet_access.skel.h: No such file or directory",
		"make: *** [Makefile:753: /out/bpf_attr_size.test.o] Error 1",
		"prog_tests/other.c:12:3: error: implicit declaration of function 'x'",
		"make: Target '/out/test_progs' not remade because of errors.",
	} {
		f.add(line)
	}
	if f.others || len(f.tests) != 2 || f.tests["prog_tests/bpf_attr_size.c"] == "" || f.tests["prog_tests/other.c"] == "" {
		t.Errorf("%+v", f)
	}
	// A program that does not compile is not a test's own failure.
	f.add("progs/lsm_cgroup.c:105:21: error: variable has incomplete type 'struct sockaddr_ll'")
	if !f.others {
		t.Error("a program's error passed for a test's")
	}
	// A program calling a kfunc vmlinux.h does not declare (pahole 1.24)
	// is the program's failure, and so are its errors that follow.
	g := failure{tests: map[string]string{}}
	for _, line := range []string{
		"progs/cgroup_iter_memcg.c:23:10: error: call to undeclared function 'bpf_get_mem_cgroup'; ISO C99 and later do not support implicit function declarations [-Wimplicit-function-declaration]",
		"progs/cgroup_iter_memcg.c:23:8: error: incompatible integer to pointer conversion assigning to 'struct mem_cgroup *' from 'int' [-Wint-conversion]",
		"make: *** [Makefile:727: /out/cgroup_iter_memcg.bpf.o] Error 1",
	} {
		g.add(line)
	}
	if g.others || len(g.tests) != 1 || g.tests["progs/cgroup_iter_memcg.c"] == "" {
		t.Errorf("undeclared kfunc: %+v", g)
	}
	// The undeclared functions are named, each once, for vmlinux.h.
	g.add("progs/tcp_autolowat.c:213:4: error: call to undeclared function 'bpf_sock_ops_tcp_set_rcvlowat'; ISO C99 and later do not support implicit function declarations [-Wimplicit-function-declaration]")
	g.add("progs/tcp_autolowat.c:218:2: error: call to undeclared function 'bpf_sock_ops_tcp_set_rcvlowat'; ISO C99 and later do not support implicit function declarations [-Wimplicit-function-declaration]")
	if strings.Join(g.undeclared, " ") != "bpf_get_mem_cgroup bpf_sock_ops_tcp_set_rcvlowat" {
		t.Errorf("undeclared %v", g.undeclared)
	}
	tree := t.TempDir()
	dir := filepath.Join(tree, "tools/testing/selftests/bpf/prog_tests")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "bpf_attr_size.c"), []byte("void test_bpf_attr_size(void)\n{\n}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "cgroup_iter_memcg.c"), []byte("#include \"cgroup_iter_memcg.skel.h\"\nvoid test_cgroup_iter_memcg(void)\n{\n}\n"), 0o644)
	if u := skeletonUsers(tree, "progs/cgroup_iter_memcg.c"); len(u) != 1 || u[0] != "prog_tests/cgroup_iter_memcg.c" {
		t.Errorf("users of cgroup_iter_memcg's skeleton: %v", u)
	}
	if chosen(tree, "prog_tests/bpf_attr_size.c", []string{"tcp_hdr_options"}) {
		t.Error("bpf_attr_size.c chosen by -t tcp_hdr_options")
	}
	if !chosen(tree, "prog_tests/bpf_attr_size.c", []string{"attr_size"}) {
		t.Error("bpf_attr_size.c not chosen by -t attr_size")
	}
}

// The header of kfunc prototypes is given to make as VMLINUX_H, before
// the target; the names are remembered; nothing is written before the
// tree's bpftool exists.
func TestKfuncHeader(t *testing.T) {
	k := &kfuncHeader{out: t.TempDir()}
	args := []string{"-C", "tree", "OUTPUT=o", "/o/test_progs"}
	if got := k.args(args); strings.Join(got, " ") != strings.Join(args, " ") {
		t.Errorf("without a header: %v", got)
	}
	if !k.add([]string{"bpf_b", "bpf_a"}) || k.add([]string{"bpf_a"}) || strings.Join(k.names, " ") != "bpf_a bpf_b" {
		t.Errorf("names %v", k.names)
	}
	if err := k.write(context.Background()); err != nil || k.path != "" {
		t.Errorf("without bpftool: path %q, %v", k.path, err)
	}
	k.path = "/o/harness-vmlinux/vmlinux.h"
	got := k.args(args)
	if strings.Join(got, " ") != "-C tree OUTPUT=o VMLINUX_H=/o/harness-vmlinux/vmlinux.h /o/test_progs" || args[3] != "/o/test_progs" {
		t.Errorf("with a header: %v (args %v)", got, args)
	}
	os.WriteFile(k.listFile(), []byte("bpf_a\n"), 0o644)
	if err := k.forget(); err != nil || k.path != "" || len(k.names) != 0 {
		t.Errorf("forget: %v, %q, %v", err, k.path, k.names)
	}
	if _, err := os.Stat(k.listFile()); err == nil {
		t.Error("the remembered kfuncs outlive forget")
	}
}
