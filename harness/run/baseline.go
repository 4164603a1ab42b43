package run

import (
	"context"
	"errors"
	"os"
	"path/filepath"

	"github.com/kernel-harness/harness/harness/outdir"
	"github.com/kernel-harness/harness/harness/outputs"
	"github.com/kernel-harness/harness/harness/progress"
	"github.com/kernel-harness/harness/harness/report"
)

// runBaseline runs the same scenarios on the base and on the base plus
// the series, each in a folder of its own, and writes the comparison and
// both sets of verdicts to the output folder.
func runBaseline(ctx context.Context, p *Plan) (*report.Report, error) {
	o := p.Options
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, err
	}
	base := p.with(func(c *Plan) { c.Baseline, c.Build.Series, c.Out = false, "", filepath.Join(o.Out, "base") })
	patched := p.with(func(c *Plan) { c.Baseline, c.Out = false, filepath.Join(o.Out, "patched") })
	say := progress.Say(o.Progress)
	// The base plus the series first: a --bpf-source compiled from its
	// tree is then loaded, as an object, on the base too.
	say("baseline: the base plus the series")
	pr, pevs, perr := runOne(ctx, patched)
	if pr == nil {
		return nil, perr
	}
	base.reuse(pr, false)
	say("baseline: the base, without the series")
	b, bevs, berr := runOne(ctx, base)
	if b == nil {
		return nil, errors.Join(perr, berr)
	}
	out := *pr
	out.Baseline = report.Compare(b, pr)
	out.Verdict = pr.Verdict
	if b.Verdict == report.Error || b.Verdict == report.Fail {
		out.Verdict = b.Verdict
	}
	err := errors.Join(berr, perr)
	if werr := outputs.WriteBaseline(o.Out, &out, outdir.Run{Dir: base.Out, Report: b, Events: bevs},
		outdir.Run{Dir: patched.Out, Report: pr, Events: pevs}); werr != nil {
		err = errors.Join(err, werr)
	}
	return &out, err
}
