package run

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kernel-harness/harness/harness/outputs"
	"github.com/kernel-harness/harness/harness/report"
)

// runBaseline runs the same scenarios on the base and on the base plus
// the series, each in a folder of its own, and writes the comparison and
// both sets of verdicts to the output folder.
func runBaseline(ctx context.Context, o Options) (*report.Report, error) {
	if o.Build.Tree == "" || o.Build.Series == "" {
		return nil, errors.New("--baseline needs --tree and --series: it compares the base with the base plus the series")
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, err
	}
	base := o
	base.Baseline, base.Build.Series, base.Out = false, "", filepath.Join(o.Out, "base")
	patched := o
	patched.Baseline, patched.Out = false, filepath.Join(o.Out, "patched")

	say := func(s string) {
		if o.Progress != nil {
			fmt.Fprintln(o.Progress, s)
		}
	}
	// The base plus the series first: a --bpf-source compiled from its
	// tree is then loaded, as an object, on the base too.
	say("baseline: the base plus the series")
	p, perr := runOne(ctx, patched)
	if p == nil {
		return nil, perr
	}
	if o.BPFSource != "" && p.BPF != nil && p.BPF.Object != "" {
		base.BPFSource, base.BPFObject = "", p.BPF.Object
	}
	say("baseline: the base, without the series")
	b, berr := runOne(ctx, base)
	if b == nil {
		return nil, errors.Join(perr, berr)
	}
	out := *p
	out.Baseline = report.Compare(b, p)
	out.Verdict = p.Verdict
	if b.Verdict == report.Error || b.Verdict == report.Fail {
		out.Verdict = b.Verdict
	}
	err := errors.Join(berr, perr)
	if werr := outputs.WriteFromFolder(o.Out, &out, b); werr != nil {
		err = errors.Join(err, werr)
	}
	return &out, err
}
