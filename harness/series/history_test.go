package series

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

func TestFirstParents(t *testing.T) {
	dir := t.TempDir()
	g := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@t"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	g("init", "-q", "-b", "main")
	for i := 0; i < 4; i++ {
		g("commit", "-q", "--allow-empty", "-m", fmt.Sprintf("c%d", i))
	}
	ctx := context.Background()
	good, err := CommitOf(ctx, dir, "HEAD~3")
	if err != nil || good.Subject != "c0" {
		t.Fatalf("CommitOf: %+v %v", good, err)
	}
	cs, err := FirstParents(ctx, dir, good.Hash, "HEAD")
	if err != nil || len(cs) != 3 || cs[0].Subject != "c1" || cs[2].Subject != "c3" || len(cs[2].Hash) != 40 {
		t.Errorf("FirstParents: %+v %v", cs, err)
	}
	if !IsAncestor(ctx, dir, good.Hash, cs[2].Hash) || IsAncestor(ctx, dir, cs[2].Hash, good.Hash) {
		t.Errorf("IsAncestor is wrong about %s and %s", good.Hash, cs[2].Hash)
	}
	if _, err := CommitOf(ctx, dir, "no-such-rev"); err == nil || !strings.Contains(err.Error(), "is not a commit") {
		t.Errorf("bad rev: %v", err)
	}
	if _, _, cs, err := Range(ctx, dir, "HEAD~3", "HEAD"); err != nil || len(cs) != 3 {
		t.Errorf("Range: %d commits, %v", len(cs), err)
	}
	for _, tc := range []struct{ good, bad, want string }{
		{"no-such", "HEAD", "--good: no-such is not a commit"},
		{"HEAD~3", "no-such", "--bad: no-such is not a commit"},
		{"HEAD", "HEAD~3", "--good HEAD is not an ancestor of --bad HEAD~3"},
		{"HEAD", "HEAD", "--good and --bad are the same commit"},
	} {
		if _, _, _, err := Range(ctx, dir, tc.good, tc.bad); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Range %s..%s: %v, want %q", tc.good, tc.bad, err, tc.want)
		}
	}
}
