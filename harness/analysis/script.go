package analysis

import (
	"fmt"
	"strings"

	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/scenario"
	"github.com/kernel-harness/harness/harness/wire"
)

// analyzeScript measures and checks a scripted case. Its steps say what
// must hold, so what is derived from an automatic reader does not apply:
// the checks are the steps' expectations, one per kind of step, and what
// holds whatever the steps are (bytes intact, all delivered, EPOLLIN
// backed by the kernel).
func analyzeScript(c scenario.Case, r *report.Scenario, evs []wire.Event, initialLowat int, cookie uint64) {
	s := c.Scenario
	// The user-space event of each step, by step number; the guest's
	// final read of what the steps left is numbered one past the last.
	byStep := map[int]wire.Event{}
	var recvs, reader []wire.Event
	sent := 0
	r.Rcvlowat = append(r.Rcvlowat, initialLowat)
	for _, e := range evs {
		switch e.Kind {
		case wire.KernelWake, wire.KernelRcvq, wire.KernelRcvlowat:
			// Other sockets' kernel events (a listener's) are not the reader's.
			if e.Cookie != cookie {
				continue
			}
		case wire.Send, wire.Poll, wire.Recv, wire.Rcvlowat, wire.AutolowatOn:
			if e.Step == 0 {
				continue
			}
			byStep[e.Step] = e
		}
		switch e.Kind {
		case wire.Send:
			sent++
		case wire.Poll:
			r.Rcvlowat = append(r.Rcvlowat, e.Lowat)
			if e.Ready > 0 {
				r.EpollinUser++
			}
		case wire.Recv:
			r.Rcvlowat = append(r.Rcvlowat, e.Lowat)
			recvs = append(recvs, e)
		case wire.Rcvlowat:
			r.Rcvlowat = append(r.Rcvlowat, e.Lowat)
		case wire.KernelWake:
			r.EpollinKernel++
		}
		reader = append(reader, e)
	}
	r.PartialReads = partialReads(recvs, s.FrameEnds())
	r.Checks = append(r.Checks, checkStream(s, sent, recvs)...)
	r.Checks = append(r.Checks, checkScriptBacked(s, reader))
	r.Checks = append(r.Checks, checkExpectations(s, byStep)...)
}

// expectations are the kinds of step that expect something: the check
// each makes, the event that reports it, and how its value reads.
var expectations = []struct {
	kind, check string
	event       wire.Kind
	format      string
}{
	{scenario.StepPoll, "expect-poll", wire.Poll, "%d ready"},
	{scenario.StepRecv, "expect-recv", wire.Recv, "%d bytes read"},
	{scenario.StepRcvlowat, "expect-rcvlowat", wire.Rcvlowat, "SO_RCVLOWAT %d"},
}

// observed is what a step's event shows against its expectation, and
// what else the guest saw there, to help read a failure.
func observed(e wire.Event) (int, string) {
	switch e.Kind {
	case wire.Poll:
		return e.Ready, fmt.Sprintf(" (%d bytes queued, SO_RCVLOWAT %d)", e.Queued, e.Lowat)
	case wire.Recv:
		return e.Bytes, fmt.Sprintf(" (SO_RCVLOWAT %d after)", e.Lowat)
	}
	return e.Lowat, ""
}

// checkExpectations makes one check per kind of expectation the script
// has. It walks the script, not the reported events, so that a step the
// guest did not report fails instead of being skipped.
func checkExpectations(s scenario.Scenario, byStep map[int]wire.Event) []report.Check {
	var checks []report.Check
	for _, x := range expectations {
		var want, bad []string
		for i, st := range s.Script {
			if st.Kind != x.kind {
				continue
			}
			n := i + 1
			want = append(want, fmt.Sprintf("step %d: "+x.format, n, st.N))
			e, ok := byStep[n]
			if !ok || e.Kind != x.event {
				bad = append(bad, fmt.Sprintf("step %d (%s): not reported", n, st))
				continue
			}
			if got, more := observed(e); got != st.N {
				bad = append(bad, fmt.Sprintf("step %d: "+x.format+", want %d%s", n, got, st.N, more))
			}
		}
		if len(want) == 0 {
			continue
		}
		ch := report.Check{Name: x.check, Pass: len(bad) == 0, Want: strings.Join(want, ", "), Got: "as every step expects"}
		if !ch.Pass {
			ch.Got = strings.Join(bad, "; ")
		}
		checks = append(checks, ch)
	}
	return checks
}

// checkScriptBacked checks that every EPOLLIN follows a kernel wake-up.
// The steps may poll twice without new data, or read part of what is
// queued, and readiness then lasts without a new wake-up; so the wake-up
// is looked for since the reader was last seen with nothing to read: a
// poll that found it not ready, or a read that emptied the queue. Data
// in the SYN is queued and woken for before the reader is watched, so
// until such a point the check has nothing to go by.
func checkScriptBacked(s scenario.Scenario, evs []wire.Event) report.Check {
	ch := report.Check{Name: "epollin-backed-by-kernel", Pass: true,
		Want: "a kernel wake-up before every EPOLLIN, since the reader last had nothing to read"}
	transfers := s.Steps()
	prefix := s.Prefix()
	known := len(transfers) == 0 || !transfers[0].SynData
	wakes, user, sent, read := 0, 0, 0, 0
	for _, e := range evs {
		switch e.Kind {
		case wire.KernelWake:
			wakes++
		case wire.Send:
			sent++
		case wire.Poll:
			if e.Ready == 0 {
				known, wakes = true, 0
				continue
			}
			user++
			if known && wakes == 0 && ch.Pass {
				ch.Pass = false
				ch.Got = fmt.Sprintf("step %d: EPOLLIN with no kernel wake-up since the reader last had nothing to read", e.Step)
			}
		case wire.Recv:
			read += e.Bytes
			if sent > 0 && sent <= len(prefix) && read >= prefix[sent-1] {
				known, wakes = true, 0
			}
		}
	}
	if ch.Pass {
		ch.Got = fmt.Sprintf("%d EPOLLIN, each after a wake-up", user)
	}
	return ch
}
