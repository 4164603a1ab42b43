package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// linuxTarball is what Debian's linux-source-6.12 installs.
const linuxTarball = "/usr/src/linux-source-6.12.tar.xz"

// linuxTree returns a git repository of Debian's linux-source-6.12 in the
// cache, made once per machine by scripts/example-tree, as make run does.
func linuxTree(tb testing.TB) string {
	tb.Helper()
	skipShort(tb, "needs the 6.12 tree and builds kernels")
	if _, err := os.Stat(linuxTarball); err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("%s missing in CI: %v", linuxTarball, err)
		}
		tb.Skipf("%s is not installed: run make deps-build (apt-get install linux-source-6.12)", linuxTarball)
	}
	script, err := filepath.Abs("../../scripts/example-tree")
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(script)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("scripts/example-tree: %v\n%s", err, stderr.String())
	}
	if stderr.Len() > 0 {
		tb.Log(strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out))
}
