package guest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kernel-harness/harness/harness/testprogsout"
	"github.com/kernel-harness/harness/harness/wire"
)

// TestRunSelftests runs a stand-in test_progs the way the agent runs the
// real one, and wants its output, -J file and exit in one event.
func TestRunSelftests(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "harness/selftests")
	os.MkdirAll(dir, 0o755)
	// Prints its arguments, writes the -J file, and fails as test_progs
	// does when a test failed.
	script := `#!/bin/sh
echo "args: $*"
echo "#1/1    t/sub:FAIL"
while [ $# -gt 0 ]; do case "$1" in -J) shift; printf '{"failed":1}' > "$1";; esac; shift; done
exit 1
`
	if err := os.WriteFile(filepath.Join(dir, "test_progs"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	plan, _ := json.Marshal(wire.SelftestsPlan{Dir: "/harness/selftests", Args: []string{"-t", "tcp_hdr_options"}, TimeoutS: 30})
	os.WriteFile(filepath.Join(root, wire.SelftestsPlanPath), plan, 0o644)

	sp, ok, err := readSelftests(root)
	if !ok || err != nil {
		t.Fatalf("plan: ok %v, %v", ok, err)
	}
	var buf bytes.Buffer
	a := &agent{out: wire.NewWriter(&buf), files: root}
	if err := a.runSelftests(sp); err != nil {
		t.Fatal(err)
	}
	evs, err := wire.ReadAll(&buf)
	if err != nil {
		t.Fatal(err)
	}
	last := evs[len(evs)-1]
	if last.Kind != wire.TestProgs || last.OK {
		t.Fatalf("last event %+v: want a failed test_progs run", last)
	}
	var out testprogsout.Output
	if err := json.Unmarshal([]byte(last.Message), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.Stdout, "args: -t tcp_hdr_options -J ") || !strings.Contains(out.Stdout, "t/sub:FAIL") {
		t.Errorf("stdout: %q", out.Stdout)
	}
	if out.JSON != `{"failed":1}` || out.Exit != "exit status 1" {
		t.Errorf("json %q, exit %q", out.JSON, out.Exit)
	}
}

func TestNoSelftestsPlan(t *testing.T) {
	if _, ok, err := readSelftests(t.TempDir()); ok || err != nil {
		t.Fatalf("no plan: ok %v, %v", ok, err)
	}
}
