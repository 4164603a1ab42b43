// Package perfetto writes a run's timelines as trace.json in the Chrome
// trace-event format, which ui.perfetto.dev and chrome://tracing open:
// one process per case, a track each for the writer, the reader, the
// kernel's wake-ups and the RCVQ callbacks, counters for the bytes queued,
// held out of order and SO_RCVLOWAT, and flow arrows from a send to the
// kernel wake-up it caused to the EPOLLIN that followed.
package perfetto

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"

	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/timeline"
	"github.com/kernel-harness/harness/harness/wire"
	"github.com/kernel-harness/harness/internal/fileutil"
)

// FileName is the trace's name in an output folder.
const FileName = "trace.json"

// Event is one trace event. Times are microseconds from the run's first
// event, as the format wants.
type Event struct {
	Name string         `json:"name"`
	Cat  string         `json:"cat,omitempty"`
	Ph   string         `json:"ph"`
	TS   float64        `json:"ts"`
	Dur  float64        `json:"dur,omitempty"`
	PID  int            `json:"pid"`
	TID  int            `json:"tid,omitempty"`
	ID   int            `json:"id,omitempty"`
	BP   string         `json:"bp,omitempty"`
	S    string         `json:"s,omitempty"`
	Args map[string]any `json:"args,omitempty"`
}

// Trace is the whole of trace.json.
type Trace struct {
	TraceEvents     []Event        `json:"traceEvents"`
	DisplayTimeUnit string         `json:"displayTimeUnit"`
	OtherData       map[string]any `json:"otherData,omitempty"`
}

// Tracks of a case's process.
const (
	tidWriter = 1 + iota
	tidReader
	tidKernel
	tidRcvq
)

var trackNames = map[int]string{tidWriter: "writer", tidReader: "reader", tidKernel: "kernel wake-ups", tidRcvq: "RCVQ callbacks"}

// markLen is how long a mark's slice lasts: flow arrows bind to slices,
// and an instant is drawn too thin to find.
const markLen = 1.0 // µs

// FromRun makes the trace of one run from its report and events.
func FromRun(rep *report.Report, evs []wire.Event) Trace {
	t := Trace{DisplayTimeUnit: "ns", TraceEvents: []Event{}, OtherData: map[string]any{
		"kernel": rep.Kernel.Release, "verdict": rep.Verdict}}
	if h := rep.Headline(); h != "" {
		t.OtherData["headline"] = h
	}
	byCase := map[string][]wire.Event{}
	var origin int64 = -1
	for _, e := range evs {
		if e.Scenario != "" {
			byCase[e.Scenario] = append(byCase[e.Scenario], e)
			if origin < 0 || e.TimeNS < origin {
				origin = e.TimeNS
			}
		}
	}
	us := func(ns int64) float64 { return float64(ns-origin) / 1e3 }
	flow := 0
	for i, s := range rep.Scenarios {
		evs := byCase[s.ID()]
		if len(evs) == 0 {
			continue // never ran: nothing to draw
		}
		pid := i + 1
		add := func(e Event) { e.PID = pid; t.TraceEvents = append(t.TraceEvents, e) }
		add(Event{Name: "process_name", Ph: "M", Args: map[string]any{"name": fmt.Sprintf("%s [%s]", s.ID(), s.Verdict)}})
		add(Event{Name: "process_sort_index", Ph: "M", Args: map[string]any{"sort_index": pid}})
		for tid, name := range trackNames {
			add(Event{Name: "thread_name", Ph: "M", TID: tid, Args: map[string]any{"name": name}})
		}
		tl := timeline.Build(evs, s.FailedChecks)
		for _, c := range []struct {
			name, arg string
			points    []timeline.Point
		}{{"bytes queued", "bytes", tl.Queued}, {"bytes out of order", "bytes", tl.OFO}, {"SO_RCVLOWAT", "bytes", tl.Lowat}} {
			for _, p := range c.points {
				add(Event{Name: c.name, Ph: "C", TS: us(p.T), Args: map[string]any{c.arg: p.V}})
			}
		}
		marks := append([]timeline.Mark(nil), tl.Marks...)
		sort.SliceStable(marks, func(a, b int) bool { return marks[a].T < marks[b].T })
		// A flow per EPOLLIN that follows a wake-up: from the send before
		// the last wake-up since the previous EPOLLIN, through it.
		var lastSend, lastWake, wakeSend *timeline.Mark
		for k := range marks {
			m := &marks[k]
			e := Event{Name: markName(m), Cat: m.Kind, Ph: "X", TS: us(m.T), Dur: markLen, TID: markTrack(m.Kind),
				Args: map[string]any{"step": m.Step, "what": m.Label}}
			if m.Bytes > 0 {
				e.Args["bytes"] = m.Bytes
			}
			add(e)
			switch m.Kind {
			case timeline.MarkSend:
				lastSend = m
			case timeline.MarkWake:
				if lastSend != nil {
					lastWake, wakeSend = m, lastSend
				}
			case timeline.MarkEpollin:
				// The send that queued the bytes, the kernel's wake-up,
				// and the EPOLLIN the reader got.
				if lastWake == nil {
					continue
				}
				flow++
				add(Event{Name: "wake-up", Cat: "flow", Ph: "s", ID: flow, TS: us(wakeSend.T), TID: tidWriter})
				add(Event{Name: "wake-up", Cat: "flow", Ph: "t", ID: flow, TS: us(lastWake.T), TID: tidKernel})
				add(Event{Name: "wake-up", Cat: "flow", Ph: "f", BP: "e", ID: flow, TS: us(m.T), TID: tidReader})
				lastWake = nil
			}
		}
		for _, f := range tl.Failures {
			at := tl.End
			if len(f.Times) > 0 {
				at = f.Times[0]
			}
			add(Event{Name: "FAIL " + f.Check.Name, Cat: "check", Ph: "i", S: "p", TS: us(at), TID: tidReader,
				Args: map[string]any{"want": f.Check.Want, "got": f.Check.Got, "detail": f.Check.Detail}})
		}
	}
	return t
}

func markName(m *timeline.Mark) string {
	switch m.Kind {
	case timeline.MarkRcvq:
		if m.Path != "" {
			return "rcvq " + m.Path
		}
	case timeline.MarkEpollin:
		return "EPOLLIN"
	}
	return m.Kind
}

func markTrack(kind string) int {
	switch kind {
	case timeline.MarkSend:
		return tidWriter
	case timeline.MarkWake:
		return tidKernel
	case timeline.MarkRcvq:
		return tidRcvq
	}
	return tidReader
}

// Write writes dir/trace.json for a run's report and events.
func Write(dir string, rep *report.Report, evs []wire.Event) error {
	b, err := json.Marshal(FromRun(rep, evs))
	if err != nil {
		return fmt.Errorf("trace.json: %w", err)
	}
	return fileutil.WriteFile(filepath.Join(dir, FileName), append(b, '\n'), 0o644)
}
