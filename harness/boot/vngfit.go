package boot

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/kernel-harness/harness/harness/boot/vng"
	"github.com/kernel-harness/harness/harness/kernel"
	"github.com/kernel-harness/harness/kernel-config"
)

// CheckProfile refuses, before anything is built, a --tree build that
// the backend could not boot: under vng a kernel built from allnoconfig
// has only what the profile's fragments, the --config files and the
// --config-item options turn on, so those must set what vng needs. The
// kernel's .config is checked again before it boots.
func CheckProfile(backend, profile, tree string, configs, items []string) error {
	if backend != BackendVNG {
		return nil
	}
	tmp, err := os.MkdirTemp("", "harness-profile-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	frags, err := kernelconfig.Write(profile, tmp, tree)
	if err != nil {
		return err
	}
	var merged strings.Builder
	for _, f := range append(frags, configs...) {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		merged.Write(b)
		merged.WriteString("\n")
	}
	merged.WriteString(strings.Join(items, "\n") + "\n")
	path := filepath.Join(tmp, "merged.config")
	if err := os.WriteFile(path, []byte(merged.String()), 0o644); err != nil {
		return err
	}
	fit, err := vng.CheckConfig(path)
	if err != nil {
		return err
	}
	if len(fit.Missing) > 0 {
		return fmt.Errorf("--profile %s builds a kernel vng cannot boot: its fragments do not set %s, which vng needs to mount the host's root and run its init; use --profile %s (--profile %s for harness selftests), add them with --config-item, or use --backend qemu",
			profile, strings.Join(fit.Missing, ", "), kernelconfig.VNG, kernelconfig.SelftestsVNG)
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
