package run

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/vm"
)

func TestParseConfig(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{in: "", want: ""},
		{in: "# my harness\nbackend = vng\n", want: "vng"},
		{in: "backend=qemu # not vng today", want: "qemu"},
		{in: "backend vng", err: "cfg:1: want key = value"},
		{in: "\nbackends = vng", err: `cfg:2: unknown key "backends"`},
	}
	for _, tt := range tests {
		got, _, err := parseConfig(strings.NewReader(tt.in), "cfg")
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: want error %q, got %v", tt.in, tt.err, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q: got %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

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
	t.Setenv(BackendEnv, "")
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	if config != "" {
		os.MkdirAll(filepath.Join(cfg, "harness"), 0o755)
		if err := os.WriteFile(filepath.Join(cfg, "harness", "config"), []byte(config), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestChooseBackend(t *testing.T) {
	tests := []struct {
		name      string
		asked     string
		installed bool
		config    string
		env       string
		want      string
		err       string
	}{
		{name: "auto without config is qemu", asked: BackendAuto, installed: true, want: BackendQEMU},
		{name: "auto with config vng and vng installed", asked: BackendAuto, installed: true, config: "backend = vng", want: BackendVNG},
		{name: "auto with config vng and no vng", asked: BackendAuto, config: "backend = vng", want: BackendQEMU},
		{name: "the environment over the config", asked: BackendAuto, installed: true, config: "backend = vng", env: "qemu", want: BackendQEMU},
		{name: "--backend vng without vng", asked: BackendVNG, err: "pipx install virtme-ng"},
		{name: "--backend qemu whatever the config says", asked: BackendQEMU, installed: true, config: "backend = vng", want: BackendQEMU},
		{name: "a bad value", asked: "docker", err: `--backend "docker"`},
		{name: "a bad config value", asked: BackendAuto, config: "backend = docker", err: `backend "docker"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			withVNG(t, tt.installed, tt.config)
			if tt.env != "" {
				t.Setenv(BackendEnv, tt.env)
			}
			got, why, err := chooseBackend(tt.asked)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("want error %q, got %v", tt.err, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q (%s), %v; want %q", got, why, err, tt.want)
			}
		})
	}
}

// fakeVNG stands in for virtme-ng: it plays a recorded run's events back
// into the file the agent command names.
const fakeVNG = `#!/bin/sh
echo "fake vng $*"
while [ $# -gt 0 ]; do case "$1" in --exec) shift; cmd="$1";; esac; shift; done
set -- $cmd
while [ $# -gt 0 ]; do case "$1" in --events) shift; ev="$1";; esac; shift; done
cp "$REPLAY" "$ev"
`

// TestVNGBackendSameReport runs the pipeline on the vng backend with the
// events of a real QEMU run, and wants QEMU's report: analysis and report
// are shared, only the boot differs.
func TestVNGBackendSameReport(t *testing.T) {
	withVNG(t, true, "")
	replay, _ := filepath.Abs("testdata/vng/events.jsonl")
	t.Setenv("REPLAY", replay)
	img := filepath.Join(t.TempDir(), "bzImage")
	b := make([]byte, 0x400)
	copy(b[0x202:], "HdrS")
	binary.LittleEndian.PutUint16(b[0x20e:], 0x300-0x200)
	copy(b[0x300:], "6.12.117+ (builder) #1 SMP\x00")
	if err := os.WriteFile(img, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	rep, err := Run(context.Background(), Options{
		Kernel: img, Out: out, Scenario: "^split-frame$", Backend: BackendVNG, Accel: vm.AccelTCG,
		Init: img, // any file: the stand-in never runs it
		CPUs: 2, MemoryMB: 512, Repeat: 1,
		Deadlines: vm.Deadlines{Boot: time.Minute, Idle: time.Minute, Run: time.Minute},
	})
	if err != nil {
		t.Fatal(err)
	}
	var want struct {
		Verdict   string            `json:"verdict"`
		Features  []report.Feature  `json:"features"`
		Scenarios []report.Scenario `json:"scenarios"`
	}
	raw, err := os.ReadFile("testdata/vng/qemu-report.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != want.Verdict || !reflect.DeepEqual(rep.Features, want.Features) {
		t.Errorf("verdict %s, features %v; QEMU's: %s, %v", rep.Verdict, rep.Features, want.Verdict, want.Features)
	}
	if !reflect.DeepEqual(rep.Scenarios, want.Scenarios) {
		g, _ := json.MarshalIndent(rep.Scenarios, "", " ")
		t.Errorf("scenarios differ from QEMU's:\n%s", g)
	}
	if rep.Boot.Machine != "vng" || rep.Kernel.Accel != vm.AccelTCG {
		t.Errorf("boot %+v, accel %s", rep.Boot, rep.Kernel.Accel)
	}
	con, _ := os.ReadFile(filepath.Join(out, "console.log"))
	if !strings.Contains(string(con), "--disable-kvm") || !strings.Contains(string(con), "--rwdir "+filepath.Join(out, "vng")) {
		t.Errorf("vng's command line, as the stand-in printed it: %s", con)
	}
}
