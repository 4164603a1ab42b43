package report

import (
	"strconv"
	"strings"
)

// MergeRuns sums up the boots of --repeat N --repeat-boot in one report:
// every boot's cases numbered by their run, pass rates over all of them.
// The first report that is not an error gives the rest (kernel, boot,
// features); a boot that broke (bootErrs) makes the run an error.
func MergeRuns(runs []*Report, n int, bootErrs []string) *Report {
	var (
		out    *Report
		all    []Scenario
		splats []Splat
	)
	for i, r := range runs {
		if out == nil || out.Verdict == Error && r.Verdict != Error {
			c := *r
			out = &c
		}
		for _, s := range r.Scenarios {
			s.Run = i + 1
			all = append(all, s)
		}
		for _, sp := range r.Splats {
			if sp.Scenario != "" {
				sp.Scenario += "#" + strconv.Itoa(i+1) // as scenario.RunID names it
			}
			splats = append(splats, sp)
		}
	}
	out.Scenarios, out.Splats, out.Error, out.Verdict = all, splats, "", ""
	out.Repeat = Aggregate(all, true)
	if out.Repeat != nil {
		out.Repeat.Runs = n
	}
	if len(bootErrs) > 0 {
		// A boot that broke is a finding of its own: the run is not green.
		out.Verdict, out.Error = Error, strings.Join(bootErrs, "; ")
	}
	return out
}
