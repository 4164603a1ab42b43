package series

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// States of a patch after Apply.
const (
	StateApplied        = "applied"
	StateAlreadyPresent = "already-present"
	StateConflict       = "conflict"
)

// Applied is a worktree with the series on top of the base.
type Applied struct {
	Dir         string
	Base        string // full hash
	BaseSubject string
	Patches     []PatchResult
	Head        string // full hash after the last patch
}

// PatchResult is what became of one patch.
type PatchResult struct {
	Number  int
	Total   int
	Subject string
	Version int
	State   string // applied | already-present | conflict
	Commit  string // the patch's commit; empty when it made none
}

// ConflictError is a patch that git am could not apply, even with a
// three-way merge. The worktree is gone by the time it is returned.
type ConflictError struct {
	Patch       PatchResult
	Base        string
	BaseSubject string
	Applied     []PatchResult // the patches before it
	Files       []string
	Output      string // git am's output
}

func (e *ConflictError) Error() string {
	what := "git am failed"
	if len(e.Files) > 0 {
		what = "conflicts in " + strings.Join(e.Files, ", ")
	} else if l := firstError(e.Output); l != "" {
		what = l
	}
	return fmt.Sprintf("patch %d/%d %q does not apply to %s (%s): %s",
		e.Patch.Number, e.Patch.Total, e.Patch.Subject, short(e.Base), e.BaseSubject, what)
}

// Apply checks out base (default HEAD) of tree as a detached worktree at
// dir and applies the series there with git am -3, one patch at a time.
// A patch already in the base is recorded and skipped; one that does not
// apply ends it with a *ConflictError. On any error the worktree is
// removed. The tree's own checkout, index, branches and stash are not
// touched.
func Apply(ctx context.Context, tree, base, dir string, s *Series, log io.Writer) (*Applied, error) {
	if log == nil {
		log = io.Discard
	}
	if base == "" {
		base = "HEAD"
	}
	if s != nil {
		if err := s.Check(true); err != nil {
			return nil, err
		}
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	hash, subject, err := Resolve(ctx, tree, base)
	if err != nil {
		return nil, err
	}
	a := &Applied{Dir: dir, Base: hash, BaseSubject: subject}

	if reuse(ctx, tree, dir, a.Base, log) {
		fmt.Fprintf(log, "series: worktree %s moved to %s (%s)\n", dir, short(a.Base), a.BaseSubject)
		if err := applyPatches(ctx, tree, dir, s, a, log); err != nil {
			return nil, err
		}
		return a, nil
	}
	if err := clearDir(ctx, tree, dir); err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "series: worktree %s at %s (%s)\n", dir, short(a.Base), a.BaseSubject)
	// The claim says the folder is the harness's while git checks it out,
	// before the marker can be written: a run killed in between leaves a
	// folder the next run knows it may remove.
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(claim(dir), []byte("harness series.Apply is checking out "+dir+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("worktree %s: %w", dir, err)
	}
	if out, err := gitOutput(ctx, checkoutTimeout, tree, nil, "worktree", "add", "--detach", dir, a.Base); err != nil {
		fmt.Fprint(log, out)
		cleanup(tree, dir)
		return nil, fmt.Errorf("worktree %s: %w: %s", dir, err, lastLines(out, 3))
	}
	if err := mark(ctx, dir); err != nil {
		cleanup(tree, dir)
		return nil, fmt.Errorf("worktree %s: %w", dir, err)
	}
	os.Remove(claim(dir))
	if err := applyPatches(ctx, tree, dir, s, a, log); err != nil {
		return nil, err
	}
	return a, nil
}

// applyPatches applies the series with git am -3 on the worktree at dir,
// checked out at a.Base, and records each patch in a.
func applyPatches(ctx context.Context, tree, dir string, s *Series, a *Applied, log io.Writer) error {
	head := a.Base
	var patches []Patch
	if s != nil {
		patches = s.Patches
	}
	for _, p := range patches {
		r := PatchResult{Number: p.Number, Total: p.Total, Subject: p.Subject, Version: p.Version}
		out, amErr := gitOutput(ctx, amTimeout, dir, p.Raw, "am", "-3", "--keep-cr")
		fmt.Fprintf(log, "series: git am %d/%d %s\n%s", p.Number, p.Total, p.Subject, out)
		if errors.Is(amErr, context.DeadlineExceeded) || errors.Is(amErr, context.Canceled) {
			cleanup(tree, dir)
			return fmt.Errorf("apply %d/%d: %w", p.Number, p.Total, amErr)
		}
		if amErr != nil && alreadyApplied(out) {
			// Older gits stop on a patch that changes nothing.
			if _, err := git(ctx, amTimeout, dir, nil, "am", "--skip"); err != nil {
				cleanup(tree, dir)
				return fmt.Errorf("apply %d/%d: %w", p.Number, p.Total, err)
			}
			amErr = nil
		}
		if amErr != nil {
			r.State = StateConflict
			files := conflictFiles(ctx, dir, out)
			if _, err := git(ctx, amTimeout, dir, nil, "am", "--abort"); err != nil {
				fmt.Fprintf(log, "series: git am --abort: %v\n", err)
			}
			cleanup(tree, dir)
			return &ConflictError{Patch: r, Base: a.Base, BaseSubject: a.BaseSubject, Applied: a.Patches, Files: files, Output: strings.TrimSpace(out)}
		}
		now, err := git(ctx, gitTimeout, dir, nil, "rev-parse", "HEAD")
		if err != nil {
			cleanup(tree, dir)
			return fmt.Errorf("apply %d/%d: %w", p.Number, p.Total, err)
		}
		now = strings.TrimSpace(now)
		if now == head {
			r.State = StateAlreadyPresent
		} else {
			r.State, r.Commit, head = StateApplied, now, now
		}
		fmt.Fprintf(log, "series: %d/%d %s\n", p.Number, p.Total, r.State)
		a.Patches = append(a.Patches, r)
	}
	a.Head = head
	return nil
}

// Resolve is the commit base (default HEAD) names in tree, and its
// subject.
func Resolve(ctx context.Context, tree, base string) (hash, subject string, err error) {
	if base == "" {
		base = "HEAD"
	}
	hash, err = git(ctx, gitTimeout, tree, nil, "rev-parse", "--verify", "--end-of-options", base+"^{commit}")
	if err != nil {
		return "", "", fmt.Errorf("base %s in %s: %w", base, tree, err)
	}
	hash = strings.TrimSpace(hash)
	subject, err = git(ctx, gitTimeout, tree, nil, "log", "-1", "--format=%s", hash)
	if err != nil {
		return "", "", fmt.Errorf("base %s: %w", base, err)
	}
	return hash, strings.TrimSpace(subject), nil
}

// Remove deletes a worktree Apply made, for callers that do not keep it.
// Any other folder, the user's own worktrees among them, is refused.
func Remove(ctx context.Context, tree, dir string) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if _, err := os.Lstat(dir); err != nil {
		_, err := git(ctx, gitTimeout, tree, nil, "worktree", "prune")
		return err
	}
	if !ours(ctx, dir) {
		return fmt.Errorf("%s is not a worktree the harness made: not removing it", dir)
	}
	return removeWorktree(ctx, tree, dir)
}

