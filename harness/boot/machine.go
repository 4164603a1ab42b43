package boot

import (
	"fmt"

	"github.com/kernel-harness/harness/harness/boot/qemu"
	"github.com/kernel-harness/harness/harness/kernel"
)

// ChooseMachine is the board a kernel boots on: the one asked for, else
// what the kernel's config needs (microvm without PCI), else q35. A board
// the kernel cannot use is refused before booting.
func ChooseMachine(asked string, k kernel.Kernel) (qemu.Machine, string, error) {
	switch asked {
	case "", qemu.Q35, qemu.MicroVM:
	default:
		return qemu.Machine{}, "", fmt.Errorf("--machine %q: want q35 or microvm", asked)
	}
	config := k.Config()
	if config == "" {
		if asked == "" {
			return qemu.Machine{Type: qemu.Q35}, "the default: no config beside the kernel", nil
		}
		return qemu.Machine{Type: asked}, "--machine", nil
	}
	b, err := qemu.BoardFor(config)
	if err != nil {
		return qemu.Machine{}, "", fmt.Errorf("kernel config: %w", err)
	}
	switch {
	case asked == "":
		return qemu.Machine{Type: b.Type, NoACPI: b.NoACPI}, b.Why + ", " + config, nil
	case asked == qemu.Q35 && b.Type == qemu.MicroVM:
		return qemu.Machine{}, "", fmt.Errorf("--machine q35: the kernel has no PCI (%s), so it cannot reach q35's virtio devices; leave --machine out, or use microvm", config)
	}
	return qemu.Machine{Type: asked, NoACPI: b.NoACPI}, "--machine", nil
}

// CheckSocketDir says why QEMU's sockets cannot live in dir, or nil.
func CheckSocketDir(dir string) error { return qemu.CheckSocketDir(dir) }

// CheckKernel refuses a kernel file the backend cannot boot (a board it
// cannot use, a config vng cannot boot), for the checks made before any
// folder exists; the boot makes the same choice again and says it.
func CheckKernel(backend, machine string, k kernel.Kernel) error {
	if backend == BackendVNG {
		_, _, err := vngFit(k, func(string, ...any) {})
		return err
	}
	_, _, err := ChooseMachine(machine, k)
	return err
}

// CheckBinary refuses a QEMU backend without its QEMU, before any folder
// exists (ChooseBackend has looked for vng already).
func CheckBinary(backend, qemuBinary string) error {
	if backend == BackendVNG {
		return nil
	}
	_, err := qemu.Find(qemuBinary)
	return err
}

// CheckRun is what the backend needs, checked before any folder exists:
// its binary (QEMU; ChooseBackend has looked for vng), and a kernel file
// it can boot when one is given.
func CheckRun(backend, machine, qemuBinary, kernelFile, modules string) error {
	if kernelFile != "" {
		k, err := kernel.FromFile(kernelFile, modules)
		if err == nil {
			err = CheckKernel(backend, machine, k)
		}
		if err != nil {
			return err
		}
	}
	return CheckBinary(backend, qemuBinary)
}
