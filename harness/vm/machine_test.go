package vm

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
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

func TestKernelConfig(t *testing.T) {
	dir := t.TempDir()
	// The artifact cache: config beside bzImage.
	write(t, filepath.Join(dir, "art/bzImage"), "k")
	write(t, filepath.Join(dir, "art/config"), "")
	// /boot: config-<release> beside vmlinuz-<release>.
	write(t, filepath.Join(dir, "boot/vmlinuz-6.12.57+deb13-cloud-amd64"), "k")
	write(t, filepath.Join(dir, "boot/config-6.12.57+deb13-cloud-amd64"), "")
	// A build folder: obj/.config for obj/arch/x86/boot/bzImage.
	write(t, filepath.Join(dir, "obj/arch/x86/boot/bzImage"), "k")
	write(t, filepath.Join(dir, "obj/.config"), "")
	// An image alone.
	write(t, filepath.Join(dir, "alone/bzImage"), "k")
	for _, tc := range []struct{ image, release, want string }{
		{"art/bzImage", "6.12.57", "art/config"},
		{"boot/vmlinuz-6.12.57+deb13-cloud-amd64", "", "boot/config-6.12.57+deb13-cloud-amd64"},
		{"boot/vmlinuz-6.12.57+deb13-cloud-amd64", "6.12.57+deb13-cloud-amd64", "boot/config-6.12.57+deb13-cloud-amd64"},
		{"obj/arch/x86/boot/bzImage", "6.12.57", "obj/.config"},
		{"alone/bzImage", "6.12.57", ""},
	} {
		want := tc.want
		if want != "" {
			want = filepath.Join(dir, want)
		}
		if got := KernelConfig(filepath.Join(dir, tc.image), tc.release); got != want {
			t.Errorf("KernelConfig(%s) = %q, want %q", tc.image, got, want)
		}
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
	if _, err := BoardFor(filepath.Join(dir, "none")); !os.IsNotExist(err) {
		t.Errorf("missing config: %v, want not exist", err)
	}
}

// Only a character device is KVM: a FIFO in its place would make QEMU
// block in open.
func TestKVMUsable(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "kvm")
	if err := syscall.Mkfifo(fifo, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := KVMUsable(fifo); err == nil || !strings.Contains(err.Error(), "not a character device") {
		t.Errorf("FIFO: %v", err)
	}
	if err := KVMUsable(filepath.Join(dir, "none")); err == nil {
		t.Error("a missing device taken")
	}
	if err := KVMUsable("/dev/null"); err != nil { // a character device that opens
		t.Errorf("/dev/null: %v", err)
	}
}
