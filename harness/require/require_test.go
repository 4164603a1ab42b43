package require

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

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
		{Name: "clang", Package: "clang", Min: []int{14, 0}, VersionArgs: []string{"--version"}, VersionRe: ClangVersion, Why: "BPF programs"},
		{Name: "pahole", Package: "dwarves", Min: []int{1, 16}, VersionArgs: []string{"--version"}, VersionRe: PaholeVersion, Why: "BTF"},
		{Name: "rsync", Package: "rsync", Why: "copies"},
		{Name: "no-such-header-here.h", Header: true, Package: "libnothing-dev", Why: "nothing"},
	}
	missing := Check(context.Background(), tools)
	err := Error("the BPF selftests", missing)
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
		if got := Less(c.a, c.b); got != c.want {
			t.Errorf("Less(%v, %v) = %v", c.a, c.b, got)
		}
	}
}

func TestFindVersionedClang(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PATH", dir)
	fakeTool(t, dir, "clang", "Debian clang version 14.0.6")
	fakeTool(t, dir, "clang-16", "Debian clang version 16.0.6 (15~deb12u1)")
	fakeTool(t, dir, "clang-18", "Ubuntu clang version 18.1.8")
	tool := Tool{Name: "clang", Package: "clang-18", Min: []int{18, 0}, VersionArgs: []string{"--version"}, VersionRe: ClangVersion,
		Alternatives: []string{"clang-19", "clang-18", "clang-16"}}
	if got, err := Find(context.Background(), tool); err != nil || got != "clang-18" {
		t.Fatalf("want clang-18, got %q, %v", got, err)
	}
	os.Remove(filepath.Join(dir, "clang-18"))
	_, err := Find(context.Background(), tool)
	if err == nil || !strings.Contains(err.Error(), "clang 14.0 is older than the 18.0") {
		t.Fatalf("want the default clang named as too old, got %v", err)
	}
}
