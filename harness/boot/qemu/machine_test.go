package qemu

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBoardFor(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, config string
		want         Board
		err          string
	}{
		{"debian", "CONFIG_PCI=y\nCONFIG_ACPI=y\nCONFIG_VIRTIO_PCI=m\n", Board{Type: Q35}, ""},
		{"minimal", "# CONFIG_PCI is not set\n# CONFIG_ACPI is not set\nCONFIG_VIRTIO_MMIO=y\nCONFIG_VIRTIO_MMIO_CMDLINE_DEVICES=y\n",
			Board{Type: MicroVM, NoACPI: true}, ""},
		{"no pci, acpi", "CONFIG_ACPI=y\nCONFIG_VIRTIO_MMIO=m\n", Board{Type: MicroVM}, ""},
		{"no virtio", "CONFIG_ACPI=y\n", Board{}, "neither CONFIG_PCI nor CONFIG_VIRTIO_MMIO"},
		{"no cmdline devices", "CONFIG_VIRTIO_MMIO=y\n", Board{}, "CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES"},
	} {
		p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
		write(t, p, tc.config)
		got, err := BoardFor(p)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err %v, want one saying %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || got.Type != tc.want.Type || got.NoACPI != tc.want.NoACPI || got.Why == "" {
			t.Errorf("%s: %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
	if _, err := BoardFor(filepath.Join(dir, "none")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing config: %v, want not exist", err)
	}
}
