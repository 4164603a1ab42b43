package run

import (
	"path/filepath"

	"github.com/kernel-harness/harness/harness/boot"
	kernelconfig "github.com/kernel-harness/harness/kernel-config"
)

// vngDefaults settles what the backend changes before any work: a tree
// is built with the vng profile under vng, else minimal, unless --profile
// says otherwise; and paths vng would split are refused.
func vngDefaults(o *Options, backend string) error {
	if o.Build.Tree != "" && o.Build.Profile == "" {
		o.Build.Profile = "minimal"
		if backend == BackendVNG {
			o.Build.Profile = kernelconfig.VNG
		}
	}
	if backend != BackendVNG {
		return nil
	}
	out, err := filepath.Abs(o.Out)
	if err != nil {
		return err
	}
	if err := boot.CheckPath(backend, "--out", out); err != nil {
		return err
	}
	if o.Kernel != "" {
		k, err := filepath.Abs(o.Kernel)
		if err != nil {
			return err
		}
		return boot.CheckPath(backend, "--kernel", k)
	}
	return nil
}
