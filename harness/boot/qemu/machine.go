package qemu

import (
	"fmt"

	"github.com/kernel-harness/harness/harness/kernel"
)

// Machine types.
const (
	Q35     = "q35"
	MicroVM = "microvm"
)

// Board is the machine a kernel needs, as its .config tells.
type Board struct {
	Type   string // q35, or microvm for a kernel without PCI
	NoACPI bool
	Why    string // for the user
}

// BoardFor reads a kernel's .config. A kernel without PCI cannot reach
// q35's virtio-pci devices: it boots on microvm, over virtio-mmio, which
// it needs then. Every other kernel boots on q35, the steadier under TCG.
func BoardFor(config string) (Board, error) {
	on, err := kernel.OptionsOn(config)
	if err != nil {
		return Board{}, err
	}
	if on["CONFIG_PCI"] {
		return Board{Type: Q35, NoACPI: !on["CONFIG_ACPI"], Why: "its config has PCI"}, nil
	}
	if !on["CONFIG_VIRTIO_MMIO"] {
		return Board{}, fmt.Errorf("%s: neither CONFIG_PCI nor CONFIG_VIRTIO_MMIO is set: the kernel can reach no virtio device, and the guest's events travel on one", config)
	}
	b := Board{Type: MicroVM, NoACPI: !on["CONFIG_ACPI"], Why: "its config has no PCI"}
	if b.NoACPI && !on["CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES"] {
		return Board{}, fmt.Errorf("%s: without PCI and ACPI the virtio-mmio devices are found on the command line, which needs CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES=y", config)
	}
	return b, nil
}
