package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kernel-harness/harness/harness/kernel"
)

// linuxTarball is what Debian's linux-source-6.12 installs.
const linuxTarball = "/usr/src/linux-source-6.12.tar.xz"

// linuxTree returns a git repository of Debian's linux-source-6.12 in the
// cache, made once per machine: one commit of the whole tree, as a kernel
// developer's checkout would be.
func linuxTree(tb testing.TB) string {
	tb.Helper()
	skipShort(tb, "needs the 6.12 tree and builds kernels")
	cache, err := kernel.CacheDir()
	if err != nil {
		tb.Fatal(err)
	}
	dir := filepath.Join(cache, "src", "linux-6.12-git")
	if exec.Command("git", "-C", dir, "rev-parse", "--verify", "HEAD").Run() == nil {
		return dir
	}
	if _, err := os.Stat(linuxTarball); err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("%s missing in CI: %v", linuxTarball, err)
		}
		tb.Skipf("%s is not installed: run make deps (apt-get install linux-source-6.12)", linuxTarball)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		tb.Fatal(err)
	}
	unlock, err := kernel.Lock(filepath.Join(cache, "src", ".lock"))
	if err != nil {
		tb.Fatal(err)
	}
	defer unlock()
	if exec.Command("git", "-C", dir, "rev-parse", "--verify", "HEAD").Run() == nil {
		return dir
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".tree-")
	if err != nil {
		tb.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	tb.Logf("making a git repository of %s in %s (once per machine)", linuxTarball, dir)
	steps := [][]string{
		{"tar", "-xf", linuxTarball, "-C", tmp, "--strip-components=1"},
		{"git", "-C", tmp, "init", "-q", "-b", "master"},
		// -f: Debian's .gitignore ignores every top-level path.
		{"git", "-C", tmp, "add", "-f", "-A"},
		{"git", "-C", tmp, "-c", "user.name=harness", "-c", "user.email=harness@localhost", "commit", "-q", "-m", "Linux 6.12 (Debian linux-source-6.12)"},
	}
	for _, s := range steps {
		if out, err := exec.Command(s[0], s[1:]...).CombinedOutput(); err != nil {
			tb.Fatalf("%s: %v\n%s", strings.Join(s, " "), err, out)
		}
	}
	os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		tb.Fatal(err)
	}
	return dir
}
