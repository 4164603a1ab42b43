package boot

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kernel-harness/harness/internal/testutil"
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
			got, why, err := ChooseBackend(tt.asked)
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

// withVNG puts a vng (the stand-in) on PATH or leaves it off, and a
// config file asking for backend.
func withVNG(t *testing.T, installed bool, config string) {
	t.Helper()
	bin := t.TempDir()
	if installed {
		if err := os.WriteFile(filepath.Join(bin, "vng"), []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
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

func TestCheckPath(t *testing.T) {
	const spaced = "/tmp/a b/out"
	if err := CheckPath(BackendQEMU, "--out", spaced); err != nil {
		t.Errorf("qemu refused %q: %v", spaced, err)
	}
	if err := CheckPath(BackendVNG, "--out", spaced); err == nil || !strings.Contains(err.Error(), `--out "/tmp/a b/out"`) {
		t.Errorf("vng: %v, want --out %q refused", err, spaced)
	}
	if err := CheckPath(BackendVNG, "--kernel", "/tmp/k/bzImage"); err != nil {
		t.Errorf("vng refused a plain path: %v", err)
	}
}

// The config file read as a FIFO or a device would hang or flood the
// run: it is refused, naming the file.
func TestConfigNotAFile(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	t.Setenv(BackendEnv, "")
	os.MkdirAll(filepath.Join(cfg, "harness"), 0o755)
	p := filepath.Join(cfg, "harness", "config")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Fatal(err)
	}
	err := testutil.Within(t, 10*time.Second, "a FIFO config file", func() error { _, _, err := configBackend(); return err })
	if err == nil || !strings.Contains(err.Error(), "config file") || !strings.Contains(err.Error(), "named pipe") {
		t.Errorf("FIFO config: %v", err)
	}
	os.Remove(p)
	if err := os.Symlink("/dev/zero", p); err != nil {
		t.Fatal(err)
	}
	if _, _, err := configBackend(); err == nil || !strings.Contains(err.Error(), "config file") {
		t.Errorf("/dev/zero config: %v", err)
	}
}
