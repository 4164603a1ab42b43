package analysis

import (
	"hash/crc32"
	"slices"
	"testing"

	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/scenario"
	"github.com/kernel-harness/harness/harness/wire"
)

// scriptGuest simulates a correct guest and kernel carrying out a
// scripted case: SO_RCVLOWAT follows the series' rule once autolowat is
// on (the opt-in made before any data), the reader is woken when a step
// makes enough bytes readable, and the guest reads what the steps left.
func scriptGuest(c scenario.Case) []wire.Event {
	s := c.Scenario
	stream := s.Stream()
	ends := s.FrameEnds()
	var evs []wire.Event
	now := int64(1_000_000)
	emit := func(e wire.Event) {
		now += 1000
		e.TimeNS, e.Scenario = now, c.ID()
		evs = append(evs, e)
	}
	have := make([]bool, len(stream))
	prefix, copied, sent := 0, 0, 0
	on := false
	lowat := func() int {
		if !on {
			return 1
		}
		return ruleLowat(ends, prefix, copied)
	}
	recv := func(step, n int, expect *int) {
		copied += n
		emit(wire.Event{Kind: wire.Recv, Step: step, Offset: int64(copied - n), Bytes: n,
			CRC32: crc32.ChecksumIEEE(stream[copied-n : copied]), Lowat: lowat(), Expect: expect})
	}
	emit(wire.Event{Kind: wire.ScenarioStart})
	emit(wire.Event{Kind: wire.Rcvlowat, Cookie: 4242, Lowat: 1})
	for i, st := range s.Script {
		step, expect := i+1, &st.N
		switch st.Kind {
		case scenario.StepSend, scenario.StepSegment:
			g := st.Segment
			if st.Kind == scenario.StepSend {
				g = scenario.Segment{Offset: sent, Len: st.N}
				sent += st.N
			}
			for b := g.Offset; b < g.Offset+g.Len; b++ {
				have[b] = true
			}
			old := prefix
			for prefix < len(have) && have[prefix] {
				prefix++
			}
			// tcp_data_ready wakes the reader only when rcvlowat is met.
			if prefix > old && prefix-copied >= lowat() {
				emit(wire.Event{Kind: wire.KernelWake, Cookie: 4242, Queued: prefix - copied})
			}
			emit(wire.Event{Kind: wire.Send, Step: step, Offset: int64(g.Offset), Bytes: g.Len})
		case scenario.StepPoll:
			ready := 0
			if q := prefix - copied; q > 0 && q >= lowat() {
				ready = 1
			}
			emit(wire.Event{Kind: wire.Poll, Step: step, Ready: ready, Queued: prefix - copied, Lowat: lowat(), Expect: expect})
		case scenario.StepRecv:
			recv(step, st.N, expect)
		case scenario.StepRcvlowat:
			emit(wire.Event{Kind: wire.Rcvlowat, Step: step, Lowat: lowat(), Expect: expect})
		case scenario.StepAutolowat:
			on = true
			emit(wire.Event{Kind: wire.AutolowatOn, Step: step, Value: "reader"})
		}
	}
	if left := len(stream) - copied; left > 0 {
		recv(len(s.Script)+1, left, nil)
	}
	emit(wire.Event{Kind: wire.Settle, Step: len(s.Script) + 1, Value: "drained"})
	counters := map[string]int64{}
	switch s.Path {
	case scenario.PathOFO:
		counters["TcpExtTCPOFOQueue"] = 1
	case scenario.PathFastOpen:
		counters["TcpExtTCPFastOpenPassive"] = 1
	}
	emit(wire.Event{Kind: wire.ScenarioEnd, OK: true, Counters: counters})
	return evs
}

func exampleScripts(t *testing.T) []scenario.Scenario {
	t.Helper()
	all, err := scenario.LoadFile("../../docs/examples/scenarios.yaml", map[string]bool{})
	if err != nil {
		t.Fatal(err)
	}
	var out []scenario.Scenario
	for _, s := range all {
		if s.Scripted() {
			out = append(out, s)
		}
	}
	if len(out) < 3 {
		t.Fatalf("%d scripted examples, want at least 3", len(out))
	}
	return out
}

