package qemu

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindQEMUMissing(t *testing.T) {
	_, err := Find("qemu-system-does-not-exist")
	if !errors.Is(err, ErrQEMUMissing) {
		t.Fatalf("err = %v, want ErrQEMUMissing", err)
	}
	for _, s := range []string{"qemu-system-does-not-exist", "apt-get install qemu-system-x86"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
}

func TestFindQEMUDefault(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := Find("")
	if !errors.Is(err, ErrQEMUMissing) || !strings.Contains(err.Error(), "qemu-system-x86_64") {
		t.Errorf("err = %v, want ErrQEMUMissing naming qemu-system-x86_64", err)
	}
}

// A --qemu path that is there but cannot run says so, not "not on PATH".
func TestFindSaysWhy(t *testing.T) {
	dir := t.TempDir()
	noexec := filepath.Join(dir, "qemu")
	os.WriteFile(noexec, []byte("#!/bin/sh\n"), 0o644)
	for bin, want := range map[string]string{
		noexec:                     "is not executable (chmod +x it",
		dir:                        "is a folder",
		filepath.Join(dir, "none"): "no such file",
		"no-such-qemu-here":        "is not on PATH",
	} {
		if _, err := Find(bin); !errors.Is(err, ErrQEMUMissing) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", bin, err, want)
		}
	}
}