// marker, in a worktree's admin folder (.git/worktrees/<name>), says the
// harness made it. It is outside the checkout, so the worktree stays
// clean, and git worktree prune takes it away with the rest.
const marker = "harness-series"

func mark(ctx context.Context, dir string) error {
	gd, err := git(ctx, gitTimeout, dir, nil, "rev-parse", "--absolute-git-dir")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(strings.TrimSpace(gd), marker), []byte("made by harness series.Apply\n"), 0o644)
}

// claim is the file beside a worktree that says the harness is making it.
func claim(dir string) string {
	return filepath.Join(filepath.Dir(dir), "."+filepath.Base(dir)+".harness-checkout")
}

func ours(ctx context.Context, dir string) bool {
	gd, err := git(ctx, gitTimeout, dir, nil, "rev-parse", "--absolute-git-dir")
	if err != nil {
		return false
	}
	_, err = os.Stat(filepath.Join(strings.TrimSpace(gd), marker))
	return err == nil
}

func removeWorktree(ctx context.Context, tree, dir string) error {
	var rmErr error
	if _, err := git(ctx, checkoutTimeout, tree, nil, "worktree", "remove", "--force", dir); err != nil {
		rmErr = fmt.Errorf("remove worktree %s: %w", dir, err)
	}
	if _, err := git(ctx, gitTimeout, tree, nil, "worktree", "prune"); err != nil && rmErr == nil {
		rmErr = fmt.Errorf("prune worktrees of %s: %w", tree, err)
	}
	return rmErr
}

// cleanup removes the worktree Apply just made after a failure, even when
// ctx is what failed.
func cleanup(tree, dir string) {
	ctx, cancel := context.WithTimeout(context.Background(), checkoutTimeout)
	defer cancel()
	removeWorktree(ctx, tree, dir)
	if _, err := os.Lstat(dir); err != nil {
		os.Remove(claim(dir))
	}
}

