// Package vng boots a kernel through virtme-ng (vng) instead of starting
// QEMU directly: the guest's root is a copy-on-write view of the host's,
// so the harness binary runs there as an ordinary command (not PID 1) and
// writes its events to a file in a folder shared read-write with --rwdir.
// The host follows that file as the QEMU path follows its events port.
package vng

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/kernel-harness/harness/harness/boot/driver"
)

// ErrMissing is returned when vng is not installed.
var ErrMissing = errors.New("vng (virtme-ng) not found")

// Accelerators, as package driver names them.
const (
	accelKVM = "kvm"
	accelTCG = "tcg"
)

// Config is what only a vng boot takes, given in boot.Spec.VNG.
type Config struct {
	Binary string // empty: vng from PATH
}

// Options is one boot through vng: the same inputs as a QEMU boot.
type Options struct {
	VNG string // binary; empty: vng from PATH
	// Kernel is a kernel image (bzImage) or a kernel build folder (with
	// arch/x86/boot/bzImage in it); vng takes either.
	Kernel   string
	CPUs     int
	MemoryMB int
	Append   []string // more kernel command-line arguments
	// Accel: tcg passes --disable-kvm; kvm and auto let vng decide, which
	// uses KVM where /dev/kvm works.
	Accel string
	// RWDir is a host folder shared read-write with the guest, at the
	// same path there.
	RWDir string
	// Force9P shares the root over 9p even where virtiofs would start.
	Force9P bool
	// Command is run inside the guest, as root.
	Command []string
}

// CommandLine is vng's arguments for o, without the binary.
func CommandLine(o Options) []string {
	args := []string{"--run", o.Kernel, "--user", "root", "--verbose"}
	if o.CPUs > 0 {
		args = append(args, "--cpus", fmt.Sprint(o.CPUs))
	}
	if o.MemoryMB > 0 {
		args = append(args, "--memory", fmt.Sprintf("%dM", o.MemoryMB))
	}
	if o.Accel == accelTCG {
		args = append(args, "--disable-kvm")
	}
	if o.Force9P {
		args = append(args, "--force-9p")
	}
	if o.RWDir != "" {
		args = append(args, "--rwdir", o.RWDir)
	}
	if len(o.Append) > 0 {
		args = append(args, "--append", strings.Join(o.Append, " "))
	}
	if len(o.Command) > 0 {
		args = append(args, "--exec", shellJoin(o.Command))
	}
	return args
}

// Find is the vng binary to run, or ErrMissing with how to install it.
func Find(bin string) (string, error) {
	if bin == "" {
		bin = "vng"
	}
	p, err := exec.LookPath(bin)
	if err != nil {
		return "", fmt.Errorf("%w: %s is not on PATH; %s; or use --backend qemu", ErrMissing, bin, InstallHint)
	}
	return p, nil
}

// InstallHint says how to get vng on Debian 12 and Ubuntu, whose system
// Python refuses pip install: pipx, or its source folder on PATH (vng
// runs from there). busybox-static is for kernels with modules.
const InstallHint = "install it with pipx (apt install pipx busybox-static; pipx install virtme-ng), " +
	"or run it from its source (apt install python3-requests python3-argcomplete busybox-static; " +
	"git clone https://github.com/arighi/virtme-ng; PATH=$PWD/virtme-ng:$PATH)"

// Installed says whether vng is on PATH.
func Installed() bool {
	_, err := Find("")
	return err == nil
}

// KernelArg is what --run gets for a kernel image: the build folder when
// the image is that folder's arch/x86/boot/bzImage (vng then finds the
// modules there too), else the image itself.
func KernelArg(image string) string {
	dir := filepath.Dir(image)
	if filepath.Base(image) == "bzImage" && strings.HasSuffix(dir, filepath.Join("arch", "x86", "boot")) {
		root := filepath.Dir(filepath.Dir(filepath.Dir(dir)))
		if _, err := os.Stat(filepath.Join(root, ".config")); err == nil {
			return root
		}
	}
	return image
}

// shellJoin quotes args for vng's --exec, which hands its string to a shell.
func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.IndexFunc(a, unsafe) < 0 {
			q[i] = a
			continue
		}
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

func unsafe(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return false
	}
	return !strings.ContainsRune("-_./=:,+@%", r)
}

// KVMFailed says whether vng's last lines show QEMU failing with KVM.
func KVMFailed(tail []string) bool {
	for _, l := range tail {
		if driver.KVMFailure(l) {
			return true
		}
	}
	return false
}
