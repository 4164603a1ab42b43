package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/kernel-harness/harness/harness/text"
)

// SummaryOptions say how much the end-of-run text shows.
type SummaryOptions struct {
	// Verbose prints a row per case with its measurements instead of the
	// matrix of scenarios by family and mode.
	Verbose bool
	// Out is the output folder, named before the verdict.
	Out string
}

// Summary writes what a person reads at the end of a run, most important
// first: each failed check with its want and got, the runs that broke;
// then the scenarios as a matrix (a row per scenario and path, a cell per
// family and mode), what could not run once per reason, kernel splats,
// where the report is, and last the verdict with what the run tested.
func (r *Report) Summary(w io.Writer, o SummaryOptions) {
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
			failed := s.Failed()
			for _, c := range failed {
				fmt.Fprintf(w, "FAIL %s: %s\n", s.ID(), c.Long())
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
	if n.fail+n.err > 0 {
		fmt.Fprintln(w)
	}

	switch {
	case r.Repeat != nil:
		// One line per scenario over the runs.
		r.Repeat.Table(w)
	case o.Verbose || !r.matrixFits():
		r.table(w)
	default:
		r.matrix(w)
	}

	for _, reason := range unsupported {
		noun := "cases"
		if byReason[reason] == 1 {
			noun = "case"
		}
		line := text.OneLine(reason)
		if !o.Verbose {
			line = firstReason(reason)
		}
		if line != "" {
			line = ": " + line
		}
		fmt.Fprintf(w, "unsupported: %d %s%s\n", byReason[reason], noun, line)
	}
	for _, sp := range r.Splats {
		during := ""
		if sp.Scenario != "" {
			during = " during " + sp.Scenario
		}
		fmt.Fprintf(w, "kernel: %s%s: %s\n", sp.Kind, during, text.FirstLine(sp.Text))
	}
	if r.Error != "" {
		fmt.Fprintf(w, "error: %s\n", text.OneLine(r.Error))
	}
	if o.Out != "" {
		fmt.Fprintf(w, "report: %s (report.json, junit.xml, events.jsonl, console.log)\n", joinPath(o.Out, "report.html"))
	}
	runs := ""
	if r.Repeat != nil {
		runs = fmt.Sprintf(" over %d runs, %d flaky", r.Repeat.Runs, len(r.Repeat.Flaky()))
	}
	if r.Verdict == Error && n.err == 0 && r.Error != "" {
		// No case is in error: say what made the run one.
		runs += "; the run: " + text.Trunc(text.OneLine(r.Error), 60)
	}
	tested := ""
	if h := r.Headline(); h != "" {
		tested = "; " + h
	}
	fmt.Fprintf(w, "verdict: %s (%d passed, %d failed, %d unsupported, %d error%s) in %.1fs%s\n",
		r.Verdict, n.pass, n.fail, n.unsupported, n.err, runs, r.DurationS, tested)
}

// table is a row per case with its measurements (--verbose).
func (r *Report) table(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tPATH\tFAMILY\tMODE\tVERDICT\tEPOLLIN(user/kernel)\tPARTIAL\tFRAMES")
	for _, s := range r.Scenarios {
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
}

// matrixColumns are the family x mode cells of a matrix row, in order.
var matrixColumns = []struct{ family, mode, title string }{
	{"ipv4", "baseline", "v4 baseline"},
	{"ipv4", Autolowat, "v4 autolowat"},
	{"ipv6", "baseline", "v6 baseline"},
	{"ipv6", Autolowat, "v6 autolowat"},
}

// matrixFits says whether every case has a cell in the matrix: our
// scenarios do, test_progs' tests (no family, no mode) do not.
func (r *Report) matrixFits() bool {
	for _, s := range r.Scenarios {
		if s.Selftest() || s.Run > 0 {
			return false
		}
		ok := false
		for _, c := range matrixColumns {
			ok = ok || (c.family == s.Family && c.mode == s.Mode)
		}
		if !ok {
			return false
		}
	}
	return len(r.Scenarios) > 0
}

// maxMatrixRows is the most scenarios the matrix shows all of.
const maxMatrixRows = 16

// matrix is a row per scenario and path, a cell per family and mode.
func (r *Report) matrix(w io.Writer) {
	type row struct {
		name, path string
		cells      map[string]string
	}
	var rows []*row
	index := map[string]*row{}
	used := map[string]bool{}
	for _, s := range r.Scenarios {
		k := s.Name + "\x00" + s.Path
		rw := index[k]
		if rw == nil {
			rw = &row{name: s.Name, path: s.Path, cells: map[string]string{}}
			index[k] = rw
			rows = append(rows, rw)
		}
		rw.cells[s.Family+"/"+s.Mode] = cell(s.Verdict)
		used[s.Family+"/"+s.Mode] = true
	}
	// Many scenarios would not fit a screen: only those with a failure
	// or an error get a row then, the others are counted.
	quiet := 0
	if len(rows) > maxMatrixRows {
		var loud []*row
		for _, rw := range rows {
			bad := false
			for _, v := range rw.cells {
				bad = bad || v == "FAIL" || v == "ERROR"
			}
			if bad {
				loud = append(loud, rw)
			} else {
				quiet++
			}
		}
		rows = loud
	}
	defer func() {
		switch {
		case quiet > 0 && len(rows) == 0:
			fmt.Fprintf(w, "scenarios: all %d passed or unsupported (--verbose or report.html lists them)\n", quiet)
		case quiet > 0:
			fmt.Fprintf(w, "and %d more scenarios passed or unsupported (--verbose lists them)\n", quiet)
		}
	}()
	if len(rows) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := []string{"SCENARIO", "PATH"}
	for _, c := range matrixColumns {
		if used[c.family+"/"+c.mode] {
			head = append(head, strings.ToUpper(c.title))
		}
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, rw := range rows {
		line := []string{rw.name, rw.path}
		for _, c := range matrixColumns {
			if used[c.family+"/"+c.mode] {
				v := rw.cells[c.family+"/"+c.mode]
				if v == "" {
					v = "."
				}
				line = append(line, v)
			}
		}
		fmt.Fprintln(tw, strings.Join(line, "\t"))
	}
	tw.Flush()
}

// cell is a verdict as a matrix cell: failures stand out, a case that
// could not run is a dash.
func cell(verdict string) string {
	switch verdict {
	case Pass:
		return "pass"
	case Fail:
		return "FAIL"
	case Unsupported:
		return "-"
	default:
		return "ERROR"
	}
}

func colonReason(reason string) string {
	if reason == "" {
		return ""
	}
	return ": " + text.OneLine(reason)
}

func joinPath(dir, name string) string {
	return strings.TrimSuffix(dir, "/") + "/" + name
}
