package run

import (
	"path/filepath"

	"github.com/kernel-harness/harness/harness/kernel"
	"github.com/kernel-harness/harness/harness/vm"
	"github.com/kernel-harness/harness/harness/vng"
	kernelconfig "github.com/kernel-harness/harness/kernel-config"
)

// vngDefaults settles what the backend changes before any work: a tree
// is built with the vng profile under vng, else minimal, unless --profile
// says otherwise; and paths vng would split are refused.
func vngDefaults(o *Options) error {
	if o.Build.Tree != "" && o.Build.Profile == "" {
		o.Build.Profile = "minimal"
		if o.Backend == BackendVNG {
			o.Build.Profile = kernelconfig.VNG
		}
	}
	if o.Backend != BackendVNG {
		return nil
	}
	out, err := filepath.Abs(o.Out)
	if err != nil {
		return err
	}
	if err := vng.SafePath("--out", out); err != nil {
		return err
	}
	if o.Kernel != "" {
		k, err := filepath.Abs(o.Kernel)
		if err != nil {
			return err
		}
		return vng.SafePath("--kernel", k)
	}
	return nil
}

// vngFit checks a kernel's config, found as --machine finds it, for what
// vng needs: a kernel that lacks it is refused before booting, one
// without a config is booted with a warning. It returns the arguments
// the kernel needs on vng's command line.
func vngFit(k kernel.Kernel, say func(string, ...any)) (force9p bool, appendArgs []string, err error) {
	if err := vng.SafePath("kernel", k.Image); err != nil {
		return false, nil, err
	}
	config := vm.KernelConfig(k.Image, k.Release)
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
