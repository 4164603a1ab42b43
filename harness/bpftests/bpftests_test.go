package bpftests

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
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

// fakeTool writes a command that prints out, on a PATH of its own.
func fakeTool(t *testing.T, dir, name, out string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\necho '"+out+"'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PATH", dir)
	fakeTool(t, dir, "clang", "Debian clang version 11.0.1-2")
	fakeTool(t, dir, "pahole", "v1.24")
	tools := []Tool{
		{Name: "clang", Package: "clang", Min: []int{14, 0}, versionArgs: []string{"--version"}, versionRe: clangVersion, Why: "BPF programs"},
		{Name: "pahole", Package: "dwarves", Min: []int{1, 16}, versionArgs: []string{"--version"}, versionRe: paholeVersion, Why: "BTF"},
		{Name: "rsync", Package: "rsync", Why: "copies"},
		{Name: "no-such-header-here.h", Header: true, Package: "libnothing-dev", Why: "nothing"},
	}
	missing := Check(context.Background(), tools)
	err := Error(missing)
	if len(missing) != 3 || err == nil {
		t.Fatalf("want clang (too old), rsync and the header missing, got %v", missing)
	}
	for _, want := range []string{
		`clang 11\.0 is older than the 14\.0 .*install clang`,
		`rsync is missing .*apt-get install rsync`,
		`/usr/include/no-such-header-here\.h is missing .*apt-get install libnothing-dev`,
	} {
		if !regexp.MustCompile(want).MatchString(err.Error()) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "pahole") {
		t.Errorf("pahole 1.24 is new enough:\n%v", err)
	}
}

func TestLess(t *testing.T) {
	for _, c := range []struct {
		a, b []int
		want bool
	}{{[]int{14, 0}, []int{15, 0}, true}, {[]int{15, 0}, []int{14, 9}, false}, {[]int{1, 24}, []int{1, 24}, false}, {[]int{1}, []int{1, 16}, true}} {
		if got := less(c.a, c.b); got != c.want {
			t.Errorf("less(%v, %v) = %v", c.a, c.b, got)
		}
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
	if err == nil || !strings.Contains(err.Error(), "--config "+frag) || !strings.Contains(err.Error(), "lacks 4") {
		t.Errorf("the error must count the gaps and say how to build with them: %v", err)
	}
}

func TestFindVersionedClang(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PATH", dir)
	fakeTool(t, dir, "clang", "Debian clang version 14.0.6")
	fakeTool(t, dir, "clang-16", "Debian clang version 16.0.6 (15~deb12u1)")
	fakeTool(t, dir, "clang-18", "Ubuntu clang version 18.1.8")
	tool := Tool{Name: "clang", Package: "clang-18", Min: []int{18, 0}, versionArgs: []string{"--version"}, versionRe: clangVersion,
		alternatives: []string{"clang-19", "clang-18", "clang-16"}}
	if got, err := Find(context.Background(), tool); err != nil || got != "clang-18" {
		t.Fatalf("want clang-18, got %q, %v", got, err)
	}
	os.Remove(filepath.Join(dir, "clang-18"))
	_, err := Find(context.Background(), tool)
	if err == nil || !strings.Contains(err.Error(), "clang 14.0 is older than the 18.0") {
		t.Fatalf("want the default clang named as too old, got %v", err)
	}
}
