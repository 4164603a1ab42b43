// Package analysis turns the guest's events into verdicts: for each case
// of the plan it measures what the reader and the kernel did and checks it
// against what must hold in the case's mode.
package analysis

import (
	"fmt"
	"hash/crc32"
	"sort"

	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/scenario"
	"github.com/kernel-harness/harness/harness/wire"
)

// Analyze returns one report scenario per case of the plan, in plan order.
// A case the guest never reported on is an error, never a pass.
// NeverStarted is the reason of a case the guest did not get to.
const NeverStarted = "the guest never started this scenario"

func Analyze(plan scenario.Plan, events []wire.Event, rcvqTraced bool) []report.Scenario {
	byCase := map[string][]wire.Event{}
	own := true
	for _, e := range events {
		if e.Scenario != "" {
			byCase[e.Scenario] = append(byCase[e.Scenario], e)
		}
		if e.Kind == wire.BPF && e.Name != "" {
			own = false // the guest loaded the user's object
		}
	}
	out := make([]report.Scenario, 0, len(plan.Cases))
	for _, c := range plan.Cases {
		out = append(out, analyzeCase(c, byCase[c.ID()], rcvqTraced, own))
	}
	return out
}

// Step is what the reader saw after one send.
type step struct {
	send      wire.Event
	poll      *wire.Event
	recv      *wire.Event
	kwakes    int // kernel wake-ups by data between the previous poll and this one
	wakes     []wire.Event
	rcvqPaths []string
	recvmsgs  int
}

// own says the programs are the harness's; for the user's, SO_RCVLOWAT
// values that differ from the series' rule are reported, not failed.
func analyzeCase(c scenario.Case, evs []wire.Event, rcvqTraced, own bool) report.Scenario {
	s := c.Scenario
	r := report.Scenario{Name: s.Name, Family: c.Family, Path: s.Path, Mode: c.Mode, Run: c.Run,
		Frames: len(s.Frames), Sends: len(s.Steps()), Checks: []report.Check{}}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].TimeNS < evs[j].TimeNS })

	var start, end *wire.Event
	for i := range evs {
		switch evs[i].Kind {
		case wire.ScenarioStart:
			start = &evs[i]
		case wire.ScenarioEnd:
			end = &evs[i]
		}
	}
	switch {
	case start == nil:
		r.Verdict, r.Reason = report.Error, NeverStarted
		return r
	case end == nil:
		r.Verdict, r.Reason = report.Error, "the guest stopped during this scenario"
		return r
	}
	r.DurationS = float64(end.TimeNS-start.TimeNS) / 1e9
	if !end.OK {
		r.Verdict, r.Reason = end.Value, end.Message
		if r.Verdict != report.Unsupported {
			r.Verdict = report.Error
		}
		return r
	}

	reader := readerOf(evs)
	initialLowat, cookie := reader.Lowat, reader.Cookie
	if cookie == 0 {
		r.Verdict, r.Reason = report.Error, "the guest reported no reader socket"
		return r
	}
	for _, e := range evs {
		if e.Kind == wire.KernelLost {
			r.Checks = append(r.Checks, report.Check{Name: "trace-complete", Want: "0 events lost", Got: fmt.Sprintf("%d lost", e.Bytes)})
		}
	}
	var tail []report.Check
	if s.Scripted() {
		analyzeScript(c, &r, evs, initialLowat, cookie)
	} else {
		tail = analyzeDerived(c, &r, evs, reader, rcvqTraced, own)
	}
	r.Checks = append(r.Checks, checkPath(s, end.Counters))
	r.Checks = append(r.Checks, tail...)
	r.Checks = append(r.Checks, checkLiveness(s, endingOf(evs), bytesRead(evs))...)
	r.Verdict = report.Pass
	for _, ch := range r.Checks {
		if !ch.Pass {
			r.Verdict = report.Fail
			r.FailedChecks = append(r.FailedChecks, ch)
		}
	}
	return r
}

