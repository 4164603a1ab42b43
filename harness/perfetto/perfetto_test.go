package perfetto

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kernel-harness/harness/harness/outdir"
	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/timeline"
	"github.com/kernel-harness/harness/harness/wire"
)

// TestTraceOfARealRun writes trace.json for a real run's folder (the
// report.html fixture), reads it back as a trace viewer would and checks
// what the format requires and what the harness promises: a named
// process per case that ran, named tracks, counters, and flows whose
// every id starts at a send, steps at a kernel wake-up and ends at an
// EPOLLIN.
func TestTraceOfARealRun(t *testing.T) {
	dir := t.TempDir()
	in, err := outdir.Load("../htmlreport/testdata/run")
	if err != nil {
		t.Fatal(err)
	}
	if err := Write(dir, in.Top.Report, in.Top.Events); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	var tr struct {
		TraceEvents []map[string]any `json:"traceEvents"`
		Unit        string           `json:"displayTimeUnit"`
	}
	if err := json.Unmarshal(raw, &tr); err != nil {
		t.Fatalf("trace.json is not JSON: %v", err)
	}
	processes := map[float64]string{}
	threads := map[[2]float64]string{}
	counters := map[string]int{}
	type flowEnds struct {
		phases   string
		finishBP string
		cats     []string
	}
	flows := map[float64]*flowEnds{}
	sliceAt := map[[3]float64]string{} // pid, tid, ts -> name of a slice there
	for i, e := range tr.TraceEvents {
		ph, _ := e["ph"].(string)
		ts, okTS := e["ts"].(float64)
		pid, okPID := e["pid"].(float64)
		if ph == "" || !okPID || (ph != "M" && (!okTS || ts < 0)) {
			t.Fatalf("event %d lacks ph, pid or a ts >= 0: %v", i, e)
		}
		args, _ := e["args"].(map[string]any)
		tid, _ := e["tid"].(float64)
		switch ph {
		case "M":
			switch e["name"] {
			case "process_name":
				processes[pid] = args["name"].(string)
			case "thread_name":
				threads[[2]float64{pid, tid}] = args["name"].(string)
			}
		case "C":
			counters[e["name"].(string)]++
		case "X":
			if d, _ := e["dur"].(float64); d <= 0 {
				t.Errorf("slice without a duration: %v", e)
			}
			sliceAt[[3]float64{pid, tid, ts}] = e["name"].(string)
		case "s", "t", "f":
			id := e["id"].(float64)
			if flows[id] == nil {
				flows[id] = &flowEnds{}
			}
			fl := flows[id]
			fl.phases += ph
			if ph == "f" {
				fl.finishBP, _ = e["bp"].(string)
			}
			// Each end binds to a slice on its track at its time.
			name, ok := sliceAt[[3]float64{pid, tid, ts}]
			if !ok {
				t.Errorf("flow %v %s binds to no slice at %v", id, ph, ts)
			}
			fl.cats = append(fl.cats, name)
		}
	}
	ran := 0
	for _, s := range in.Top.Report.Scenarios {
		if s.Verdict == report.Unsupported {
			continue
		}
		ran++
		found := false
		for _, name := range processes {
			found = found || strings.HasPrefix(name, s.ID()+" [")
		}
		if !found {
			t.Errorf("no process for %s", s.ID())
		}
	}
	if ran == 0 || len(processes) != ran {
		t.Errorf("%d processes for %d cases that ran", len(processes), ran)
	}
	for pid := range processes {
		for tid, want := range map[float64]string{1: "writer", 2: "reader", 3: "kernel wake-ups", 4: "RCVQ callbacks"} {
			if threads[[2]float64{pid, tid}] != want {
				t.Errorf("process %v track %v named %q, want %q", pid, tid, threads[[2]float64{pid, tid}], want)
			}
		}
	}
	for _, c := range []string{"bytes queued", "SO_RCVLOWAT", "bytes out of order"} {
		if counters[c] == 0 {
			t.Errorf("no %q counter", c)
		}
	}
	if len(flows) == 0 {
		t.Fatal("no flow from a send to its wake-up to an EPOLLIN")
	}
	for id, f := range flows {
		if f.phases != "stf" || f.finishBP != "e" || strings.Join(f.cats, ",") != "send,kwake,EPOLLIN" {
			t.Errorf("flow %v: phases %q bp %q slices %v, want stf, e, send,kwake,EPOLLIN", id, f.phases, f.finishBP, f.cats)
		}
	}
	// One flow per EPOLLIN that follows a send's wake-up (this run's
	// sends were stamped after the syscall: their wake-ups sort first).
	want := 0
	for _, s := range in.Top.Report.Scenarios {
		var evs []wire.Event
		for _, e := range in.Top.Events {
			if e.Scenario == s.ID() {
				evs = append(evs, e)
			}
		}
		want += timeline.Build(evs, nil).WokenEpollins()
	}
	if len(flows) != want {
		t.Errorf("%d flows, want one per EPOLLIN after a send's wake-up: %d", len(flows), want)
	}
	// The failed case's failed checks are marked.
	if !strings.Contains(string(raw), `"FAIL expect-poll"`) {
		t.Errorf("no mark for the failed check expect-poll")
	}
}

// A run without events (a --baseline folder's top, a boot that failed)
// is an empty trace, not a null one.
func TestTraceOfNoEvents(t *testing.T) {
	dir := t.TempDir()
	if err := Write(dir, &report.Report{}, nil); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, FileName))
	if !strings.Contains(string(raw), `"traceEvents":[]`) {
		t.Errorf("trace.json: %s", raw)
	}
}
