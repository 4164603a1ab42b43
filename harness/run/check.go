package run

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kernel-harness/harness/harness/boot"
	"github.com/kernel-harness/harness/harness/build"
	"github.com/kernel-harness/harness/harness/input"
	"github.com/kernel-harness/harness/harness/kernel"
	"github.com/kernel-harness/harness/harness/outdir"
	"github.com/kernel-harness/harness/harness/userbpf"
)

// MinMemoryMB is the least guest memory a run boots with: the kernel,
// the initramfs (the harness binary, modules) unpacked into it, and the
// agent. Debian's 6.12 kernel with 128 MiB dies "deadlocked on memory"
// once the agent runs; with 48 MiB it dies before its console says anything.
const MinMemoryMB = 256

// MaxDeadline bounds each deadline option: a day, under KVM.
const MaxDeadline = 24 * time.Hour

// CheckRun refuses a run's options that are wrong on their face, before
// anything is built, fetched or booted; Check does it and more.
func CheckRun(o Options) error {
	_, err := check(o)
	return err
}

// checkOptions is what the options alone say, without reading a file.
func checkOptions(o Options) error {
	var errs []error
	if o.Kernel != "" && o.Build.Tree != "" {
		errs = append(errs, errors.New("give --kernel or --tree, not both"))
	}
	if o.Build.Tree == "" {
		if given := build.OptionsGiven(o.Build); len(given) > 0 {
			errs = append(errs, fmt.Errorf("%s: build options, and there is no --tree to build: give --tree, or leave them out", strings.Join(given, ", ")))
		}
	}
	if o.Build.Tree != "" {
		if err := build.Check(o.Build); err != nil {
			errs = append(errs, err)
		}
	}
	switch {
	case o.Kernel != "":
		if _, err := kernel.FromFile(o.Kernel, o.Modules); err != nil {
			errs = append(errs, err)
		}
	case o.Modules != "":
		errs = append(errs, errors.New("--modules goes with --kernel: the modules of the kernel given"))
	}
	if o.BPFObject != "" {
		if err := input.Regular(o.BPFObject); err != nil {
			errs = append(errs, fmt.Errorf("--bpf-object: %w", err))
		}
	}
	if o.BPFObject != "" && o.BPFSource != "" {
		errs = append(errs, errors.New("--bpf-object and --bpf-source are two ways to give the programs: use one"))
	}
	if o.BPFSource != "" {
		if _, err := userbpf.FindClang(); err != nil {
			errs = append(errs, err)
		}
	}
	if o.BPFSource != "" && o.Build.Tree == "" { // with a tree, it may be the tree's
		if err := input.Regular(o.BPFSource); err != nil {
			errs = append(errs, fmt.Errorf("--bpf-source: %w", err))
		}
	}
	inputs := [][2]string{{"--kernel", o.Kernel}, {"--modules", o.Modules}, {"--bpf-object", o.BPFObject},
		{"--bpf-source", o.BPFSource}, {"--series", o.Build.Series}, {"--tree", o.Build.Tree}}
	for _, f := range o.ScenarioFiles {
		inputs = append(inputs, [2]string{"--scenarios", f})
	}
	for _, f := range o.Build.Configs {
		inputs = append(inputs, [2]string{"--config", f})
	}
	errs = append(errs, outdir.Outside(o.Out, inputs)...)
	if o.MemoryMB < MinMemoryMB {
		errs = append(errs, fmt.Errorf("--memory %d: the guest needs at least %d MiB (the kernel and the initramfs unpack into it)", o.MemoryMB, MinMemoryMB))
	}
	if o.CPUs < 1 {
		errs = append(errs, fmt.Errorf("--cpus %d: at least 1", o.CPUs))
	}
	for _, d := range []struct {
		name string
		v    int64
	}{{"--boot-timeout", int64(o.Deadlines.Boot)}, {"--idle-timeout", int64(o.Deadlines.Idle)}, {"--timeout", int64(o.Deadlines.Run)}} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("%s must be above 0", d.name))
		} else if time.Duration(d.v) > MaxDeadline {
			errs = append(errs, fmt.Errorf("%s %v: at most %v", d.name, time.Duration(d.v), MaxDeadline))
		}
	}
	// The cache (kernels, builds) and the scratch folders need a home.
	if o.Kernel == "" || o.Build.Tree != "" {
		if _, err := kernel.CacheDir(); err != nil {
			errs = append(errs, err)
		}
	}
	if fi, err := os.Stat(os.TempDir()); err != nil || !fi.IsDir() {
		errs = append(errs, fmt.Errorf("TMPDIR %s is not a folder the harness can use for its scratch folders: set TMPDIR to one, or unset it", os.TempDir()))
	}
	if o.Backend != BackendVNG {
		// As the run's temporary folder will be named.
		if err := boot.CheckSocketDir(filepath.Join(os.TempDir(), "harness-1234567890")); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
