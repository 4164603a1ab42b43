package boot

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kernel-harness/harness/harness/boot/qemu"
	"github.com/kernel-harness/harness/harness/kernel"
)

func TestChooseMachine(t *testing.T) {
	dir := t.TempDir()
	kernelIn := func(name, config string) kernel.Kernel {
		d := filepath.Join(dir, name)
		os.MkdirAll(d, 0o755)
		os.WriteFile(filepath.Join(d, "bzImage"), []byte("k"), 0o644)
		if config != "" {
			os.WriteFile(filepath.Join(d, "config"), []byte(config), 0o644)
		}
		return kernel.Kernel{Image: filepath.Join(d, "bzImage"), Release: "6.12.57"}
	}
	unknown := kernelIn("unknown", "")
	pci := kernelIn("pci", "CONFIG_PCI=y\nCONFIG_ACPI=y\n")
	minimal := kernelIn("minimal", "CONFIG_VIRTIO_MMIO=y\nCONFIG_VIRTIO_MMIO_CMDLINE_DEVICES=y\n")
	for _, tc := range []struct {
		name, asked string
		k           kernel.Kernel
		want        qemu.Machine
		err         string
	}{
		{"unknown kernel", "", unknown, qemu.Machine{Type: qemu.Q35}, ""},
		{"unknown kernel, microvm asked", "microvm", unknown, qemu.Machine{Type: qemu.MicroVM}, ""},
		{"pci kernel", "", pci, qemu.Machine{Type: qemu.Q35}, ""},
		{"pci kernel, microvm asked", "microvm", pci, qemu.Machine{Type: qemu.MicroVM}, ""},
		{"minimal kernel", "", minimal, qemu.Machine{Type: qemu.MicroVM, NoACPI: true}, ""},
		{"minimal kernel, microvm asked", "microvm", minimal, qemu.Machine{Type: qemu.MicroVM, NoACPI: true}, ""},
		{"minimal kernel, q35 asked", "q35", minimal, qemu.Machine{}, "no PCI"},
		{"unknown machine", "pc", pci, qemu.Machine{}, "want q35 or microvm"},
	} {
		got, why, err := ChooseMachine(tc.asked, tc.k)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err %v, want one saying %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want || why == "" {
			t.Errorf("%s: %+v (%q), %v; want %+v", tc.name, got, why, err, tc.want)
		}
	}
}