// analyzeDerived measures and checks a case whose reader polls after
// every step and reads what is queued: what must hold is derived from
// the frames and the steps, and from the kernel's own reasons for the
// wake-ups it made. It returns the checks that follow kernel-path.
func analyzeDerived(c scenario.Case, r *report.Scenario, evs []wire.Event, reader wire.Event, rcvqTraced, own bool) (tail []report.Check) {
	s := c.Scenario
	steps := collect(evs, reader.Cookie)
	r.Rcvlowat = append(r.Rcvlowat, reader.Lowat)
	for _, st := range steps {
		if st.poll != nil {
			r.Rcvlowat = append(r.Rcvlowat, st.poll.Lowat)
			if st.poll.Ready > 0 {
				r.EpollinUser++
			}
		}
		if st.recv != nil {
			r.Rcvlowat = append(r.Rcvlowat, st.recv.Lowat)
		}
		r.EpollinKernel += st.kwakes
	}
	explained := explainedWakes(steps, reader.Cap)
	m := model(c, kernelSeen{cap: reader.Cap, explained: explained})
	r.PartialReads = wokenWithoutFrame(s, steps, explained, m)
	r.Checks = append(r.Checks, checkStream(s, len(steps), readerRecvs(evs))...)
	r.Checks = append(r.Checks, checkKernelAgrees(s, steps)...)
	checks, diffs := checkModel(c, m.expects, steps, reader.Lowat, own)
	r.Checks = append(r.Checks, checks...)
	r.RuleDifferences = diffs
	if c.Mode == scenario.Autolowat {
		tail = append(tail, report.Check{Name: "no-partial-reads", Pass: r.PartialReads == 0,
			Want: "0", Got: fmt.Sprint(r.PartialReads), Detail: "wake-ups with no whole frame queued that the kernel had no reason of its own for"})
		if rcvqTraced {
			tail = append(tail, checkRcvq(s, steps, m)...)
		}
	}
	return tail
}

// readerOf is the step-less rcvlowat event the guest sends first: the
// reader socket's cookie, SO_RCVLOWAT before the first step, its
// SO_RCVBUF and the cap of tcp_set_rcvlowat().
func readerOf(evs []wire.Event) wire.Event {
	var r wire.Event
	for _, e := range evs {
		if e.Kind == wire.Rcvlowat && e.Step == 0 {
			r = e
		}
	}
	return r
}

// readerRecvs are every read of the case, in order: the steps' and those
// after the last step.
func readerRecvs(evs []wire.Event) []wire.Event {
	var out []wire.Event
	for _, e := range evs {
		if e.Kind == wire.Recv {
			out = append(out, e)
		}
	}
	return out
}

// bytesRead is how much of the stream the case's reads took.
func bytesRead(evs []wire.Event) int {
	n := 0
	for _, e := range readerRecvs(evs) {
		n += e.Bytes
	}
	return n
}

// wokenWithoutFrame counts the steps whose EPOLLIN found no whole frame
// among the queued bytes, leaving out those the kernel had a reason of
// its own to wake for, and those before the opt-in or from the step on
// where the program gave up (the socket wakes as without it then): a
// read smaller than a frame is the reader's choice, a wake-up with no
// frame to read is not.
func wokenWithoutFrame(s scenario.Scenario, steps []*step, explained map[int]string, m modelled) int {
	ends := s.FrameEnds()
	n := 0
	for i, st := range steps {
		step := i + 1
		off := step <= m.optInAt || (m.failedAt > 0 && step >= m.failedAt)
		if st.poll == nil || st.poll.Ready == 0 || st.recv == nil || explained[step] != "" || off {
			continue
		}
		lo, hi := int(st.recv.Offset), int(st.recv.Offset)+st.poll.Queued
		whole := false
		for _, e := range ends {
			if e > lo && e <= hi {
				whole = true
				break
			}
		}
		if !whole {
			n++
		}
	}
	return n
}

