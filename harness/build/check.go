package build

import (
	"errors"
	"fmt"
	"os"
	"strings"

	kernelconfig "github.com/kernel-harness/harness/kernel-config"

	"github.com/kernel-harness/harness/harness/input"
	"github.com/kernel-harness/harness/harness/kbuild"
	"github.com/kernel-harness/harness/harness/series"
)

// Check refuses build options that are wrong on their face, before
// a worktree is checked out (which takes a minute): the tree a folder, a
// known profile, the series a file or a folder when it names one, every
// --config a fragment, every --config-item CONFIG_X=value.
func Check(o Options) error {
	var errs []error
	if fi, err := os.Stat(o.Tree); err != nil {
		errs = append(errs, fmt.Errorf("--tree: %w", err))
	} else if !fi.IsDir() {
		errs = append(errs, fmt.Errorf("--tree %s is not a folder: give a kernel git checkout", o.Tree))
	}
	if _, ok := kernelconfig.Profiles[o.Profile]; o.Profile != "" && !ok {
		errs = append(errs, fmt.Errorf("unknown --profile %q (want %s)", o.Profile, kernelconfig.Names()))
	}
	if id, ok := strings.CutPrefix(o.Series, "lore:"); ok {
		if err := series.CheckLore(id); err != nil {
			errs = append(errs, err)
		}
	} else if o.Series != "" {
		if _, err := os.Lstat(o.Series); err == nil {
			if err := input.RegularOrDir(o.Series); err != nil {
				errs = append(errs, fmt.Errorf("--series: %w", err))
			}
		}
	}
	if err := kbuild.CheckInputs(o.Configs, o.Items); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// OptionsGiven names the build options set, for a verb without a tree,
// which would ignore them.
func OptionsGiven(b Options) []string {
	var given []string
	for _, f := range []struct {
		name string
		set  bool
	}{{"--series", b.Series != ""}, {"--base", b.Base != ""}, {"--allow-partial", b.AllowPartial}, {"--profile", b.Profile != ""},
		{"--config", len(b.Configs) > 0}, {"--config-item", len(b.Items) > 0}, {"--jobs", b.Jobs != 0}} {
		if f.set {
			given = append(given, f.name)
		}
	}
	return given
}
