package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/kernel-harness/harness/harness/outdir"
	"github.com/kernel-harness/harness/harness/run"
)

// claimOut takes the verb's output folder, after its options are checked:
// *out when given (keep leaves a previous output in place), else a new
// one under harness-out. It is held until the process ends; no other
// harness writes it meanwhile. ok false: the error is printed, exit 2.
func claimOut(verb string, out *string, keep bool) (d *outdir.Dir, ok bool) {
	var err error
	if *out == "" {
		d, err = outdir.New(outdir.Parent, time.Now())
	} else {
		d, err = outdir.Claim(*out, outdir.Options{Keep: keep})
	}
	if err != nil {
		fmt.Fprintf(stderr, "harness %s: %v\n", verb, err)
		return nil, false
	}
	if d.Replaced {
		fmt.Fprintf(stderr, "harness %s: replacing the previous harness output in %s\n", verb, d.Path)
	}
	*out = d.Path
	return d, true
}

// begin is the start every verb that boots shares, after its options
// are parsed: signals caught; the verb's one check, which returns its
// plan before anything is made; the output folder claimed for this run
// (kept with keep, as bisect --resume needs); progress on standard
// error, whose closing stops the run; and the command line for the
// reports. end undoes it; ok false means exit 2, with the reason said.
func begin(verb string, o *run.Options, keep bool, check func(context.Context) (*run.Plan, error)) (ctx *runContext, p *run.Plan, end func(), ok bool) {
	ctx = signalContext()
	p, err := check(ctx)
	if err != nil {
		ctx.stop()
		fmt.Fprintf(stderr, "harness %s: %v\n", verb, err)
		return nil, nil, nil, false
	}
	out, ok := claimOut(verb, &o.Out, keep)
	if !ok {
		ctx.stop()
		return nil, nil, nil, false
	}
	p.Out, p.Progress, p.Command = o.Out, ctx.watch(os.Stderr, "standard error"), os.Args
	return ctx, p, func() { ctx.stop(); out.Close() }, true
}
