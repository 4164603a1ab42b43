package htmlreport

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/wire"
)

// manyCases is a run of n cases with a short timeline each, as a large
// --repeat or --scenarios run leaves.
func manyCases(n int) Input {
	rep := &report.Report{Schema: report.Schema, Verdict: report.Pass}
	var evs []wire.Event
	for i := range n {
		s := report.Scenario{Name: fmt.Sprintf("case-%d", i), Family: "ipv4", Mode: "autolowat", Verdict: report.Pass}
		rep.Scenarios = append(rep.Scenarios, s)
		id := s.ID()
		evs = append(evs,
			wire.Event{Kind: wire.Rcvlowat, Scenario: id, TimeNS: 1, Cookie: 1, Lowat: 1},
			wire.Event{Kind: wire.Send, Scenario: id, TimeNS: 2, Step: 1, Bytes: 4},
			wire.Event{Kind: wire.Poll, Scenario: id, TimeNS: 3, Step: 1, Ready: 1, Queued: 4, Lowat: 1},
		)
	}
	rep.Splats = []report.Splat{{Kind: "warning", Scenario: rep.Scenarios[n/2].ID(), Text: "WARNING: here"}}
	return Input{Top: Run{Dir: "x", Report: rep, Events: evs}}
}

// The page grows linearly with the cases: 4x the cases should cost about
// 4x the time (the scenario lookup once made it 16x).
func BenchmarkPageManyCases(b *testing.B) {
	for _, n := range []int{1000, 4000} {
		in := manyCases(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				if err := Render(io.Discard, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Every case of a large run is on the page, each once, with its splat.
func TestPageManyCases(t *testing.T) {
	in := manyCases(500)
	page := render(t, in)
	paths := svgPaths(t, page)
	if len(paths) != 500 {
		t.Errorf("%d timelines, want 500", len(paths))
	}
	if n := strings.Count(page, "WARNING: here"); n != 1 {
		t.Errorf("splat quoted %d times, want once", n)
	}
}
