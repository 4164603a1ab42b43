package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// portVersion is the Linux release of the bundled example's tree, and
// port our series for it (selftests/series); port + "-no-ofo" is its
// negative control.
const (
	portVersion = "7.3"
	port        = "rcvq-" + portVersion
	// portPatches is how many patches port has, cover letter aside.
	portPatches = 10
)

// linuxTree returns a git repository of Debian's linux-source-7.3 in the
// cache, made once per machine by scripts/example-tree (which downloads
// the package through a private apt configuration), as make run does.
func linuxTree(tb testing.TB) string {
	tb.Helper()
	skipShort(tb, "needs the "+portVersion+" tree and builds kernels")
	script, err := filepath.Abs("../../scripts/example-tree")
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(script, portVersion)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("scripts/example-tree %s: %v\n%s", portVersion, err, stderr.String())
	}
	if stderr.Len() > 0 {
		tb.Log(strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out))
}

// TestDebianPackageRefusals: scripts/debian-package says what to do when
// it cannot get a package (no mirror answers, a name it cannot take), and
// leaves the machine's apt configuration alone.
func TestDebianPackageRefusals(t *testing.T) {
	if _, err := exec.LookPath("apt-get"); err != nil {
		t.Skip("apt-get is missing: this test needs a Debian machine")
	}
	script, err := filepath.Abs("../../scripts/debian-package")
	if err != nil {
		t.Fatal(err)
	}
	etc := aptState(t)
	for _, c := range []struct {
		name, suite, pkg, mirror string
		code                     int
		want                     string
	}{
		{"no network", "sid", "virtme-ng", "http://127.0.0.1:9/debian", 1, "check the network and the suite's name"},
		{"a name it cannot take", "sid; rm", "virtme-ng", "", 2, "suite and package names are lowercase letters"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(script, c.suite, c.pkg)
			cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+t.TempDir(), "HARNESS_DEBIAN_MIRROR="+c.mirror)
			out, err := cmd.CombinedOutput()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != c.code || !strings.Contains(string(out), c.want) {
				t.Errorf("exit %d, want %d with %q:\n%s", code, c.code, c.want, out)
			}
		})
	}
	if after := aptState(t); after != etc {
		t.Errorf("/etc/apt changed:\nbefore:\n%s\nafter:\n%s", etc, after)
	}
}

// aptState lists /etc/apt's files with their sizes and times.
func aptState(t testing.TB) string {
	var b strings.Builder
	filepath.Walk("/etc/apt", func(p string, fi os.FileInfo, err error) error {
		if err == nil {
			fmt.Fprintf(&b, "%s %d %s\n", p, fi.Size(), fi.ModTime())
		}
		return nil
	})
	return b.String()
}