// collect folds the case's events into one step per send.
func collect(evs []wire.Event, cookie uint64) (steps []*step) {
	byStep := map[int]*step{}
	var cur *step
	pendingWakes := 0
	var pendingRcvq, pendingWake []wire.Event
	for i := range evs {
		e := evs[i]
		// Kernel events of other sockets (a listener, a connection that
		// fetched a Fast Open cookie) are not the reader's.
		switch e.Kind {
		case wire.KernelWake, wire.KernelRcvq, wire.KernelRcvlowat:
			if e.Cookie != cookie {
				continue
			}
		}
		switch e.Kind {
		case wire.Send:
			cur = &step{send: e}
			byStep[e.Step] = cur
			steps = append(steps, cur)
		case wire.Poll:
			if st := byStep[e.Step]; st != nil {
				st.poll = &evs[i]
				st.kwakes, pendingWakes = pendingWakes, 0
				st.wakes, pendingWake = pendingWake, nil
				for _, k := range pendingRcvq {
					st.rcvqPaths = append(st.rcvqPaths, enqueuePath(k, st.send, len(steps) == 1))
				}
				pendingRcvq = nil
			}
		case wire.Recv:
			if st := byStep[e.Step]; st != nil {
				st.recv = &evs[i]
			}
		case wire.KernelWake:
			if e.Path != wire.WakeState {
				pendingWakes++
			}
			pendingWake = append(pendingWake, e)
		case wire.KernelRcvq:
			if e.Path == "recvmsg" {
				if cur != nil {
					cur.recvmsgs++
				}
			} else {
				pendingRcvq = append(pendingRcvq, e)
			}
		}
	}
	return steps
}

// enqueuePath names the path of an RCVQ callback. The kernel's own label
// wins where the tracer could mark it (fentry on the enqueue function);
// tcp_ofo_queue() is usually inlined, so where the harness knows the
// step's sequence number (the peer's segments) an skb other than the one
// just sent must have come off the out-of-order queue, and the first
// step's skb came with the SYN when that step was the SYN's data.
func enqueuePath(k, send wire.Event, first bool) string {
	if k.Path != "in-order" && k.Path != "unknown" && k.Path != "" {
		return k.Path
	}
	switch {
	case send.Seq == 0:
		return k.Path
	case first && send.Flags == "S" && k.Seq == send.Seq:
		return scenario.PathFastOpen
	case first && send.Flags == "" && k.TimeNS < send.TimeNS:
		// Traces from before sends were marked: only the time tells.
		return scenario.PathFastOpen
	case k.Seq != send.Seq:
		return scenario.PathOFO
	}
	return scenario.PathInOrder
}

// partialReads counts reads that completed no frame: the reader was woken
// and got only part of one.
func partialReads(recvs []wire.Event, ends []int) int {
	n := 0
	for _, rv := range recvs {
		lo, hi := int(rv.Offset), int(rv.Offset)+rv.Bytes
		completes := false
		for _, e := range ends {
			if e > lo && e <= hi {
				completes = true
				break
			}
		}
		if !completes {
			n++
		}
	}
	return n
}

