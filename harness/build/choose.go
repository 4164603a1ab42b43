package build

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/kernel-harness/harness/harness/kbuild"
	"github.com/kernel-harness/harness/harness/kernel"
	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/series"
)

// Choose is a verb's kernel: built from o.Tree when it is set (into
// o.LogFile, anew), else the image file given (its modules beside it or
// in modules), else the default kernel, fetched once into the cache.
// An error of o.WithTree is returned as it is: it is not the build's,
// and its words are not in build.log.
func Choose(ctx context.Context, o Options, file, modules string, say func(string)) (kernel.Kernel, *report.Build, error) {
	if o.Tree != "" {
		os.Remove(o.LogFile)
		var treeErr error
		if with := o.WithTree; with != nil {
			o.WithTree = func(wt string, k kernel.Kernel) error {
				treeErr = with(wt, k)
				return treeErr
			}
		}
		k, b, err := Kernel(ctx, o)
		if treeErr != nil {
			return k, b, treeErr
		}
		if err != nil && b != nil && ctx.Err() == nil {
			// The report says why this tree gave no kernel.
			b.Error = err.Error()
			if compile, _ := Failed(err); compile != "" {
				b.Error = compile
			}
		}
		var be *kbuild.BuildError
		if err != nil && !errors.As(err, &be) {
			err = fmt.Errorf("%w (full output in %s)", err, o.LogFile)
		}
		return k, b, err
	}
	if file != "" {
		k, err := kernel.FromFile(file, modules)
		return k, nil, err
	}
	cache, err := kernel.CacheDir()
	if err != nil {
		return kernel.Kernel{}, nil, err
	}
	k, err := kernel.Default(cache, say)
	return k, nil, err
}

// Failed reads why a build gave no kernel: the compiler's first error
// when the kernel did not build, the conflict when the series did not
// apply; both empty for any other error.
func Failed(err error) (compile, conflict string) {
	var (
		be *kbuild.BuildError
		ce *series.ConflictError
	)
	switch {
	case errors.As(err, &be):
		if compile = be.First; compile == "" {
			compile = be.Err.Error()
		}
	case errors.As(err, &ce):
		conflict = ce.Error()
	}
	return compile, conflict
}
