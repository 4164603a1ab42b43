package report

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/jstemmer/go-junit-report/v2/junit"
)

// Comparison is --baseline: the stock behaviour on the base against the
// series' autolowat behaviour on the base plus the series.
type Comparison struct {
	BaseRelease    string `json:"base_release"`
	PatchedRelease string `json:"patched_release"`
	BaseVerdict    string `json:"base_verdict"`
	PatchedVerdict string `json:"patched_verdict"`
	Rows           []Row  `json:"rows"`
}

// Row compares one scenario on one family: the base kernel in baseline
// mode, and the patched kernel in autolowat mode.
type Row struct {
	Name   string `json:"name"`
	Family string `json:"family"`
	Path   string `json:"path"`
	Frames int    `json:"frames"`
	Base   Side   `json:"base"`
	Series Side   `json:"series"`
}

// Side is one column of a row.
type Side struct {
	Mode            string  `json:"mode"`
	Verdict         string  `json:"verdict"`
	Epollin         int     `json:"epollin"`
	EpollinPerFrame float64 `json:"epollin_per_frame"`
	PartialReads    int     `json:"partial_reads"`
	RcvlowatChanges int     `json:"rcvlowat_changes"`
}

// Compare lines up the two reports scenario by scenario.
func Compare(base, patched *Report) *Comparison {
	c := &Comparison{BaseRelease: base.Kernel.Release, PatchedRelease: patched.Kernel.Release,
		BaseVerdict: base.Verdict, PatchedVerdict: patched.Verdict}
	find := func(r *Report, name, family, mode string) (Scenario, bool) {
		for _, s := range r.Scenarios {
			if s.Name == name && s.Family == family && s.Mode == mode {
				return s, true
			}
		}
		return Scenario{}, false
	}
	for _, s := range base.Scenarios {
		if s.Mode != "baseline" {
			continue
		}
		p, ok := find(patched, s.Name, s.Family, "autolowat")
		if !ok {
			continue
		}
		c.Rows = append(c.Rows, Row{Name: s.Name, Family: s.Family, Path: s.Path, Frames: s.Frames,
			Base: side(s), Series: side(p)})
	}
	return c
}

func side(s Scenario) Side {
	d := Side{Mode: s.Mode, Verdict: s.Verdict, Epollin: s.EpollinUser, PartialReads: s.PartialReads}
	if s.Frames > 0 {
		d.EpollinPerFrame = float64(s.EpollinUser) / float64(s.Frames)
	}
	for i := 1; i < len(s.Rcvlowat); i++ {
		if s.Rcvlowat[i] != s.Rcvlowat[i-1] {
			d.RcvlowatChanges++
		}
	}
	return d
}

// SideBySide prints the comparison for people.
func (c *Comparison) SideBySide(w io.Writer) {
	fmt.Fprintf(w, "base %s (stock, baseline mode)  vs  base+series %s (autolowat mode)\n", c.BaseRelease, c.PatchedRelease)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tFAMILY\tPATH\tFRAMES\tBASE EPOLLIN/FRAME\tPARTIAL\tVERDICT\tSERIES EPOLLIN/FRAME\tPARTIAL\tLOWAT CHANGES\tVERDICT")
	for _, r := range c.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%.2f\t%d\t%s\t%.2f\t%d\t%d\t%s\n", r.Name, r.Family, r.Path, r.Frames,
			r.Base.EpollinPerFrame, r.Base.PartialReads, r.Base.Verdict,
			r.Series.EpollinPerFrame, r.Series.PartialReads, r.Series.RcvlowatChanges, r.Series.Verdict)
	}
	tw.Flush()
}

// WriteJUnitPair writes one JUnit file with both runs, their classnames
// prefixed "base." and "series.".
func (r *Report) WriteJUnitPair(base *Report, path string) error {
	var all junit.Testsuites
	for _, part := range []struct {
		prefix string
		rep    *Report
	}{{"base.", base}, {"series.", r}} {
		suites := part.rep.JUnit()
		for _, s := range suites.Suites {
			ts := junit.Testsuite{Name: part.prefix + s.Name, Properties: s.Properties, SystemErr: s.SystemErr}
			for _, tc := range s.Testcases {
				tc.Classname = part.prefix + tc.Classname
				ts.AddTestcase(tc)
			}
			all.AddSuite(ts)
		}
	}
	return r.writeJUnit(path, all)
}
