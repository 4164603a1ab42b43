package run

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kernel-harness/harness/harness/boot"
	"github.com/kernel-harness/harness/harness/boot/driver"
	"github.com/kernel-harness/harness/harness/boot/vng"
	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/internal/testutil"
)

// fakeVNG stands in for virtme-ng in CI, which cannot install it: it
// replays a transcript of the real vng (testdata/vng/README.md), printing
// its output and putting the events its guest wrote into the file the
// agent command names.
const fakeVNG = `#!/bin/sh
while [ $# -gt 0 ]; do case "$1" in --exec) shift; cmd="$1";; esac; shift; done
set -- $cmd
while [ $# -gt 0 ]; do case "$1" in --events) shift; ev="$1";; esac; shift; done
cat "$REPLAY_OUTPUT"
cp "$REPLAY_EVENTS" "$ev"
`

// withVNG puts a vng (the stand-in) on PATH or leaves it off, and a
// config file asking for backend.
func withVNG(t *testing.T, installed bool, config string) {
	t.Helper()
	bin := t.TempDir()
	if installed {
		if err := os.WriteFile(filepath.Join(bin, "vng"), []byte(fakeVNG), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin+":/usr/bin:/bin")
	t.Setenv(boot.BackendEnv, "")
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	if config != "" {
		os.MkdirAll(filepath.Join(cfg, "harness"), 0o755)
		if err := os.WriteFile(filepath.Join(cfg, "harness", "config"), []byte(config), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// recorded is the part of a recorded report.json a replay must give.
type recorded struct {
	Verdict   string            `json:"verdict"`
	Features  []report.Feature  `json:"features"`
	Scenarios []report.Scenario `json:"scenarios"`
}

func readRecorded(t *testing.T, path string) recorded {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r recorded
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// flagsOf is the flags of a command line, in order, without their values.
func flagsOf(cmdline string) []string {
	var out []string
	for _, f := range strings.Fields(cmdline) {
		if strings.HasPrefix(f, "--") {
			out = append(out, f)
		}
	}
	return out
}

// TestVNGBackendReplaysRealVNG runs the pipeline on the vng backend with
// a transcript of a real vng run (a vng-profile kernel, split-frame, TCG)
// and wants that run's report, the same verdicts as a QEMU run's of the
// same scenario, and the command line the real vng was given.
func TestVNGBackendReplaysRealVNG(t *testing.T) {
	withVNG(t, true, "")
	for env, file := range map[string]string{"REPLAY_OUTPUT": "testdata/vng/vng-output.txt", "REPLAY_EVENTS": "testdata/vng/vng-events.jsonl"} {
		p, _ := filepath.Abs(file)
		t.Setenv(env, p)
	}
	// A vng-profile kernel: an image and the options vng needs beside it.
	dir := t.TempDir()
	img := testutil.FakeBzImage(t, dir, "6.12.117+")
	config := "CONFIG_ACPI=y\n"
	for _, n := range vng.Needs {
		config += n + "=y\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	p, err := Check(context.Background(), Options{
		Kernel: img, Out: out, Scenario: "^split-frame$", Backend: BackendVNG, Accel: driver.AccelTCG,
		Init: img, // any file: the stand-in never runs it
		CPUs: 2, MemoryMB: 512, Repeat: 1,
		Deadlines: driver.Deadlines{Boot: time.Minute, Idle: time.Minute, Run: time.Minute},
	})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	real := readRecorded(t, "testdata/vng/vng-report.json")
	if rep.Verdict != real.Verdict || !reflect.DeepEqual(rep.Features, real.Features) {
		t.Errorf("verdict %s, features %v; the real vng run's: %s, %v", rep.Verdict, rep.Features, real.Verdict, real.Features)
	}
	if !reflect.DeepEqual(rep.Scenarios, real.Scenarios) {
		g, _ := json.MarshalIndent(rep.Scenarios, "", " ")
		t.Errorf("scenarios differ from the real vng run's:\n%s", g)
	}
	qemu := readRecorded(t, "testdata/vng/qemu-report.json")
	if len(rep.Scenarios) != len(qemu.Scenarios) || rep.Verdict != qemu.Verdict {
		t.Fatalf("%d cases, verdict %s; QEMU's run: %d, %s", len(rep.Scenarios), rep.Verdict, len(qemu.Scenarios), qemu.Verdict)
	}
	for i, sc := range rep.Scenarios {
		if q := qemu.Scenarios[i]; sc.ID() != q.ID() || sc.Verdict != q.Verdict {
			t.Errorf("%s: %s under vng, %s: %s under QEMU", sc.ID(), sc.Verdict, q.ID(), q.Verdict)
		}
	}
	if rep.Boot.Machine != "vng" || rep.Kernel.Accel != driver.AccelTCG {
		t.Errorf("boot %+v, accel %s", rep.Boot, rep.Kernel.Accel)
	}
	con, err := os.ReadFile(filepath.Join(out, "console.log"))
	if err != nil {
		t.Fatal(err)
	}
	first, rest, _ := strings.Cut(string(con), "\n")
	recordedCmd, err := os.ReadFile("testdata/vng/vng-command.txt")
	if err != nil {
		t.Fatal(err)
	}
	// The transcript is only worth replaying while the harness passes
	// what the real vng was given; record it again when this changes.
	if got, want := flagsOf(first), flagsOf(string(recordedCmd)); !reflect.DeepEqual(got, want) {
		t.Errorf("the harness passes vng %q; the transcript was recorded with %q", got, want)
	}
	for _, want := range []string{"--rwdir " + filepath.Join(out, "vng"), "--append root=/dev/root"} {
		if !strings.Contains(first, want) {
			t.Errorf("vng's command line lacks %q: %s", want, first)
		}
	}
	// Lines are read as lines: a carriage return before a newline goes.
	output, _ := os.ReadFile("testdata/vng/vng-output.txt")
	if noCR := strings.ReplaceAll(string(output), "\r", ""); !strings.Contains(strings.ReplaceAll(rest, "\r", ""), noCR) {
		t.Errorf("console.log does not hold vng's output")
	}
}
