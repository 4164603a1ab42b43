package ghactions

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
)

// repoRoot is the folder of go.mod above the test's folder.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's folder")
		}
		dir = parent
	}
}

// Every workflow of the repository passes actionlint: syntax, expressions
// and their types, action inputs, runner labels, matrix use.
func TestWorkflowsLint(t *testing.T) {
	root := repoRoot(t)
	files, err := filepath.Glob(filepath.Join(root, ".github", "workflows", "*.y*ml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 {
		t.Fatalf("want the repository's test workflow and the one for kernel projects in .github/workflows, found %v", files)
	}
	l, err := actionlint.NewLinter(io.Discard, &actionlint.LinterOptions{
		// shellcheck and pyflakes are programs of their own, not Go
		// modules: with them the result would depend on the machine.
		// Empty leaves them out; actionlint's own checks all run.
		Shellcheck: "",
		Pyflakes:   "",
		WorkingDir: root,
	})
	if err != nil {
		t.Fatal(err)
	}
	errs, err := l.LintFiles(files, nil)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	if len(msgs) > 0 {
		t.Errorf("actionlint:\n%s", strings.Join(msgs, "\n"))
	}
}

// The linter is not a rubber stamp: a broken workflow fails.
func TestWorkflowsLintCatches(t *testing.T) {
	l, err := actionlint.NewLinter(io.Discard, &actionlint.LinterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bad := "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ matrix.nope }}\n"
	errs, err := l.Lint("bad.yml", []byte(bad), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) == 0 {
		t.Error("actionlint passed a workflow that uses an undefined matrix value")
	}
}
