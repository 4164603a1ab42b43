package analysis

import (
	"fmt"
	"strings"

	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/scenario"
)

// Expect is what the reader must see after one send: whether it is woken,
// and SO_RCVLOWAT after the send and after its read.
type Expect struct {
	Ready          bool
	LowatAfterSend int
	LowatAfterRecv int // only when Ready
}

// Model computes the expectation of every step of a case, with no early
// wake-up of the kernel's own (see model).
func Model(c scenario.Case) []Expect { return model(c, kernelSeen{}).expects }

// kernelSeen is what the model takes from the run: what tcp_set_rcvlowat()
// caps rcvlowat at, and the steps after which the kernel woke the reader
// for a reason of its own besides rcvlowat, with that reason.
type kernelSeen struct {
	cap       int
	explained map[int]string
}

// modelled is the model's answer: the expectation per step, and where
// the program gave up (0: never) or was first able to run.
type modelled struct {
	expects  []Expect
	failedAt int
	optInAt  int // the step after which the reader opted in (0: before the first)
}

// model computes the expectation of every step of a case. The reader
// polls after each step and, when woken, reads what is queued, at most
// the scenario's reader max; what is queued is the stream up to the
// first hole.
//
// Baseline: rcvlowat stays 1, or the application's own SO_RCVLOWAT, so
// every send that brings that much wakes it.
// Autolowat: the series' program, followed byte for byte (program): its
// rule is the series' selftest's (ruleLowat says it plainly). With
// complete frames unread, rcvlowat covers them all; otherwise, once the
// descriptor of the frame being received is in, up to that frame's
// end; else a whole descriptor, 8, even when the reader already took
// part of it. Counted from copied_seq; as it was before the program
// first runs; 1 once the program gave up.
//
// The kernel's own rules come on top: tcp_set_rcvlowat() caps the value
// at half of sk_rcvbuf when the application locked the buffer, else at
// half of tcp_rmem[2]; tcp_epollin_ready() also wakes the reader under
// memory pressure or when the receive window is down to one MSS, and a
// wake-up the kernel had such a reason for is expected, not failed.
func model(c scenario.Case, obs kernelSeen) modelled {
	s := c.Scenario
	capped := func(v int) int {
		if obs.cap > 0 && v > obs.cap {
			v = obs.cap
		}
		return max(v, 1)
	}
	lowat := 1
	if s.AppRcvlowat != nil {
		lowat = capped(s.AppRcvlowat.Value)
	}
	auto := c.Mode == scenario.Autolowat
	optedIn := auto && s.OptInAfter == 0
	p := &program{stream: s.Stream()}
	steps, prefix := s.Steps(), s.Prefix()
	out := modelled{expects: make([]Expect, 0, len(prefix)), optInAt: s.OptInAfter}
	// A FIN riding on a segment is consumed by the read that takes that
	// segment's last byte, and copied_seq then counts it too
	// (tcp_recvmsg(): found_fin_ok); a FIN of its own is not reached by a
	// read of the bytes queued.
	finAt := 0
	for i, g := range steps {
		if g.FIN {
			finAt = i + 1
		}
	}
	seqOf := func(copied, step int) int {
		if finAt > 0 && step >= finAt && copied == s.SentLen() {
			return copied + 1
		}
		return copied
	}
	received, copied := 0, 0
	for i, got := range prefix {
		step := i + 1
		prev := received
		received = got
		if optedIn && received > prev {
			// The step's own segment, then what it let off the
			// out-of-order queue: each an skb the program is shown.
			g := steps[i]
			segEnd := min(max(g.Offset+g.Len, prev), received)
			if g.Offset <= prev && segEnd > prev {
				p.enqueue(g.Offset, segEnd, prev, step)
			} else {
				segEnd = prev
			}
			if received > segEnd {
				p.enqueue(segEnd, received, segEnd, step)
			}
			lowat = capped(p.target(copied))
		}
		e := Expect{LowatAfterSend: lowat}
		avail := received - copied
		e.Ready = avail > 0 && (avail >= lowat || obs.explained[step] != "")
		if e.Ready {
			copied += min(avail, s.ReadMax())
			if optedIn && p.started && !p.failed {
				lowat = capped(p.target(seqOf(copied, step)))
			}
			e.LowatAfterRecv = lowat
		}
		out.expects = append(out.expects, e)
		if auto && s.OptInAfter == step {
			optedIn = true
		}
	}
	out.failedAt = p.failedAt
	return out
}

func ruleLowat(ends []int, received, copied int) int {
	if received == 0 {
		// Nothing queued yet: the program has not been called.
		return 1
	}
	completeEnd, start, end := 0, 0, -1
	for _, e := range ends {
		if e <= received {
			completeEnd, start = e, e
			continue
		}
		end = e
		break
	}
	switch {
	case completeEnd > copied:
		return completeEnd - copied
	case end >= 0 && received-start >= scenario.DescLen:
		return max(end-copied, 1)
	default:
		// The series' program asks for a whole descriptor, not for
		// what is left of it.
		return scenario.DescLen
	}
}

