package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kernel-harness/harness/harness/outdir"
	"github.com/kernel-harness/harness/harness/perfetto"
	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/timeline"
	"github.com/kernel-harness/harness/harness/wire"
)

// checkHTMLReport checks the report.html a run left in out, and that
// `harness report` makes it again: a timeline for every case that ran,
// none for the unsupported ones.
func checkHTMLReport(t *testing.T, out string, rep report.Report) {
	t.Helper()
	page := filepath.Join(out, "report.html")
	if err := os.Remove(page); err != nil {
		t.Fatalf("harness run left no report.html: %v", err)
	}
	code, stdout, stderr := runHarness(t, "report", out)
	if code != 0 || strings.TrimSpace(stdout) != page {
		t.Fatalf("harness report exited %d: %s%s", code, stdout, stderr)
	}
	raw, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	html := string(raw)
	for _, s := range rep.Scenarios {
		drawn := strings.Contains(html, `<svg class="timeline" data-case="`+s.ID()+`"`)
		if drawn != (s.Verdict != report.Unsupported) {
			t.Errorf("%s (%s): timeline drawn %v", s.ID(), s.Verdict, drawn)
		}
	}
}

// checkTraceFlows checks trace.json against the run's own events: one
// flow for every EPOLLIN that follows a kernel wake-up after a send, as
// the timeline orders them.
func checkTraceFlows(t *testing.T, out string, rep report.Report) {
	t.Helper()
	run, err := outdir.LoadRun(out)
	if err != nil {
		t.Fatal(err)
	}
	byCase := map[string][]wire.Event{}
	for _, e := range run.Events {
		byCase[e.Scenario] = append(byCase[e.Scenario], e)
	}
	want := 0
	for _, s := range rep.Scenarios {
		want += timeline.Build(byCase[s.ID()], nil).WokenEpollins()
	}
	raw, err := os.ReadFile(filepath.Join(out, perfetto.FileName))
	if err != nil {
		t.Fatal(err)
	}
	var tr struct {
		TraceEvents []struct {
			Ph string  `json:"ph"`
			ID float64 `json:"id"`
		} `json:"traceEvents"`
	}
	if err := json.Unmarshal(raw, &tr); err != nil {
		t.Fatal(err)
	}
	flows := 0
	for _, e := range tr.TraceEvents {
		if e.Ph == "f" {
			flows++
		}
	}
	if want == 0 || flows != want {
		t.Errorf("trace.json has %d flows; the run has %d EPOLLINs after a send's wake-up", flows, want)
	}
}
