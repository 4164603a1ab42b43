package htmlreport

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/kernel-harness/harness/harness/outdir"
	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/wire"
)

// The fixtures under testdata are real runs trimmed to a few cases; this
// remakes them (testdata/README.md says from what).
var fixtureFrom = flag.String("fixture-from", "", "remake testdata from `DIR`/hook, DIR/debian and DIR/wrong (real output folders)")

// fixtureCases are the cases kept: each path, both modes, a script, and a
// script whose expectations fail.
var fixtureCases = []string{
	"split-frame/ipv4/baseline",
	"split-frame/ipv4/autolowat",
	"ofo-descriptor-last/ipv6/autolowat",
	"fastopen-then-ofo/ipv4/autolowat",
	"scripted-split-descriptor/ipv4/autolowat",
	"scripted-wrong-expectations/ipv4/autolowat",
}

var baselineCases = []string{
	"split-frame/ipv4/baseline",
	"split-frame/ipv4/autolowat",
	"ofo-descriptor-last/ipv6/baseline",
	"ofo-descriptor-last/ipv6/autolowat",
}

func TestMakeFixture(t *testing.T) {
	if *fixtureFrom == "" {
		t.Skip("-fixture-from not given")
	}
	from := *fixtureFrom
	hook, debian, wrong := mustLoad(t, filepath.Join(from, "hook")), mustLoad(t, filepath.Join(from, "debian")), mustLoad(t, filepath.Join(from, "wrong"))

	// One run with a failed case, and a splat during it: no real run of
	// ours has one, so it is made up (the kind and text of a WARNING).
	run := trim(hook, fixtureCases)
	w := trim(wrong, fixtureCases)
	run.Report.Scenarios = append(run.Report.Scenarios, w.Report.Scenarios...)
	for _, e := range w.Events {
		if e.Scenario != "" {
			run.Events = append(run.Events, e)
		}
	}
	splat := report.Splat{Kind: "warning", Scenario: "scripted-wrong-expectations/ipv4/autolowat",
		Text: "WARNING: CPU: 1 PID: 212 at net/ipv4/tcp.c:1234 tcp_rcvq_cb+0x5c/0x80\nModules linked in: tun\nCall Trace:\n <TASK>\n tcp_data_queue+0x2f1/0xd40\n </TASK>"}
	run.Report.Splats = []report.Splat{splat}
	run.Report.Scenarios[len(run.Report.Scenarios)-1].Splats = []string{splat.Text}
	run.Report.Verdict = ""
	run.Report.Finish()
	save(t, "testdata/run", run)

	// --baseline: Debian's kernel standing in for the base.
	base, patched := trim(debian, baselineCases), trim(hook, baselineCases)
	save(t, "testdata/baseline/base", base)
	save(t, "testdata/baseline/patched", patched)
	top := *patched.Report
	top.Baseline = report.Compare(base.Report, patched.Report)
	save(t, "testdata/baseline", &Run{Report: &top})
}

func mustLoad(t *testing.T, dir string) *Run {
	t.Helper()
	in, err := outdir.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return &in.Top
}

// trim keeps the cases named and the events that are not any case's.
func trim(r *Run, ids []string) *Run {
	rep := *r.Report
	rep.Scenarios = nil
	for _, s := range r.Report.Scenarios {
		if slices.Contains(ids, s.ID()) {
			rep.Scenarios = append(rep.Scenarios, s)
		}
	}
	out := &Run{Report: &rep, Events: []wire.Event{}}
	for _, e := range r.Events {
		if e.Scenario == "" || slices.Contains(ids, e.Scenario) {
			out.Events = append(out.Events, e)
		}
	}
	return out
}

func save(t *testing.T, dir string, r *Run) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := r.Report.WriteJSON(filepath.Join(dir, "report.json")); err != nil {
		t.Fatal(err)
	}
	if r.Events == nil {
		return
	}
	f, err := os.Create(filepath.Join(dir, "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	enc := json.NewEncoder(f)
	for _, e := range r.Events {
		if err := enc.Encode(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
