package main

import (
	"fmt"
	"os"
	"time"

	"github.com/kernel-harness/harness/harness/outdir"
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
		fmt.Fprintf(os.Stderr, "harness %s: %v\n", verb, err)
		return nil, false
	}
	if d.Replaced {
		fmt.Fprintf(os.Stderr, "harness %s: replacing the previous harness output in %s\n", verb, d.Path)
	}
	*out = d.Path
	return d, true
}
