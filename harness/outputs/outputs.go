// Package outputs writes the files a run leaves in its output folder
// beside console.log and events.jsonl, from the report and the guest's
// events in memory: report.json, junit.xml, results.ktap, kcidb.json,
// report.html and trace.json.
package outputs

import (
	"errors"
	"path/filepath"

	"github.com/kernel-harness/harness/harness/htmlreport"
	"github.com/kernel-harness/harness/harness/kcidb"
	"github.com/kernel-harness/harness/harness/ktap"
	"github.com/kernel-harness/harness/harness/outdir"
	"github.com/kernel-harness/harness/harness/perfetto"
	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/wire"
)

// Files written besides report.html and trace.json.
const (
	ReportName = outdir.ReportName
	JUnitName  = "junit.xml"
)

// writer writes one file of an output folder.
type writer struct {
	name  string
	write func(dir string, out outdir.Output) error
}

// writers are every file written, in this order: a new format is one
// more entry.
var writers = []writer{
	{ReportName, func(dir string, out outdir.Output) error {
		return out.Top.Report.WriteJSON(filepath.Join(dir, ReportName))
	}},
	{JUnitName, writeJUnit},
	{ktap.FileName, ktap.Write},
	{kcidb.FileName, kcidb.Write},
	{htmlreport.FileName, htmlreport.Write},
	{perfetto.FileName, writeTrace},
}

// Names are the files Write writes.
func Names() []string {
	var n []string
	for _, w := range writers {
		n = append(n, w.name)
	}
	return n
}

// Write writes one run's files to dir from its report and the events its
// guest sent (nil: none came).
func Write(dir string, rep *report.Report, evs []wire.Event) error {
	return WriteOutput(dir, outdir.Output{Top: outdir.Run{Dir: dir, Report: rep, Events: evs}})
}

// WriteBaseline writes a --baseline run's files to dir: top is the
// patched run's report with the comparison, base and patched the two
// runs (each written to a folder of its own already).
func WriteBaseline(dir string, top *report.Report, base, patched outdir.Run) error {
	return WriteOutput(dir, outdir.Output{Top: outdir.Run{Dir: dir, Report: top}, Base: &base, Patched: &patched})
}

// WriteOutput writes every file for out to dir, going on past a failure
// so that one broken writer costs one file; the errors are joined.
func WriteOutput(dir string, out outdir.Output) error {
	if out.Top.Report == nil {
		return errors.New("outputs: no report to write")
	}
	var errs []error
	for _, w := range writers {
		if err := w.write(dir, out); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// writeJUnit writes junit.xml: both runs' testcases with --baseline.
func writeJUnit(dir string, out outdir.Output) error {
	path := filepath.Join(dir, JUnitName)
	if out.Base != nil {
		return out.Top.Report.WriteJUnitPair(out.Base.Report, path)
	}
	return out.Top.Report.WriteJUnit(path)
}

// writeTrace writes trace.json. A --baseline folder has no events of its
// own: its trace is the patched run's, whose verdicts the top report
// carries.
func writeTrace(dir string, out outdir.Output) error {
	evs := out.Top.Events
	if evs == nil && out.Patched != nil {
		evs = out.Patched.Events
	}
	return perfetto.Write(dir, out.Top.Report, evs)
}
