package boot

import (
	"github.com/kernel-harness/harness/harness/boot/vng"
	"github.com/kernel-harness/harness/harness/kernel"
)

// vngFit checks a kernel's config, found as --machine finds it, for what
// vng needs: a kernel that lacks it is refused before booting, one
// without a config is booted with a warning. It returns the arguments
// the kernel needs on vng's command line.
func vngFit(k kernel.Kernel, say func(string, ...any)) (force9p bool, appendArgs []string, err error) {
	if err := vng.SafePath("kernel", k.Image); err != nil {
		return false, nil, err
	}
	config := k.Config()
	if config == "" {
		say("vng: warning: no config beside %s, so the harness cannot tell whether vng can boot it (it needs %d options that --profile vng sets: 9p, virtio-pci, overlayfs ...); booting it anyway", k.Image, len(vng.Needs))
		return false, nil, nil
	}
	fit, err := vng.CheckConfig(config)
	if err != nil {
		return false, nil, err
	}
	if err := fit.Err(); err != nil {
		return false, nil, err
	}
	if fit.NoACPI {
		say("vng: the kernel has no ACPI (%s): the guest halts instead of powering off, and vng is stopped after the last event", config)
	}
	force9p, appendArgs = fit.Args()
	return force9p, appendArgs, nil
}