// checkStream checks the reads, in order, against the stream: every byte
// read once, in order, and all of what the first sent steps made
// deliverable read.
func checkStream(s scenario.Scenario, sent int, recvs []wire.Event) []report.Check {
	stream := s.Stream()
	read := 0
	intact := report.Check{Name: "bytes-intact", Pass: true, Want: "every byte read once, in order"}
	for _, rv := range recvs {
		off, n := int(rv.Offset), rv.Bytes
		// After the first fault keep counting, so all-delivered still
		// tells what was sent and read.
		switch {
		case !intact.Pass:
		case off != read:
			intact.Pass = false
			intact.Got = fmt.Sprintf("step %d read at offset %d, expected %d", rv.Step, off, read)
		case off+n > len(stream):
			intact.Pass = false
			intact.Got = fmt.Sprintf("step %d read %d bytes past the end of the stream", rv.Step, off+n-len(stream))
		case crc32.ChecksumIEEE(stream[off:off+n]) != rv.CRC32:
			intact.Pass = false
			intact.Got = fmt.Sprintf("step %d: bytes %d..%d differ from what was sent", rv.Step, off, off+n)
		}
		read += n
	}
	if intact.Pass {
		intact.Got = fmt.Sprintf("%d bytes intact", read)
	}
	// What the steps made deliverable, up to the first hole: the same as
	// the bytes written over loopback, and retransmitted bytes count once.
	delivered := 0
	if prefix := s.Prefix(); sent > 0 && sent <= len(prefix) {
		delivered = prefix[sent-1]
	}
	all := report.Check{Name: "all-delivered", Want: fmt.Sprintf("%d bytes sent in %d sends, all read", s.SentLen(), len(s.Steps())),
		Got: fmt.Sprintf("%d bytes sent in %d sends, %d read", delivered, sent, read)}
	all.Pass = delivered == s.SentLen() && sent == len(s.Steps()) && read == s.SentLen()
	return []report.Check{all, intact}
}

// checkKernelAgrees compares the reader's view with the kernel's: every
// EPOLLIN must follow a kernel wake-up since the previous poll, and where
// each send is one segment the counts match.
func checkKernelAgrees(s scenario.Scenario, steps []*step) []report.Check {
	backed := report.Check{Name: "epollin-backed-by-kernel", Pass: true, Want: "a kernel wake-up before every EPOLLIN"}
	user, kernel := 0, 0
	single := true
	plan := s.Steps()
	for i, st := range steps {
		if st.send.Bytes > s.MSS() {
			single = false
		}
		if st.poll == nil {
			continue
		}
		if i < len(plan) && plan[i].SynData {
			// Queued with the handshake, before the reader's socket was
			// accepted and watched: its wake-up went to no one we trace.
			continue
		}
		kernel += st.kwakes
		if st.poll.Ready > 0 {
			user++
			if st.kwakes == 0 && backed.Pass {
				backed.Pass = false
				backed.Got = fmt.Sprintf("step %d: EPOLLIN with no kernel wake-up since the previous poll", st.send.Step)
			}
		}
	}
	if backed.Pass {
		backed.Got = fmt.Sprintf("%d EPOLLIN, each after a wake-up", user)
	}
	checks := []report.Check{backed}
	// A read smaller than what is queued, or a peek, makes the recvmsg
	// callback wake the reader again with no new data.
	if single && s.Reader == nil {
		checks = append(checks, report.Check{Name: "epollin-equals-kernel-wakeups", Pass: user == kernel,
			Want: fmt.Sprintf("%d kernel wake-ups (one per EPOLLIN)", user), Got: fmt.Sprint(kernel),
			Detail: "every send fits one segment and the reader polls after each"})
	}
	return checks
}

// checkPath proves from the kernel's own counters that the data took the
// path the scenario is about: a scenario that meant to exercise the
// out-of-order queue but did not is a failure, never a pass.
func checkPath(s scenario.Scenario, counters map[string]int64) report.Check {
	ofo, tfo := counters["TcpExtTCPOFOQueue"], counters["TcpExtTCPFastOpenPassive"]
	ch := report.Check{Name: "kernel-path", Want: s.Path,
		Got: fmt.Sprintf("TCPOFOQueue +%d, TCPFastOpenPassive +%d", ofo, tfo)}
	switch s.Path {
	case scenario.PathInOrder:
		ch.Pass = ofo == 0 && tfo == 0
		if !ch.Pass {
			ch.Detail = "intended in order, but the kernel queued out of order or took Fast Open"
		}
	case scenario.PathOFO:
		ch.Pass = ofo > 0
		if !ch.Pass {
			ch.Detail = "intended out of order, kernel queued in order"
		}
	case scenario.PathFastOpen:
		ch.Pass = tfo > 0
		if !ch.Pass {
			ch.Detail = "intended Fast Open, but the kernel did not accept data in the SYN"
		}
	}
	return ch
}
