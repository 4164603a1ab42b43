// Package htmlreport writes report.html: one self-contained page (inline
// CSS and SVG, no script needed, nothing fetched) with a run's summary,
// how its kernel was built, the feature probes, and for every case a
// timeline of the reader's receive queue, SO_RCVLOWAT, wake-ups, reads
// and RCVQ callbacks, drawn from the guest's events.
package htmlreport

import (
	"bytes"
	"path/filepath"

	"github.com/kernel-harness/harness/harness/outdir"
	"github.com/kernel-harness/harness/internal/fileutil"
)

// FileName is the page's name in an output folder.
const FileName = "report.html"

// Run is one run's report and events.
type Run = outdir.Run

// Input is what a page draws: one run, or for --baseline the top-level
// report (the patched run's, with the comparison) and both runs.
type Input = outdir.Output

// Write writes dir/report.html for in, atomically: a reader never sees
// half a page.
func Write(dir string, in Input) error {
	var buf bytes.Buffer
	if err := Render(&buf, in); err != nil {
		return err
	}
	return fileutil.WriteFile(filepath.Join(dir, FileName), buf.Bytes(), 0o644)
}
