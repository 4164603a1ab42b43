// Package htmlreport writes report.html: one self-contained page (inline
// CSS and SVG, no script needed, nothing fetched) with a run's summary,
// how its kernel was built, the feature probes, and for every case a
// timeline of the reader's receive queue, SO_RCVLOWAT, wake-ups, reads
// and RCVQ callbacks, drawn from events.jsonl.
package htmlreport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/wire"
)

// FileName is the page's name in an output folder.
const FileName = "report.html"

// Run is one run's output folder: its report and its events.
type Run struct {
	Dir    string
	Report *report.Report
	// Events is nil when the folder has no events.jsonl: the run ended
	// before the guest said anything.
	Events []wire.Event
}

// Input is what a page draws: one run, or for --baseline the top-level
// report (the patched run's, with the comparison) and both runs.
type Input struct {
	Top           Run
	Base, Patched *Run
}

// Load reads an output folder as `harness run` left it.
func Load(dir string) (Input, error) { return load(dir, nil) }

// LoadWith is Load with the folder's report at hand (nil reads
// report.json).
func LoadWith(dir string, rep *report.Report) (Input, error) { return load(dir, rep) }

// Write writes dir/report.html for the output folder dir. rep is the
// folder's report when the caller has it at hand; nil reads report.json.
func Write(dir string, rep *report.Report) error {
	in, err := load(dir, rep)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := Render(&buf, in); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, FileName), buf.Bytes())
}

func load(dir string, rep *report.Report) (Input, error) {
	top, err := loadRun(dir, rep)
	if err != nil {
		return Input{}, err
	}
	in := Input{Top: *top}
	if top.Report.Baseline == nil {
		return in, nil
	}
	// --baseline: the two runs are in folders of their own.
	if in.Base, err = loadRun(filepath.Join(dir, "base"), nil); err != nil {
		return Input{}, fmt.Errorf("baseline report: %w", err)
	}
	if in.Patched, err = loadRun(filepath.Join(dir, "patched"), nil); err != nil {
		return Input{}, fmt.Errorf("baseline report: %w", err)
	}
	return in, nil
}

func loadRun(dir string, rep *report.Report) (*Run, error) {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%s: no such folder", dir)
	case err != nil:
		return nil, err
	case !st.IsDir():
		return nil, fmt.Errorf("%s is not a folder", dir)
	}
	r := &Run{Dir: dir, Report: rep}
	if rep == nil {
		raw, err := os.ReadFile(filepath.Join(dir, "report.json"))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s is not a harness output folder: it has no report.json", dir)
		}
		if err != nil {
			return nil, err
		}
		r.Report = &report.Report{}
		if err := json.Unmarshal(raw, r.Report); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "report.json"), err)
		}
		if r.Report.Schema != report.Schema {
			return nil, fmt.Errorf("%s: schema %q, this harness reads %q", filepath.Join(dir, "report.json"), r.Report.Schema, report.Schema)
		}
	}
	f, err := os.Open(filepath.Join(dir, "events.jsonl"))
	if errors.Is(err, fs.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if r.Events, err = wire.ReadAll(f); err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name(), err)
	}
	if r.Events == nil {
		r.Events = []wire.Event{}
	}
	return r, nil
}

// writeAtomic writes data beside path and renames it into place, so that
// a reader never sees half a page.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	err = errors.Join(werr, f.Chmod(0o644), f.Close())
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
