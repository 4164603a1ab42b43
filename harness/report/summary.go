package report

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// Summary writes a table of the scenarios for a terminal, then what went
// wrong and the verdict.
func (r *Report) Summary(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if r.Repeat != nil {
		// One line per scenario over the runs; the failures of each run follow.
		r.Repeat.Table(w)
	} else {
		fmt.Fprintln(tw, "SCENARIO\tPATH\tFAMILY\tMODE\tVERDICT\tEPOLLIN(user/kernel)\tPARTIAL\tFRAMES")
	}
	for _, s := range r.Scenarios {
		if r.Repeat != nil {
			break
		}
		epollin, partial, frames := "-", "-", "-"
		// An unsupported scenario never ran, and a selftest measures none
		// of these: zeros would read as measurements.
		if s.Verdict != Unsupported && !s.Selftest() {
			epollin = fmt.Sprintf("%d/%d", s.EpollinUser, s.EpollinKernel)
			partial = fmt.Sprint(s.PartialReads)
			frames = fmt.Sprint(s.Frames)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			s.Name, s.Path, s.Family, s.Mode, s.Verdict, epollin, partial, frames)
	}
	tw.Flush()

	var n struct{ pass, fail, unsupported, err int }
	var unsupported []string // reasons in first-seen order
	byReason := map[string]int{}
	errByReason := map[string]int{}
	var errored []Scenario
	for _, s := range r.Scenarios {
		switch s.Verdict {
		case Pass:
			n.pass++
		case Fail:
			n.fail++
			failed := s.failed()
			for _, c := range failed {
				fmt.Fprintf(w, "FAIL %s: %s\n", s.ID(), checkLong(c))
			}
			if len(failed) == 0 {
				fmt.Fprintf(w, "FAIL %s%s\n", s.ID(), colonReason(s.Reason))
			}
		case Unsupported:
			n.unsupported++
			if byReason[s.Reason] == 0 {
				unsupported = append(unsupported, s.Reason)
			}
			byReason[s.Reason]++
		default:
			n.err++
			if errByReason[s.Reason] == 0 {
				errored = append(errored, s)
			}
			errByReason[s.Reason]++
		}
	}
	// A run that died takes every scenario with it for one reason: say it
	// once, not once per scenario.
	for _, s := range errored {
		if k := errByReason[s.Reason]; k > 1 {
			fmt.Fprintf(w, "ERROR %d scenarios%s\n", k, colonReason(s.Reason))
		} else {
			fmt.Fprintf(w, "ERROR %s%s\n", s.ID(), colonReason(s.Reason))
		}
	}
	for _, s := range r.Scenarios {
		if d := s.RuleDifferences; len(d) > 0 {
			more := ""
			if len(d) > 1 {
				more = fmt.Sprintf(" (and %d more)", len(d)-1)
			}
			fmt.Fprintf(w, "note %s: SO_RCVLOWAT differs from the series' rule, not a kernel failure: %s%s\n", s.ID(), d[0], more)
		}
	}
	for _, reason := range unsupported {
		noun := "scenarios"
		if byReason[reason] == 1 {
			noun = "scenario"
		}
		fmt.Fprintf(w, "unsupported: %d %s%s\n", byReason[reason], noun, colonReason(reason))
	}
	for _, sp := range r.Splats {
		during := ""
		if sp.Scenario != "" {
			during = " during " + sp.Scenario
		}
		fmt.Fprintf(w, "kernel: %s%s: %s\n", sp.Kind, during, firstLine(sp.Text))
	}
	if r.Error != "" {
		fmt.Fprintf(w, "error: %s\n", oneLine(r.Error))
	}
	runs := ""
	if r.Repeat != nil {
		runs = fmt.Sprintf(" over %d runs, %d flaky", r.Repeat.Runs, len(r.Repeat.Flaky()))
	}
	fmt.Fprintf(w, "verdict: %s (%d passed, %d failed, %d unsupported, %d error%s) in %.1fs\n",
		r.Verdict, n.pass, n.fail, n.unsupported, n.err, runs, r.DurationS)
}

func colonReason(reason string) string {
	if reason == "" {
		return ""
	}
	return ": " + oneLine(reason)
}
