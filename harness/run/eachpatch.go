package run

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/kernel-harness/harness/harness/build"
	"github.com/kernel-harness/harness/harness/outputs"
	"github.com/kernel-harness/harness/harness/progress"
	"github.com/kernel-harness/harness/harness/report"
)

// runEachPatch is --each-patch: the series' first 1, 2, ... patches, each
// built (incrementally, in the same O= folder) and run in
// patches-<k>/ under the output folder. A prefix that does not build is
// a row of the table, not the end of the run.
func runEachPatch(ctx context.Context, pl *Plan) (*report.Report, error) {
	start := time.Now()
	o, patches := pl.Options, pl.patches
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, err
	}
	say := progress.Say(o.Progress)
	table := &report.PatchTable{Series: o.Build.Series}
	var (
		last      *report.Report
		buildFail bool
	)
	for k := 1; k <= len(patches); k++ {
		one := pl.with(func(c *Plan) {
			c.EachPatch, c.Build.Patches = false, k
			c.Out = filepath.Join(o.Out, fmt.Sprintf("patches-%d", k))
		})
		say("each-patch: patches 1-%d of %d, in %s", k, len(patches), one.Out)
		r, _, err := runOne(ctx, one)
		if ctx.Err() != nil {
			return r, ctx.Err()
		}
		p := prefixRow(k, patches[k-1].Subject, r, err)
		if !p.Built() {
			buildFail = true
		}
		if r != nil {
			for _, sc := range r.Scenarios {
				table.AddRow(sc.ID())
			}
			last = r
		}
		table.Prefixes = append(table.Prefixes, p)
	}
	out := report.New(o.Command)
	if last != nil {
		c := *last
		out = &c
	}
	out.EachPatch = table
	out.DurationS = time.Since(start).Seconds()
	// The table is the finding: a prefix that does not build fails the
	// run; otherwise the whole series' verdict stands (earlier prefixes
	// may lack what the scenarios check, by design).
	if buildFail {
		out.Verdict = report.Fail
	}
	return out, outputs.Write(o.Out, out, nil)
}

// prefixRow sums up one prefix's run.
func prefixRow(k int, subject string, r *report.Report, err error) report.Prefix {
	compile, conflict := build.Failed(err)
	return report.PrefixOf(k, subject, r, err, compile, conflict)
}
