package kbuild

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@t"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// Only files whose content changed since the last recorded build keep a
// new mtime; the others look as old as the objects built from them.
func TestKeepTimes(t *testing.T) {
	src, obj := t.TempDir(), t.TempDir()
	git(t, src, "init", "-q")
	os.WriteFile(filepath.Join(src, "a.c"), []byte("a"), 0o644)
	os.WriteFile(filepath.Join(src, "b.c"), []byte("b"), 0o644)
	git(t, src, "add", ".")
	git(t, src, "commit", "-qm", "one")
	ctx := context.Background()

	kept, record, err := KeepTimes(ctx, src, obj)
	if err != nil || kept != 0 {
		t.Fatalf("first build: kept %d, %v", kept, err)
	}
	if err := record(); err != nil {
		t.Fatal(err)
	}

	os.WriteFile(filepath.Join(src, "b.c"), []byte("b2"), 0o644)
	git(t, src, "commit", "-qam", "two")
	kept, _, err = KeepTimes(ctx, src, obj)
	if err != nil || kept != 1 {
		t.Fatalf("second build: kept %d, %v", kept, err)
	}
	// That build never recorded success: the next one trusts nothing.
	if kept, _, _ := KeepTimes(ctx, src, obj); kept != 0 {
		t.Errorf("after an unrecorded build, kept %d", kept)
	}
	a, _ := os.Stat(filepath.Join(src, "a.c"))
	b, _ := os.Stat(filepath.Join(src, "b.c"))
	if !a.ModTime().Equal(unchangedTime) {
		t.Errorf("unchanged a.c has mtime %v", a.ModTime())
	}
	if b.ModTime().Equal(unchangedTime) {
		t.Error("changed b.c was made to look old: make would not rebuild it")
	}
}
