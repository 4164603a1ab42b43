package series

import (
	"context"
	"fmt"
	"strings"
)

// Commit is one commit of a tree's history.
type Commit struct {
	Hash    string
	Subject string
}

// CommitOf is the commit rev names in tree.
func CommitOf(ctx context.Context, tree, rev string) (Commit, error) {
	out, err := gitOutput(ctx, gitTimeout, tree, nil, "log", "-1", "--format=%H%x1f%s", "--end-of-options", rev+"^{commit}", "--")
	if err != nil {
		return Commit{}, fmt.Errorf("%s is not a commit of %s: %s", rev, tree, strings.TrimSpace(out))
	}
	h, s, _ := strings.Cut(strings.TrimSpace(out), "\x1f")
	return Commit{Hash: h, Subject: s}, nil
}

// IsAncestor says whether commit a is an ancestor of commit b in tree.
func IsAncestor(ctx context.Context, tree, a, b string) bool {
	_, err := git(ctx, gitTimeout, tree, nil, "merge-base", "--is-ancestor", a, b)
	return err == nil
}

// FirstParents lists good..bad along first parents, oldest first.
func FirstParents(ctx context.Context, tree, good, bad string) ([]Commit, error) {
	out, err := git(ctx, gitTimeout, tree, nil, "log", "--reverse", "--first-parent", "--format=%H%x1f%s", good+".."+bad, "--")
	if err != nil {
		return nil, fmt.Errorf("list %s..%s in %s: %w", good, bad, tree, err)
	}
	var cs []Commit
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if h, s, ok := strings.Cut(l, "\x1f"); ok {
			cs = append(cs, Commit{Hash: h, Subject: s})
		}
	}
	return cs, nil
}

// Range is good..bad of tree, along first parents, oldest first, with
// both ends resolved; the errors say which option to fix.
func Range(ctx context.Context, tree, good, bad string) (g, b Commit, commits []Commit, err error) {
	if g, err = CommitOf(ctx, tree, good); err != nil {
		return g, b, nil, fmt.Errorf("--good: %w", err)
	}
	if b, err = CommitOf(ctx, tree, bad); err != nil {
		return g, b, nil, fmt.Errorf("--bad: %w", err)
	}
	if !IsAncestor(ctx, tree, g.Hash, b.Hash) {
		return g, b, nil, fmt.Errorf("--good %s is not an ancestor of --bad %s: give a good commit older than the bad one", good, bad)
	}
	if commits, err = FirstParents(ctx, tree, g.Hash, b.Hash); err != nil {
		return g, b, nil, err
	}
	if len(commits) == 0 {
		return g, b, nil, fmt.Errorf("--good and --bad are the same commit %s: nothing to bisect", g.Hash[:min(12, len(g.Hash))])
	}
	return g, b, commits, nil
}