func exampleCase(t *testing.T, name string) scenario.Case {
	t.Helper()
	for _, s := range exampleScripts(t) {
		if s.Name == name {
			return scenario.Expand([]scenario.Scenario{s}, nil)[0]
		}
	}
	t.Fatalf("no example %q", name)
	return scenario.Case{}
}

// The documented examples pass against the series' rule, with the checks
// of a scripted case only: nothing derived from an automatic reader, even
// where the RCVQ callback is traced.
func TestAnalyzeScriptedExamples(t *testing.T) {
	for _, c := range scenario.Expand(exampleScripts(t), nil) {
		t.Run(c.ID(), func(t *testing.T) {
			r := analyzeOne(c, scriptGuest(c), true)
			if r.Verdict != report.Pass {
				t.Fatalf("verdict %q (%s), failed %+v", r.Verdict, r.Reason, r.FailedChecks)
			}
			for _, derived := range []string{"epollin-per-send", "epollin-per-frame", "rcvlowat", "no-partial-reads", "rcvq-path", "epollin-equals-kernel-wakeups"} {
				if slices.Contains(checkNames(r.Checks), derived) {
					t.Errorf("checks %q include %s, which assumes the automatic reader", checkNames(r.Checks), derived)
				}
			}
		})
	}
	c := exampleCase(t, "scripted-split-descriptor")
	r := analyzeOne(c, scriptGuest(c), true)
	want := []string{"all-delivered", "bytes-intact", "epollin-backed-by-kernel", "expect-poll", "expect-recv", "expect-rcvlowat", "kernel-path", "no-stall"}
	if got := checkNames(r.Checks); !slices.Equal(got, want) {
		t.Errorf("checks %q, want %q", got, want)
	}
	if ch := findCheck(t, r, "expect-rcvlowat"); ch.Want != "step 2: SO_RCVLOWAT 1, step 5: SO_RCVLOWAT 8, step 8: SO_RCVLOWAT 32, step 10: SO_RCVLOWAT 64, step 13: SO_RCVLOWAT 32, step 16: SO_RCVLOWAT 8" {
		t.Errorf("expect-rcvlowat want %q", ch.Want)
	}
	if c.Mode != scenario.Autolowat || r.Sends != 3 || r.EpollinUser != 2 || r.EpollinKernel != 1 || r.PartialReads != 0 {
		t.Errorf("mode %s sends %d EPOLLIN user %d kernel %d partial %d; want autolowat, 3, 2, 1, 0",
			c.Mode, r.Sends, r.EpollinUser, r.EpollinKernel, r.PartialReads)
	}
	// The initial value, then after each rcvlowat, poll and recv step.
	if want := []int{1, 1, 8, 8, 32, 32, 64, 64, 32, 32, 32, 8, 8, 8}; !slices.Equal(r.Rcvlowat, want) {
		t.Errorf("rcvlowat %v, want %v", r.Rcvlowat, want)
	}
}

// stepEvent finds the user-space event a step reported.
func stepEvent(t *testing.T, evs []wire.Event, step int) int {
	t.Helper()
	for i, e := range evs {
		if e.Step == step && e.Kind != wire.KernelWake {
			return i
		}
	}
	t.Fatalf("no event for step %d", step)
	return -1
}

