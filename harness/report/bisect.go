package report

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/kernel-harness/harness/harness/bisect"
	"github.com/kernel-harness/harness/harness/input"
)

// BisectReport is harness bisect's answer, also written as bisect.json.
type BisectReport struct {
	Tree     string          `json:"tree"`
	Good     bisect.Commit   `json:"good"`
	Bad      bisect.Commit   `json:"bad"`
	Commits  int             `json:"commits"`
	Scenario string          `json:"scenario,omitempty"`
	Series   string          `json:"series,omitempty"`
	Outcome  *bisect.Outcome `json:"outcome"`
	// Flips are the scenarios that failed at the first bad commit, beside
	// the same scenarios at the last good one.
	Flips []Flip `json:"flips,omitempty"`
	Log   string `json:"log"`
}

// stepLine is one step for the terminal.
func StepLine(e bisect.Entry) string {
	build := fmt.Sprintf("built in %.0fs", e.BuildS)
	if e.CacheHit {
		build = "cache hit"
	} else if e.BuildS == 0 {
		build = "not built"
	}
	what := fmt.Sprintf("step %d", e.Step)
	if e.Confirm {
		what += " (checks an end)"
	}
	return fmt.Sprintf("%s: %s %s: %s, %s in %.0fs: %s", what, e.Commit.Short(), input.Quote(e.Subject), build, e.Verdict, e.Seconds, e.Reason)
}

// Print writes the answer for people.
func (r *BisectReport) Print(w io.Writer) {
	out := r.Outcome
	if out == nil {
		return
	}
	fmt.Fprintf(w, "bisect: %d commits, %d steps", r.Commits, out.Steps)
	if out.Confirms > 0 {
		fmt.Fprintf(w, " and %d to check the ends", out.Confirms)
	}
	if out.Resumed > 0 {
		fmt.Fprintf(w, " (%d from the log)", out.Resumed)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tCOMMIT\tSUBJECT\tBUILD\tVERDICT\tREASON")
	for _, e := range out.Entries {
		build := fmt.Sprintf("%.0fs", e.BuildS)
		if e.CacheHit {
			build = "cache hit"
		}
		step := fmt.Sprint(e.Step)
		if e.Confirm {
			step += " (end)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", step, e.Commit.Short(), trunc(input.Quote(e.Subject), 50), build, e.Verdict, trunc(e.Reason, 80))
	}
	tw.Flush()
	if out.FirstBad == nil {
		fmt.Fprintf(w, "the first bad commit could be any of (the others were skipped):\n")
		for _, c := range out.Candidates {
			fmt.Fprintf(w, "  %s %s\n", c.Hash, input.Quote(c.Subject))
		}
		return
	}
	fmt.Fprintf(w, "first bad commit: %s %s\n", out.FirstBad.Hash, input.Quote(out.FirstBad.Subject))
	fmt.Fprintf(w, "last good commit: %s %s\n", out.LastGood.Hash, input.Quote(out.LastGood.Subject))
	if len(r.Flips) > 0 {
		fmt.Fprintln(w)
		FlipTable(w, out.LastGood.Short(), out.FirstBad.Short(), r.Flips)
	}
}
