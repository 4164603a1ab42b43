package build

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A lore series is refused before any work when it cannot be fetched:
// no id, or no b4 to fetch it with.
func TestCheckLore(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no b4
	tree := t.TempDir()
	for spec, want := range map[string]string{
		"lore:":                           "lore: needs a message id",
		"lore:20250603.1-1-kuniyu@google": "needs b4 on PATH",
	} {
		if err := Check(Options{Tree: tree, Series: spec}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", spec, err, want)
		}
	}
}

// A git checkout that is not Linux is refused before a worktree or make.
func TestCheckTreeNotLinux(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{{"init", "-q"}, {"-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "x"}} {
		if out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	ctx := context.Background()
	if err := checkTree(ctx, dir); err == nil || !strings.Contains(err.Error(), "is a git checkout but not a Linux tree (no Makefile") {
		t.Errorf("empty repository: %v", err)
	}
	for _, f := range []string{"Makefile", "Kconfig", "arch/x86/Kconfig"} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755)
		os.WriteFile(filepath.Join(dir, f), nil, 0o644)
	}
	if err := checkTree(ctx, dir); err != nil {
		t.Errorf("a tree with Linux's top files: %v", err)
	}
	if err := checkTree(ctx, t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a git checkout") {
		t.Errorf("a plain folder: %v", err)
	}
}
