package build

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Local edits in the tree are not built: the build says so.
func TestWarnDirty(t *testing.T) {
	tree := t.TempDir()
	git := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-C", tree, "-c", "user.name=t", "-c", "user.email=t@t"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q")
	os.WriteFile(filepath.Join(tree, "Makefile"), []byte("all:\n"), 0o644)
	git("add", "Makefile")
	git("commit", "-q", "-m", "x")
	var said []string
	say := func(f string, a ...any) { said = append(said, fmt.Sprintf(f, a...)) }
	warnDirty(context.Background(), tree, say)
	if len(said) != 0 {
		t.Errorf("clean tree: %q", said)
	}
	os.WriteFile(filepath.Join(tree, "Makefile"), []byte("all: x\n"), 0o644)
	os.WriteFile(filepath.Join(tree, "untracked.c"), nil, 0o644) // not the tree's: no warning for it
	warnDirty(context.Background(), tree, say)
	if len(said) != 1 || !strings.Contains(said[0], "has local changes (1 files) that are not built") {
		t.Errorf("dirty tree: %q", said)
	}
}