// An expectation that does not hold fails its check, naming the step,
// what was expected and what was seen.
func TestAnalyzeScriptedFailures(t *testing.T) {
	c := exampleCase(t, "scripted-split-descriptor")
	stream := c.Scenario.Stream()
	tests := []struct {
		name   string
		mutate func(evs []wire.Event) []wire.Event
		failed []string
		check  string
		got    string
	}{
		{"woken while a frame is incomplete", func(evs []wire.Event) []wire.Event {
			p := stepEvent(t, evs, 7)
			evs[p].Ready = 1
			// Backed by a wake-up, so only the expectation can see it.
			wake := wire.Event{Kind: wire.KernelWake, TimeNS: evs[p].TimeNS - 1, Scenario: c.ID(), Cookie: 4242}
			return slices.Insert(evs, p, wake)
		}, []string{"expect-poll"}, "expect-poll", "step 7: 1 ready, want 0 (20 bytes queued, SO_RCVLOWAT 32)"},
		{"wrong rcvlowat", func(evs []wire.Event) []wire.Event {
			evs[stepEvent(t, evs, 8)].Lowat = 20
			return evs
		}, []string{"expect-rcvlowat"}, "expect-rcvlowat", "step 8: SO_RCVLOWAT 20, want 32"},
		{"two wrong rcvlowat", func(evs []wire.Event) []wire.Event {
			evs[stepEvent(t, evs, 5)].Lowat = 1
			evs[stepEvent(t, evs, 16)].Lowat = 1
			return evs
		}, []string{"expect-rcvlowat"}, "expect-rcvlowat", "step 5: SO_RCVLOWAT 1, want 8; step 16: SO_RCVLOWAT 1, want 8"},
		{"short read", func(evs []wire.Event) []wire.Event {
			i := stepEvent(t, evs, 15)
			evs[i].Bytes, evs[i].CRC32 = 30, crc32.ChecksumIEEE(stream[32:62])
			return evs
		}, []string{"all-delivered", "expect-recv", "no-stall"}, "expect-recv", "step 15: 30 bytes read, want 32 (SO_RCVLOWAT 8 after)"},
		{"step not reported", func(evs []wire.Event) []wire.Event {
			return slices.Delete(evs, stepEvent(t, evs, 17), stepEvent(t, evs, 17)+1)
		}, []string{"expect-poll"}, "expect-poll", "step 17 (poll 0): not reported"},
		{"EPOLLIN with no wake-up", func(evs []wire.Event) []wire.Event {
			return slices.DeleteFunc(evs, func(e wire.Event) bool { return e.Kind == wire.KernelWake })
		}, []string{"epollin-backed-by-kernel"}, "epollin-backed-by-kernel", "step 11: EPOLLIN with no kernel wake-up since the reader last had nothing to read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := analyzeOne(c, tt.mutate(scriptGuest(c)), false)
			wantFailed(t, r, tt.failed...)
			if got := findCheck(t, r, tt.check).Got; got != tt.got {
				t.Errorf("%s got %q, want %q", tt.check, got, tt.got)
			}
		})
	}
}

// A poll that finds the reader still ready, with no read or new data in
// between, needs no new wake-up: epoll is level-triggered.
func TestAnalyzeScriptedLevelTriggered(t *testing.T) {
	s := scenario.Scenario{Name: "twice", Path: scenario.PathInOrder, Frames: []scenario.Frame{{Header: 4, Payload: 20}},
		Script: []scenario.Step{{Kind: scenario.StepSend, N: 32}, {Kind: scenario.StepPoll, N: 1}, {Kind: scenario.StepPoll, N: 1},
			{Kind: scenario.StepRecv, N: 16}, {Kind: scenario.StepPoll, N: 1}, {Kind: scenario.StepRecv, N: 16}, {Kind: scenario.StepPoll, N: 0}}}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	c := scenario.Expand([]scenario.Scenario{s}, nil)[0]
	r := analyzeOne(c, scriptGuest(c), false)
	if r.Verdict != report.Pass || c.Mode != scenario.Baseline {
		t.Fatalf("mode %s verdict %q, failed %+v", c.Mode, r.Verdict, r.FailedChecks)
	}
	// The first half of the frame is a partial read; the second completes it.
	if r.PartialReads != 1 {
		t.Errorf("partial reads %d, want 1", r.PartialReads)
	}
}
