package run

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/kernel-harness/harness/harness/boot/driver"
	"github.com/kernel-harness/harness/harness/outputs"
	"github.com/kernel-harness/harness/harness/progress"
	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/text"
)

// Bounds of a plan: a --repeat and the cases one boot runs (scenarios x
// families x modes x --repeat), so that a mistyped count is refused, not
// an allocation of gigabytes.
const (
	MaxRepeat = 1000
	MaxCases  = 50000
)

// checkModes refuses combinations of the run modes that make no sense
// together, before anything is built or booted.
func checkModes(o Options) error {
	switch {
	case o.Repeat < 0:
		return fmt.Errorf("--repeat %d: want a count of runs, 1 or more", o.Repeat)
	case o.Repeat > MaxRepeat:
		return fmt.Errorf("--repeat %d: at most %d", o.Repeat, MaxRepeat)
	case o.RepeatBoot && o.Repeat < 2:
		return errors.New("--repeat-boot needs --repeat N with N of 2 or more: it says how the N runs are made")
	case o.Baseline && (o.Repeat > 1 || o.EachPatch):
		return errors.New("--baseline does not combine with --repeat or --each-patch: run them one at a time")
	case o.EachPatch && o.Repeat > 1:
		return errors.New("--each-patch does not combine with --repeat: run them one at a time")
	case o.Baseline && (o.Build.Tree == "" || o.Build.Series == ""):
		return errors.New("--baseline needs --tree and --series: it compares the base with the base plus the series")
	case o.EachPatch && (o.Build.Tree == "" || o.Build.Series == ""):
		return errors.New("--each-patch needs --tree and --series: it builds the tree with the first 1, 2, ... patches")
	case o.StallTimeout != 0 && (o.StallTimeout < time.Millisecond || o.StallTimeout > MaxStall):
		return fmt.Errorf("--stall-timeout %v: want 1ms to %v", o.StallTimeout, MaxStall)
	}
	return nil
}

// DefaultStall is how long a case's reader waits for each wake-up after
// its last step: a right kernel wakes it at once, so the bound only says
// how long a stall takes to be called one. MaxStall bounds the option.
const (
	DefaultStall = 2 * time.Second
	MaxStall     = time.Minute
)

// sameBootDeadlines gives a boot that repeats every case N times N times
// the run deadline; the boot and idle deadlines do not grow.
func sameBootDeadlines(o Options) driver.Deadlines {
	d := o.Deadlines
	if o.Repeat > 1 && !o.RepeatBoot {
		d.Run = driver.Times(d.Run, o.Repeat)
	}
	return d
}

// runRepeatBoots is --repeat N --repeat-boot: N boots of the same kernel,
// each in run-<i>/ under the output folder, summed up in one report. The
// kernel is built (or fetched) once; later boots take it as --kernel.
func runRepeatBoots(ctx context.Context, p *Plan) (*report.Report, error) {
	if err := os.MkdirAll(p.Out, 0o755); err != nil {
		return nil, err
	}
	say := progress.Say(p.Progress)
	start := time.Now()
	one := p.with(func(c *Plan) { c.Repeat, c.RepeatBoot = 0, false })
	var (
		runs     []*report.Report
		bootErrs []string
		errs     error
	)
	for i := 1; i <= p.Repeat; i++ {
		one.Out = filepath.Join(p.Out, fmt.Sprintf("run-%d", i))
		say("repeat: boot %d of %d, in %s", i, p.Repeat, one.Out)
		r, _, err := runOne(ctx, one)
		if r == nil || r.Kernel.Path == "" {
			// No kernel to boot (bad input, failed build): nothing to repeat.
			return r, err
		}
		if i == 1 {
			one.reuse(r, true)
		}
		runs = append(runs, r)
		if err != nil {
			errs = errors.Join(errs, fmt.Errorf("boot %d: %w", i, err))
			bootErrs = append(bootErrs, fmt.Sprintf("boot %d: %s", i, text.OneLine(err.Error())))
			if ctx.Err() != nil {
				break
			}
		}
	}
	out := report.MergeRuns(runs, p.Repeat, bootErrs)
	out.DurationS = time.Since(start).Seconds()
	out.Finish()
	return out, errors.Join(errs, outputs.Write(p.Out, out, nil))
}
