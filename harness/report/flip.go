package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Flip is one scenario at the last good and the first bad commit of a
// bisect, side by side.
type Flip struct {
	ID string `json:"id"`
	// Checks are the checks that failed at the bad commit.
	Checks []string `json:"checks,omitempty"`
	Good   *Side    `json:"good,omitempty"`
	Bad    *Side    `json:"bad,omitempty"`
}

// Flips lines up the scenarios that did not pass at bad with the same
// scenarios at good (nil: not known).
func Flips(good, bad *Report) []Flip {
	var out []Flip
	if bad == nil {
		return nil
	}
	for _, s := range bad.Scenarios {
		if s.Verdict == Pass || s.Verdict == Unsupported {
			continue
		}
		f := Flip{ID: s.ID()}
		b := side(s)
		f.Bad = &b
		for _, c := range s.Failed() {
			f.Checks = append(f.Checks, c.Short())
		}
		if good != nil {
			for _, g := range good.Scenarios {
				if g.ID() == s.ID() {
					gs := side(g)
					f.Good = &gs
				}
			}
		}
		out = append(out, f)
	}
	return out
}

// FlipTable prints flips with the two commits' names as column heads.
func FlipTable(w io.Writer, goodName, badName string, flips []Flip) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "SCENARIO\tAT\tVERDICT\tEPOLLIN\tEPOLLIN/FRAME\tPARTIAL\tLOWAT CHANGES\n")
	row := func(id, at string, s *Side) {
		if s == nil {
			fmt.Fprintf(tw, "%s\t%s\t(not run)\t\t\t\t\n", id, at)
			return
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%.2f\t%d\t%d\n", id, at, s.Verdict, s.Epollin, s.EpollinPerFrame, s.PartialReads, s.RcvlowatChanges)
	}
	for _, f := range flips {
		row(f.ID, "good "+goodName, f.Good)
		row("", "bad "+badName, f.Bad)
	}
	tw.Flush()
	for _, f := range flips {
		if len(f.Checks) > 0 {
			fmt.Fprintf(w, "%s failed at %s: %s\n", f.ID, badName, strings.Join(f.Checks, "; "))
		}
	}
}
