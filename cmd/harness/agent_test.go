package main

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The agent verb on a machine the harness did not boot refuses before it
// mounts anything; in a guest whose command line has the marker it runs.
func TestAgentOnlyInAGuest(t *testing.T) {
	host := filepath.Join(t.TempDir(), "cmdline")
	os.WriteFile(host, []byte("BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet\n"), 0o644)
	old := procCmdline
	defer func() { procCmdline = old }()
	procCmdline = host
	var out, errb strings.Builder
	code := execute([]string{"agent", "--events", filepath.Join(t.TempDir(), "e.jsonl"), "--files", "/nonexist"}, &out, &errb)
	if code != 2 || !strings.Contains(errb.String(), "runs only as the agent of a guest the harness started") {
		t.Errorf("exit %d, stderr:\n%s", code, errb.String())
	}
	// A command line as vng wrote it (harness/run/testdata/vng).
	const events, files = "/tmp/r18/vng-split/vng/events.jsonl", "/tmp/r18/vng-split/vng"
	exec := base64.StdEncoding.EncodeToString([]byte("/tmp/r18/vng-split/vng/harness-agent agent --events " + events + " --files " + files))
	guest := filepath.Join(t.TempDir(), "cmdline")
	os.WriteFile(guest, []byte("virtme_hostname=virtme-ng console=ttyS0 virtme.exec=`"+exec+"` root=/dev/root\n"), 0o644)
	if err := inGuest(guest, events, files); err != nil {
		t.Errorf("the guest vng started refused: %v", err)
	}
	if err := inGuest(guest, events, "/elsewhere"); err == nil {
		t.Error("another --files passed")
	}
	if err := inGuest(filepath.Join(t.TempDir(), "none"), events, files); err == nil {
		t.Error("no command line at all passed")
	}
}
