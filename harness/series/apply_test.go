package series

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// isolate makes git see no user or system config, so the tests neither
// depend on nor find an identity: Apply must bring its own.
func isolate(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	t.Setenv("HOME", t.TempDir())
	t.Setenv("GIT_CONFIG_GLOBAL", "/dev/null")
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	for _, k := range []string{"GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL", "GIT_DIR", "GIT_WORK_TREE"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
}

// run runs a setup command in dir as a known user.
func run(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=Test User", "-c", "user.email=test@example.org", "-c", "init.defaultBranch=main"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const aC = "int a;\nint x = 1;\nint y;\n"

// fixture is a user's repo: tag base, a branch feature with three commits
// on it (change b.c, change a.c, add d.c), main one commit past base that
// changes a.c's same line, and a user mid-work: a stash, an extra branch,
// an unstaged edit and an untracked file. patches holds format-patch
// files of base..feature.
type fixture struct {
	repo, patches string
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	isolate(t)
	root := t.TempDir()
	repo := filepath.Join(root, "linux")
	os.MkdirAll(repo, 0o755)
	run(t, repo, "init", "-q")
	write(t, filepath.Join(repo, "a.c"), aC)
	write(t, filepath.Join(repo, "b.c"), "int b = 0;\n")
	write(t, filepath.Join(repo, "net", "c.c"), "int c = 0;\n")
	run(t, repo, "add", ".")
	run(t, repo, "commit", "-q", "-m", "base: initial")
	run(t, repo, "tag", "base")

	run(t, repo, "checkout", "-q", "-b", "feature")
	write(t, filepath.Join(repo, "b.c"), "int b = 1;\n")
	run(t, repo, "commit", "-q", "-am", "tcp: change b")
	write(t, filepath.Join(repo, "a.c"), strings.Replace(aC, "x = 1", "x = 2", 1))
	run(t, repo, "commit", "-q", "-am", "tcp: change a")
	write(t, filepath.Join(repo, "net", "d.c"), "int d;\n")
	run(t, repo, "add", "net/d.c")
	run(t, repo, "commit", "-q", "-m", "tcp: add d")

	run(t, repo, "checkout", "-q", "main")
	write(t, filepath.Join(repo, "a.c"), strings.Replace(aC, "x = 1", "x = 99", 1))
	run(t, repo, "commit", "-q", "-am", "main: change a")

	patches := filepath.Join(root, "patches")
	run(t, repo, "format-patch", "-q", "-o", patches, "base..feature")

	run(t, repo, "branch", "topic")
	write(t, filepath.Join(repo, "net", "c.c"), "int c = 1; /* stashed */\n")
	run(t, repo, "stash", "-q")
	write(t, filepath.Join(repo, "net", "c.c"), "int c = 2; /* unstaged */\n")
	write(t, filepath.Join(repo, "notes.txt"), "untracked\n")
	return fixture{repo: repo, patches: patches}
}

// state is what the user would see of their repo.
func (f fixture) state(t *testing.T) []string {
	t.Helper()
	return []string{
		run(t, f.repo, "status", "--porcelain"),
		run(t, f.repo, "rev-parse", "HEAD"),
		run(t, f.repo, "branch", "--list"),
		run(t, f.repo, "stash", "list"),
		run(t, f.repo, "rev-parse", "--symbolic-full-name", "HEAD"),
		read(t, filepath.Join(f.repo, "net", "c.c")),
	}
}

func (f fixture) untouched(t *testing.T, before []string) {
	t.Helper()
	if after := f.state(t); !reflect.DeepEqual(before, after) {
		t.Errorf("user repo changed:\nbefore %q\nafter  %q", before, after)
	}
}

func (f fixture) worktrees(t *testing.T) int {
	t.Helper()
	return strings.Count(run(t, f.repo, "worktree", "list", "--porcelain"), "worktree ")
}

func TestLoadDirAndRange(t *testing.T) {
	f := newFixture(t)
	d := load(t, f.patches, "")
	if d.Source != SourceDir || d.Total != 3 {
		t.Fatalf("source %q total %d", d.Source, d.Total)
	}
	want := []string{"tcp: change b", "tcp: change a", "tcp: add d"}
	if got := subjects(d); !reflect.DeepEqual(got, want) {
		t.Fatalf("dir subjects %q", got)
	}
	r := load(t, "base..feature", f.repo)
	if r.Source != SourceRange || !reflect.DeepEqual(subjects(r), want) || !reflect.DeepEqual(numbers(r), []int{1, 2, 3}) {
		t.Fatalf("range: %q %q %v", r.Source, subjects(r), numbers(r))
	}
	// Same diffs, however they were taken in.
	if d.Digest() != r.Digest() {
		t.Errorf("dir and range digests differ")
	}
	one := load(t, "feature~1..feature", f.repo)
	if len(one.Patches) != 1 || one.Total != 1 || one.Patches[0].Subject != "tcp: add d" {
		t.Errorf("one-commit range: %+v", one.Patches)
	}
	if _, err := Load(context.Background(), "feature..feature", f.repo); err == nil || !strings.Contains(err.Error(), "has no commits") {
		t.Errorf("empty range: %v", err)
	}
	if _, err := Load(context.Background(), "nosuch..feature", f.repo); err == nil {
		t.Errorf("bad range loaded")
	}
}

func TestApply(t *testing.T) {
	f := newFixture(t)
	before := f.state(t)
	s := load(t, f.patches, "")
	wt := filepath.Join(t.TempDir(), "cache", "worktrees", "linux")
	var log strings.Builder
	a, err := Apply(context.Background(), f.repo, "base", wt, s, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if a.Base != run(t, f.repo, "rev-parse", "base") || a.BaseSubject != "base: initial" || a.Dir != wt {
		t.Errorf("base %s %q dir %s", a.Base, a.BaseSubject, a.Dir)
	}
	if len(a.Patches) != 3 {
		t.Fatalf("%+v", a.Patches)
	}
	for i, p := range a.Patches {
		if p.State != StateApplied || p.Number != i+1 || p.Total != 3 || len(p.Commit) != 40 || p.Version != 1 {
			t.Errorf("patch %d: %+v", i+1, p)
		}
	}
	if a.Head != a.Patches[2].Commit || a.Head != run(t, wt, "rev-parse", "HEAD") {
		t.Errorf("head %s", a.Head)
	}
	if got := run(t, wt, "log", "--format=%s|%an", "base..HEAD"); got != "tcp: add d|Test User\ntcp: change a|Test User\ntcp: change b|Test User" {
		t.Errorf("worktree log:\n%s", got)
	}
	if got := run(t, wt, "log", "-1", "--format=%cn"); got != "harness" {
		t.Errorf("committer %q", got)
	}
	if read(t, filepath.Join(wt, "a.c")) != strings.Replace(aC, "x = 1", "x = 2", 1) || read(t, filepath.Join(wt, "net", "d.c")) != "int d;\n" || read(t, filepath.Join(wt, "net", "c.c")) != "int c = 0;\n" {
		t.Errorf("worktree files not as the series left them")
	}
	if run(t, wt, "status", "--porcelain") != "" {
		t.Errorf("worktree dirty")
	}
	f.untouched(t, before)

	// Again into the same folder: the old worktree is replaced.
	a2, err := Apply(context.Background(), f.repo, "base", wt, s, nil)
	if err != nil || len(a2.Patches) != 3 {
		t.Fatalf("second apply: %v", err)
	}
	if n := f.worktrees(t); n != 2 {
		t.Errorf("%d worktrees", n)
	}
	if err := Remove(context.Background(), f.repo, wt); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(wt); !os.IsNotExist(err) || f.worktrees(t) != 1 {
		t.Errorf("worktree left after Remove: %v", err)
	}
	f.untouched(t, before)
}

// main changed a.c's line too: patch 2 conflicts there.
func TestApplyConflict(t *testing.T) {
	f := newFixture(t)
	before := f.state(t)
	s := load(t, f.patches, "")
	wt := filepath.Join(t.TempDir(), "wt")
	_, err := Apply(context.Background(), f.repo, "", wt, s, nil)
	var ce *ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("want a ConflictError, got %v", err)
	}
	if ce.Patch.Number != 2 || ce.Patch.Total != 3 || ce.Patch.Subject != "tcp: change a" || ce.Patch.State != StateConflict {
		t.Errorf("patch %+v", ce.Patch)
	}
	if !reflect.DeepEqual(ce.Files, []string{"a.c"}) {
		t.Errorf("files %q\n%s", ce.Files, ce.Output)
	}
	if len(ce.Applied) != 1 || ce.Applied[0].Subject != "tcp: change b" || ce.Applied[0].State != StateApplied {
		t.Errorf("applied before it: %+v", ce.Applied)
	}
	head := run(t, f.repo, "rev-parse", "main")
	want := `patch 2/3 "tcp: change a" does not apply to ` + head[:12] + ` (main: change a): conflicts in a.c`
	if err.Error() != want {
		t.Errorf("error\n got %s\nwant %s", err, want)
	}
	if _, err := os.Stat(wt); !os.IsNotExist(err) {
		t.Errorf("worktree left behind: %v", err)
	}
	if n := f.worktrees(t); n != 1 {
		t.Errorf("%d worktrees registered", n)
	}
	f.untouched(t, before)
}

// A patch whose blobs the tree lacks cannot fall back to a merge: the
// file comes from git apply's own error lines.
func TestApplyConflictNoMergeBase(t *testing.T) {
	f := newFixture(t)
	before := f.state(t)
	mbox := filepath.Join(t.TempDir(), "p.mbox")
	write(t, mbox, `From 1111111111111111111111111111111111111111 Mon Sep 17 00:00:00 2001
From: A Dev <dev@example.org>
Date: Tue, 3 Jun 2025 10:00:00 +0000
Subject: [PATCH] tcp: elsewhere

Made on another tree.
---
diff --git a/a.c b/a.c
index 1111111..2222222 100644
--- a/a.c
+++ b/a.c
@@ -1,3 +1,3 @@
 int a;
-int x = 7;
+int x = 8;
 int y;
`)
	wt := filepath.Join(t.TempDir(), "wt")
	_, err := Apply(context.Background(), f.repo, "main", wt, load(t, mbox, ""), nil)
	var ce *ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("want a ConflictError, got %v", err)
	}
	if !reflect.DeepEqual(ce.Files, []string{"a.c"}) || !strings.HasPrefix(err.Error(), `patch 1/1 "tcp: elsewhere" does not apply to `) || !strings.HasSuffix(err.Error(), "(main: change a): conflicts in a.c") {
		t.Errorf("%v\n%s", err, ce.Output)
	}
	if _, err := os.Stat(wt); !os.IsNotExist(err) {
		t.Errorf("worktree left behind: %v", err)
	}
	f.untouched(t, before)
}

// The base already has patch 1: it is skipped and recorded as such.
func TestApplyAlreadyPresent(t *testing.T) {
	f := newFixture(t)
	before := f.state(t)
	s := load(t, f.patches, "")
	wt := filepath.Join(t.TempDir(), "wt")
	a, err := Apply(context.Background(), f.repo, "feature~2", wt, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, p := range a.Patches {
		states = append(states, p.State)
	}
	if !reflect.DeepEqual(states, []string{StateAlreadyPresent, StateApplied, StateApplied}) {
		t.Fatalf("states %q", states)
	}
	if a.Patches[0].Commit != "" || a.Base != run(t, f.repo, "rev-parse", "feature~2") {
		t.Errorf("%+v", a)
	}
	if got := run(t, wt, "rev-list", "--count", a.Base+"..HEAD"); got != "2" {
		t.Errorf("%s commits on the base", got)
	}
	f.untouched(t, before)
	Remove(context.Background(), f.repo, wt)
}

func TestApplyNoSeries(t *testing.T) {
	f := newFixture(t)
	wt := filepath.Join(t.TempDir(), "wt")
	a, err := Apply(context.Background(), f.repo, "", wt, load(t, "", ""), nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.Head != a.Base || a.BaseSubject != "main: change a" || len(a.Patches) != 0 {
		t.Errorf("%+v", a)
	}
	if read(t, filepath.Join(wt, "a.c")) != strings.Replace(aC, "x = 1", "x = 99", 1) {
		t.Errorf("worktree is not at HEAD")
	}
	Remove(context.Background(), f.repo, wt)
}

// A run killed while git checks the worktree out leaves a folder with
// files and a .git file but no marker; the claim beside it lets the next
// run remove it.
func TestApplyAfterKilledCheckout(t *testing.T) {
	f := newFixture(t)
	wt := filepath.Join(t.TempDir(), "wt")
	write(t, filepath.Join(wt, "half.c"), "half\n")
	write(t, filepath.Join(wt, ".git"), "gitdir: "+filepath.Join(f.repo, ".git/worktrees/wt")+"\n")
	if _, err := Apply(context.Background(), f.repo, "", wt, nil, nil); err == nil || !strings.Contains(err.Error(), "is not a worktree the harness made") {
		t.Fatalf("without a claim: %v", err)
	}
	write(t, claim(wt), "claimed\n")
	a, err := Apply(context.Background(), f.repo, "", wt, load(t, "", ""), nil)
	if err != nil {
		t.Fatalf("with a claim: %v", err)
	}
	if _, err := os.Stat(filepath.Join(wt, "half.c")); err == nil {
		t.Error("the unfinished checkout's files are still there")
	}
	if _, err := os.Stat(claim(wt)); err == nil {
		t.Error("the claim outlived the checkout")
	}
	if a.Head != a.Base {
		t.Errorf("%+v", a)
	}
	if err := Remove(context.Background(), f.repo, wt); err != nil {
		t.Error(err)
	}
}

func TestApplyRefusesForeignFolder(t *testing.T) {
	f := newFixture(t)
	dir := filepath.Join(t.TempDir(), "mine")
	write(t, filepath.Join(dir, "keep.txt"), "precious\n")
	_, err := Apply(context.Background(), f.repo, "", dir, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "is not a worktree the harness made") {
		t.Fatalf("%v", err)
	}
	if read(t, filepath.Join(dir, "keep.txt")) != "precious\n" {
		t.Error("foreign folder touched")
	}
	// The user's own worktree, with work in it, and their checkout are
	// neither replaced nor removed.
	own := filepath.Join(t.TempDir(), "own")
	run(t, f.repo, "worktree", "add", "-q", own, "topic")
	write(t, filepath.Join(own, "wip.c"), "wip\n")
	before := f.state(t)
	for _, d := range []string{own, f.repo} {
		if _, err := Apply(context.Background(), f.repo, "", d, nil, nil); err == nil || !strings.Contains(err.Error(), "is not a worktree the harness made") {
			t.Errorf("apply into %s: %v", d, err)
		}
		if err := Remove(context.Background(), f.repo, d); err == nil {
			t.Errorf("removed %s", d)
		}
	}
	if read(t, filepath.Join(own, "wip.c")) != "wip\n" || f.worktrees(t) != 2 {
		t.Error("user's worktree touched")
	}
	f.untouched(t, before)
	if _, err := Apply(context.Background(), f.repo, "nosuch", filepath.Join(t.TempDir(), "wt"), nil, nil); err == nil || !strings.HasPrefix(err.Error(), "base nosuch in ") {
		t.Errorf("bad base: %v", err)
	}
}

// TestApplyReusesWorktree: a second Apply into the harness's worktree of
// the same tree moves it with git instead of checking it out anew, so
// files that do not differ keep their times; whatever was left in it
// (an edit, a stray file) is gone.
func TestApplyReusesWorktree(t *testing.T) {
	f := newFixture(t)
	before := f.state(t)
	s := load(t, f.patches, "")
	wt := filepath.Join(t.TempDir(), "trees", "x", "src")
	if _, err := Apply(context.Background(), f.repo, "base", wt, s, nil); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	for _, p := range []string{"net/c.c", "a.c"} {
		if err := os.Chtimes(filepath.Join(wt, p), old, old); err != nil {
			t.Fatal(err)
		}
	}
	write(t, filepath.Join(wt, "b.c"), "local edit\n")
	write(t, filepath.Join(wt, "stray.o"), "x")

	// Only the first patch this time: a.c must change back, c.c not at all.
	one := *s
	one.Patches = s.Patches[:1]
	var log strings.Builder
	a, err := Apply(context.Background(), f.repo, "base", wt, &one, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if !strings.Contains(log.String(), "moved to") {
		t.Errorf("worktree made anew, not moved:\n%s", log.String())
	}
	if len(a.Patches) != 1 || a.Head != run(t, wt, "rev-parse", "HEAD") {
		t.Errorf("patches %+v head %s", a.Patches, a.Head)
	}
	if fi, _ := os.Stat(filepath.Join(wt, "net", "c.c")); !fi.ModTime().Equal(old) {
		t.Errorf("an unchanged file was written again: %v", fi.ModTime())
	}
	if fi, _ := os.Stat(filepath.Join(wt, "a.c")); fi.ModTime().Equal(old) || read(t, filepath.Join(wt, "a.c")) != aC {
		t.Errorf("a.c not back at base")
	}
	if read(t, filepath.Join(wt, "b.c")) != "int b = 1;\n" {
		t.Errorf("local edit kept")
	}
	if _, err := os.Stat(filepath.Join(wt, "stray.o")); !os.IsNotExist(err) {
		t.Errorf("stray file kept")
	}
	if n := f.worktrees(t); n != 2 {
		t.Errorf("%d worktrees", n)
	}
	Remove(context.Background(), f.repo, wt)
	f.untouched(t, before)
}
