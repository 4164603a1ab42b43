package qemu

import (
	"errors"
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
