package vng

import (
	"fmt"
	"strings"

	"github.com/kernel-harness/harness/harness/kernel"
)

// Needs are the options without which vng cannot boot a kernel: its
// devices are on PCI, the guest's root is the host's over 9p (vng falls
// back to 9p when virtiofs does not start, and Debian 12's virtiofsd does
// not), its init is a shell script that lays overlays, mounts devpts and
// starts udev. Measured with virtme-ng 1.41; kernel-config/vng.config
// sets them all.
var Needs = []string{
	"CONFIG_PCI", "CONFIG_VIRTIO_PCI",
	"CONFIG_NET_9P", "CONFIG_NET_9P_VIRTIO", "CONFIG_9P_FS",
	"CONFIG_BINFMT_SCRIPT", "CONFIG_OVERLAY_FS", "CONFIG_UNIX98_PTYS",
	"CONFIG_DEVTMPFS", "CONFIG_TMPFS", "CONFIG_FHANDLE", "CONFIG_INOTIFY_USER",
}

// Fit is what a kernel's config says about booting it under vng.
type Fit struct {
	Config  string
	Missing []string // of Needs
	// NoBlock: without the block layer the kernel never tries vng's 9p
	// root unless root=/dev/root names it.
	NoBlock bool
	// NoVirtioFS: the root must be 9p even where virtiofsd runs.
	NoVirtioFS bool
	// NoACPI: the guest halts instead of powering off, and vng does not
	// end by itself.
	NoACPI bool
}

// CheckConfig reads a kernel's .config for what vng needs.
func CheckConfig(path string) (Fit, error) {
	on, err := kernel.OptionsOn(path)
	if err != nil {
		return Fit{}, err
	}
	fit := Fit{Config: path, NoBlock: !on["CONFIG_BLOCK"], NoVirtioFS: !on["CONFIG_VIRTIO_FS"], NoACPI: !on["CONFIG_ACPI"]}
	for _, n := range Needs {
		if !on[n] {
			fit.Missing = append(fit.Missing, n)
		}
	}
	return fit, nil
}

// Err refuses a kernel that lacks what vng needs, naming the options and
// where to get them; nil when nothing is missing.
func (f Fit) Err() error {
	if len(f.Missing) == 0 {
		return nil
	}
	return fmt.Errorf("vng cannot boot this kernel: its config (%s) lacks %s, which vng needs to mount the host's root and run its init; build it with --profile vng (it has them), add them with --config-item, or use --backend qemu",
		f.Config, strings.Join(f.Missing, ", "))
}

// Args are what a kernel of this config needs on vng's command line: 9p
// when it cannot mount virtiofs (vng would otherwise try virtiofs first),
// and root=/dev/root, the tag of vng's 9p root, when it has no block
// layer.
func (f Fit) Args() (force9p bool, appendArgs []string) {
	if f.NoBlock {
		appendArgs = append(appendArgs, "root=/dev/root")
	}
	return f.NoVirtioFS || f.NoBlock, appendArgs
}

// SafePath refuses a path that vng would take apart: it passes --rwdir
// and --run on to virtme-run inside a string split again like a shell
// line, and reads --rwdir's "=" as guest=host.
func SafePath(what, p string) error {
	if i := strings.IndexAny(p, " \t\n'\"\\="); i >= 0 {
		return fmt.Errorf("%s %q: vng splits paths at spaces and quotes (and reads = in --rwdir as guest=host), so it cannot use this one; choose a path without %q", what, p, p[i:i+1])
	}
	return nil
}

// initFailed are a guest's words when vng's init could not be run or its
// root could not be mounted.
var initFailed = []string{
	"Requested init", "No working init found", "Unable to mount root fs",
	"9pnet_virtio: no channels available", "VFS: Cannot open root device",
}

// Hint says what a vng boot that ended like tail probably lacks, or "".
func Hint(tail []string) string {
	for _, l := range tail {
		for _, w := range initFailed {
			if strings.Contains(l, w) {
				return "the kernel probably lacks the filesystems vng needs (9p, overlayfs; a kernel without the block layer also needs root=/dev/root): build it with --profile vng"
			}
		}
	}
	return ""
}
