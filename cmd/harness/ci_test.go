package main

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/kernel-harness/harness/harness/run"
	"github.com/kernel-harness/harness/harness/scenario"
)

// Bad --shard values stop the run before anything is done: exit 2.
func TestRunRefusesBadShard(t *testing.T) {
	for _, s := range []string{"0/2", "3/2", "x/y", "2", "1/0"} {
		if got := execute([]string{"run", "--shard", s, "--out", t.TempDir()}, io.Discard, io.Discard); got != 2 {
			t.Errorf("harness run --shard %s: exit %d, want 2", s, got)
		}
	}
}

func TestJobHeading(t *testing.T) {
	o := run.Options{Shard: scenario.Shard{I: 2, N: 3}}
	o.Build.Tree, o.Build.Profile = ".", "debug"
	if got, want := jobHeading(o), "shard 2/3, debug profile"; got != want {
		t.Errorf("heading %q, want %q", got, want)
	}
	if got := jobHeading(run.Options{}); got != "" {
		t.Errorf("heading without shard or tree %q, want none", got)
	}
}

// Under GitHub Actions a run that could not be done is annotated with
// the verb that ran.
func TestAnnotationNamesVerb(t *testing.T) {
	t.Setenv("GITHUB_ACTIONS", "true")
	t.Setenv("GITHUB_STEP_SUMMARY", "")
	var out strings.Builder
	p := &run.Plan{Options: run.Options{Progress: &out, Out: t.TempDir()}}
	githubActions("selftests", p)(nil, errors.New("clang-19 is missing"))
	if !strings.Contains(out.String(), "::error title=harness selftests could not be done::clang-19 is missing") {
		t.Errorf("annotation:\n%s", out.String())
	}
}
