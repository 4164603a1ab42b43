package outdir

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/kernel-harness/harness/harness/input"
	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/wire"
)

// Files of a run in its output folder.
const (
	ReportName = "report.json"
	EventsName = "events.jsonl"
)

// Run is one run: its report and the events its guest sent.
type Run struct {
	// Dir is the run's output folder, named in what is said about it.
	Dir    string
	Report *report.Report
	// Events is nil when the guest sent none (the folder has no
	// events.jsonl): the run ended before the guest said anything.
	Events []wire.Event
}

// Output is what an output folder holds: one run, or for --baseline the
// top-level report (the patched run's, with the comparison) and both
// runs.
type Output struct {
	Top           Run
	Base, Patched *Run
}

// Load reads an output folder as `harness run` left it: report.json and
// events.jsonl, and for a --baseline report also base/ and patched/.
func Load(dir string) (Output, error) {
	top, err := LoadRun(dir)
	if err != nil {
		return Output{}, err
	}
	out := Output{Top: *top}
	if top.Report.Baseline == nil {
		return out, nil
	}
	if out.Base, err = LoadRun(filepath.Join(dir, "base")); err != nil {
		return Output{}, fmt.Errorf("baseline report: %w", err)
	}
	if out.Patched, err = LoadRun(filepath.Join(dir, "patched")); err != nil {
		return Output{}, fmt.Errorf("baseline report: %w", err)
	}
	return out, nil
}

// MaxReadBytes bounds each file read back from a folder: a report.json
// or events.jsonl that is a link to /dev/zero, or grew without end, is
// refused rather than read into memory.
const MaxReadBytes = 1 << 30

// LoadRun reads one run's folder: report.json, and events.jsonl when
// there is one.
func LoadRun(dir string) (*Run, error) {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%s: no such folder", dir)
	case err != nil:
		return nil, err
	case !st.IsDir():
		return nil, fmt.Errorf("%s is not a folder", dir)
	}
	p := filepath.Join(dir, ReportName)
	raw, err := input.ReadFile(p, MaxReadBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s is not a harness output folder: it has no %s", dir, ReportName)
	}
	if err != nil {
		return nil, err
	}
	r := &Run{Dir: dir, Report: &report.Report{}}
	if err := json.Unmarshal(raw, r.Report); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if r.Report.Schema != report.Schema {
		return nil, fmt.Errorf("%s: schema %q, this harness reads %q", p, r.Report.Schema, report.Schema)
	}
	if r.Events, err = LoadEvents(dir); err != nil {
		return nil, err
	}
	return r, nil
}

// LoadEvents reads dir's events.jsonl: nil when there is none, empty
// when the guest sent nothing.
func LoadEvents(dir string) ([]wire.Event, error) {
	f, err := input.Open(filepath.Join(dir, EventsName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > MaxReadBytes {
		return nil, fmt.Errorf("%s is %d bytes, more than the %d MiB harness report reads", f.Name(), fi.Size(), MaxReadBytes>>20)
	}
	evs, err := wire.ReadAll(io.LimitReader(f, MaxReadBytes))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name(), err)
	}
	if evs == nil {
		evs = []wire.Event{}
	}
	return evs, nil
}
