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
		`clang 11\.0 is older than the 14\.0 .*clang`,
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