// checkModel compares every step with the model: when the reader was
// woken, and SO_RCVLOWAT after each send and each read. The wake-ups are
// the contract every program must keep. The exact SO_RCVLOWAT values are
// the series' rule: a check for our own program, which follows it; for a
// program of the user's (own is false) a list of where and by how much
// its values differ from the rule, which decides nothing.
func checkModel(c scenario.Case, want []Expect, steps []*step, initialLowat int, own bool) ([]report.Check, []string) {
	name := "epollin-per-send"
	if c.Mode == scenario.Autolowat {
		name = "epollin-per-frame"
	}
	var wantSteps, gotSteps, diffs []string
	// Data in the SYN is queued, and the program called, before the reader
	// is accepted and can look.
	first := 1 // the reader looks before the application sets its own
	if plan := c.Scenario.Steps(); len(plan) > 0 && plan[0].SynData && len(want) > 0 {
		first = want[0].LowatAfterSend
	}
	differ := func(got, want int, where string) {
		diffs = append(diffs, fmt.Sprintf("%s: %d, the series' rule says %d (%+d)", where, got, want, got-want))
	}
	if initialLowat != first {
		differ(initialLowat, first, "when the reader first looks")
	}
	unreported := ""
	// Walk the model's steps, not the reported ones: a step the guest did
	// not report must fail, never shorten what is compared.
	for i, w := range want {
		if w.Ready {
			wantSteps = append(wantSteps, fmt.Sprint(i+1))
		}
		if i >= len(steps) || steps[i].poll == nil {
			gotSteps = append(gotSteps, fmt.Sprintf("%d:unreported", i+1))
			if unreported == "" {
				unreported = fmt.Sprintf("step %d: not reported", i+1)
			}
			continue
		}
		st := steps[i]
		if st.poll.Ready > 0 {
			gotSteps = append(gotSteps, fmt.Sprint(i+1))
		}
		if st.poll.Lowat != w.LowatAfterSend {
			differ(st.poll.Lowat, w.LowatAfterSend, fmt.Sprintf("step %d after the send", i+1))
		}
		if st.recv != nil && w.Ready && st.recv.Lowat != w.LowatAfterRecv {
			differ(st.recv.Lowat, w.LowatAfterRecv, fmt.Sprintf("step %d after the read", i+1))
		}
	}
	ep := report.Check{Name: name, Want: "EPOLLIN after sends " + list(wantSteps), Got: "EPOLLIN after sends " + list(gotSteps)}
	ep.Pass = ep.Want == ep.Got
	if c.Mode == scenario.Autolowat {
		ep.Detail = "one EPOLLIN per send that completes a frame, none while a frame is incomplete"
	} else {
		ep.Detail = "a stock kernel wakes the reader on every send that adds data"
	}
	checks := []report.Check{ep}
	if c.Mode == scenario.Autolowat && !own {
		return checks, diffs
	}
	lowat := report.Check{Name: "rcvlowat", Pass: len(diffs) == 0 && unreported == "",
		Want: fmt.Sprintf("%d when the reader first looks, then as the series' rule says after every send and read", first),
		Got:  "as the series' rule says at every step"}
	switch {
	case len(diffs) > 0:
		lowat.Got = diffs[0]
	case unreported != "":
		lowat.Got = unreported
	}
	return append(checks, lowat), nil
}

// checkRcvq checks the kernel's RCVQ trace: every step that let the
// stream advance reached the callback and no other step did, the
// scenario's own path shows up, and every read called it from recvmsg.
func checkRcvq(s scenario.Scenario, steps []*step, m modelled) []report.Check {
	ch := report.Check{Name: "rcvq-path", Pass: true,
		Want: fmt.Sprintf("an enqueue callback for every step that advances the stream, one on the %s path, a recvmsg one after every read", s.Path)}
	prefix := s.Prefix()
	seen, last := false, 0
	fail := func(format string, args ...any) {
		if ch.Pass {
			ch.Pass, ch.Got = false, fmt.Sprintf(format, args...)
		}
	}
	for i, st := range steps {
		advanced := i < len(prefix) && prefix[i] > last
		if i < len(prefix) {
			last = prefix[i]
		}
		// Before the opt-in, and after the step where the program gave
		// up (it clears its flag, so that step's read calls it no more),
		// there is no callback to see.
		step := i + 1
		if step <= m.optInAt || (m.failedAt > 0 && step > m.failedAt) {
			if len(st.rcvqPaths) > 0 {
				fail("step %d: enqueue callbacks [%s] while the program was not on", st.send.Step, strings.Join(st.rcvqPaths, " "))
			}
			continue
		}
		for _, p := range st.rcvqPaths {
			if p == s.Path {
				seen = true
			}
		}
		switch {
		case advanced && len(st.rcvqPaths) == 0:
			fail("step %d: the stream advanced with no enqueue callback", st.send.Step)
		case !advanced && len(st.rcvqPaths) > 0:
			fail("step %d: enqueue callbacks [%s] while the stream did not advance", st.send.Step, strings.Join(st.rcvqPaths, " "))
		case st.recv != nil && st.recvmsgs == 0 && step != m.failedAt:
			fail("step %d: no recvmsg callback after the read", st.send.Step)
		}
	}
	if !seen {
		fail("no callback on the %s path", s.Path)
	}
	if ch.Pass {
		ch.Got = "as wanted"
	}
	return []report.Check{ch}
}

func list(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	return strings.Join(s, ",")
}
