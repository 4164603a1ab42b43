package report

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/kernel-harness/harness/harness/bisect"
	"github.com/kernel-harness/harness/harness/input"
	"github.com/kernel-harness/harness/harness/text"
	"github.com/kernel-harness/harness/internal/fileutil"
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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", step, e.Commit.Short(), text.Trunc(input.Quote(e.Subject), 50), build, e.Verdict, text.Trunc(e.Reason, 80))
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

// BisectVerdict maps a run to a bisect verdict: a failed scenario or a kernel
// splat is bad, all passed is good; a run that could not be done counts
// as bootFailure; unsupported scenarios (the kernel lacks what they
// check) are neither good nor bad, so skip.
func BisectVerdict(rep *Report, err error, bootFailure bisect.Verdict) (bisect.Verdict, string, []string) {
	if err != nil || rep == nil {
		msg := "no report"
		if err != nil {
			msg = text.OneLine(err.Error())
		}
		return bootFailure, "boot failed: " + msg, nil
	}
	var failed, ids, errored, unsupported []string
	for _, s := range rep.Scenarios {
		switch s.Verdict {
		case Pass:
		case Fail:
			var checks []string
			for _, c := range s.FailedChecks {
				checks = append(checks, c.Name)
			}
			failed = append(failed, s.ID()+": "+strings.Join(checks, ", "))
			ids = append(ids, s.ID())
		case Unsupported:
			unsupported = append(unsupported, s.ID())
		default:
			errored = append(errored, s.ID()+": "+text.OneLine(s.Reason))
		}
	}
	switch {
	case len(failed) > 0:
		return bisect.Bad, "failed: " + strings.Join(ids, ", "), failed
	case len(rep.Splats) > 0:
		return bisect.Bad, "kernel " + rep.Splats[0].Kind + ": " + text.FirstLine(rep.Splats[0].Text), nil
	case len(errored) > 0:
		return bootFailure, "scenario error: " + errored[0], nil
	case len(unsupported) > 0:
		return bisect.Skip, "unsupported: " + strings.Join(unsupported, ", "), nil
	}
	return bisect.Good, fmt.Sprintf("passed: %d scenarios", len(rep.Scenarios)), nil
}

// ReadStep reads a step's report.json, nil when there is none.
func ReadStep(dir string) *Report {
	if dir == "" {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		return nil
	}
	var r Report
	if json.Unmarshal(b, &r) != nil {
		return nil
	}
	return &r
}

// WriteJSON writes bisect.json.
func (r *BisectReport) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return fileutil.WriteFile(path, append(b, '\n'), 0o644)
}