// clearDir makes room for the worktree: one the harness left from an
// earlier run is removed, an empty folder is fine, and anything else (a
// user's folder, their checkout or their own worktree) is refused rather
// than deleted.
func clearDir(ctx context.Context, tree, dir string) error {
	if _, err := os.Stat(claim(dir)); err == nil {
		// A checkout of ours that never finished.
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("remove the unfinished worktree %s: %w", dir, err)
		}
		if _, err := git(ctx, gitTimeout, tree, nil, "worktree", "prune"); err != nil {
			return err
		}
		return os.Remove(claim(dir))
	}
	if _, err := os.Lstat(dir); err != nil {
		return nil
	}
	if ours(ctx, dir) {
		if err := removeWorktree(ctx, tree, dir); err != nil {
			return err
		}
		if _, err := os.Lstat(dir); err != nil {
			return nil
		}
	}
	if ents, err := os.ReadDir(dir); err == nil && len(ents) == 0 {
		return nil
	}
	return fmt.Errorf("%s exists and is not a worktree the harness made: remove it or choose another folder", dir)
}

func alreadyApplied(out string) bool {
	return strings.Contains(out, "No changes -- Patch already applied") || strings.Contains(out, "Patch is empty")
}

var (
	// Conflicts a three-way merge left.
	mergeRE = regexp.MustCompile(`(?m)^CONFLICT \([^)]*\): Merge conflict in (.+?)\r?$`)
	// Files whose hunks failed when no three-way merge could be tried
	// (the patch's blobs are not in the tree).
	failedRE = regexp.MustCompile(`(?m)^error: (?:patch failed: (.+):\d+|(.+): does not exist in index|sha1 information is lacking or useless \((.+)\)\.)\r?$`)
)

// conflictFiles names the files a failed am left in conflict. When the
// merge ran, its unmerged files are the answer (a hunk that failed a plain
// apply may have merged cleanly); otherwise the files whose hunks failed.
func conflictFiles(ctx context.Context, dir, out string) []string {
	var files []string
	seen := map[string]bool{}
	add := func(f string) {
		f = strings.TrimSpace(f)
		if f != "" && !seen[f] {
			seen[f] = true
			files = append(files, f)
		}
	}
	if u, err := git(ctx, gitTimeout, dir, nil, "diff", "--name-only", "--diff-filter=U"); err == nil {
		for _, f := range strings.Split(u, "\n") {
			add(f)
		}
	}
	for _, m := range mergeRE.FindAllStringSubmatch(out, -1) {
		add(m[1])
	}
	if len(files) > 0 {
		return files
	}
	for _, m := range failedRE.FindAllStringSubmatch(out, -1) {
		add(m[1] + m[2] + m[3])
	}
	return files
}

// firstError is the first "error:" line of git's output, for a failure
// that named no file (a corrupt patch).
func firstError(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if e, ok := strings.CutPrefix(strings.TrimSpace(l), "error: "); ok {
			return e
		}
	}
	return ""
}

func short(hash string) string {
	if len(hash) > 12 {
		return hash[:12]
	}
	return hash
}

// reuse moves a worktree the harness made of this tree before to base,
// so that git writes only the files that differ: an unchanged source
// keeps its time and make does not rebuild it, and a checkout of a large
// tree takes seconds instead of a minute. Anything left in it (local
// edits, an unfinished git am, files a build wrote) is discarded. It says
// false when dir is not such a worktree or cannot be moved; the caller
// then makes it anew.
func reuse(ctx context.Context, tree, dir, base string, log io.Writer) bool {
	if _, err := os.Stat(claim(dir)); err == nil {
		return false // a checkout that never finished
	}
	if _, err := os.Lstat(dir); err != nil || !ours(ctx, dir) {
		return false
	}
	mine, err1 := git(ctx, gitTimeout, dir, nil, "rev-parse", "--path-format=absolute", "--git-common-dir")
	theirs, err2 := git(ctx, gitTimeout, tree, nil, "rev-parse", "--path-format=absolute", "--git-common-dir")
	if err1 != nil || err2 != nil || strings.TrimSpace(mine) != strings.TrimSpace(theirs) {
		return false
	}
	git(ctx, amTimeout, dir, nil, "am", "--abort") // fails when none is under way
	// Files whose times changed (kbuild's KeepTimes sets old ones) but
	// not their content are refreshed in the index first: checkout -f
	// would otherwise write each of them again.
	git(ctx, checkoutTimeout, dir, nil, "update-index", "-q", "--refresh")
	for _, args := range [][]string{
		{"checkout", "-q", "-f", "--detach", base},
		{"clean", "-q", "-f", "-d", "-x"},
	} {
		if out, err := gitOutput(ctx, checkoutTimeout, dir, nil, args...); err != nil {
			fmt.Fprintf(log, "series: reusing worktree %s: git %s: %v\n%s", dir, args[0], err, out)
			return false
		}
	}
	head, err := git(ctx, gitTimeout, dir, nil, "rev-parse", "HEAD")
	return err == nil && strings.TrimSpace(head) == base
}
