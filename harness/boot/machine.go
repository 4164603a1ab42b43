package boot

import (
	"fmt"

	"github.com/kernel-harness/harness/harness/kernel"
	"github.com/kernel-harness/harness/harness/vm"
)

// ChooseMachine is the board a kernel boots on: the one asked for, else
// what the kernel's config needs (microvm without PCI), else q35. A board
// the kernel cannot use is refused before booting.
func ChooseMachine(asked string, k kernel.Kernel) (vm.Machine, string, error) {
	switch asked {
	case "", vm.Q35, vm.MicroVM:
	default:
		return vm.Machine{}, "", fmt.Errorf("--machine %q: want q35 or microvm", asked)
	}
	config := k.Config()
	if config == "" {
		if asked == "" {
			return vm.Machine{Type: vm.Q35}, "the default: no config beside the kernel", nil
		}
		return vm.Machine{Type: asked}, "--machine", nil
	}
	b, err := vm.BoardFor(config)
	if err != nil {
		return vm.Machine{}, "", fmt.Errorf("kernel config: %w", err)
	}
	switch {
	case asked == "":
		return vm.Machine{Type: b.Type, NoACPI: b.NoACPI}, b.Why + ", " + config, nil
	case asked == vm.Q35 && b.Type == vm.MicroVM:
		return vm.Machine{}, "", fmt.Errorf("--machine q35: the kernel has no PCI (%s), so it cannot reach q35's virtio devices; leave --machine out, or use microvm", config)
	}
	return vm.Machine{Type: asked, NoACPI: b.NoACPI}, "--machine", nil
}

// CheckSocketDir says why QEMU's sockets cannot live in dir, or nil.
func CheckSocketDir(dir string) error { return vm.CheckSocketDir(dir) }
