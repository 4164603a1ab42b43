package boot

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kernel-harness/harness/harness/kernel"
	"github.com/kernel-harness/harness/harness/vm"
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
		want        vm.Machine
		err         string
	}{
		{"unknown kernel", "", unknown, vm.Machine{Type: vm.Q35}, ""},
		{"unknown kernel, microvm asked", "microvm", unknown, vm.Machine{Type: vm.MicroVM}, ""},
		{"pci kernel", "", pci, vm.Machine{Type: vm.Q35}, ""},
		{"pci kernel, microvm asked", "microvm", pci, vm.Machine{Type: vm.MicroVM}, ""},
		{"minimal kernel", "", minimal, vm.Machine{Type: vm.MicroVM, NoACPI: true}, ""},
		{"minimal kernel, microvm asked", "microvm", minimal, vm.Machine{Type: vm.MicroVM, NoACPI: true}, ""},
		{"minimal kernel, q35 asked", "q35", minimal, vm.Machine{}, "no PCI"},
		{"unknown machine", "pc", pci, vm.Machine{}, "want q35 or microvm"},
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
