// Package timeline is what one case's events say over time: the bytes
// in the reader's receive queue, SO_RCVLOWAT, the moments that matter and
// where the failed checks point. report.html and trace.json draw it.
package timeline

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/kernel-harness/harness/harness/analysis"
	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/wire"
)

// Point is a value that holds from T (guest ns) until the next point.
type Point struct {
	T int64
	V int
}

// Kinds of marks on a timeline.
const (
	MarkSend    = "send"    // the writer sent, or the peer sent a segment
	MarkOptIn   = "opt-in"  // a scripted step turned autolowat on
	MarkEpollin = "epollin" // epoll_wait found the reader ready
	MarkPoll    = "poll"    // epoll_wait found nothing
	MarkRecv    = "recv"    // the reader read
	MarkWake    = "kwake"   // the kernel woke readers (sock_def_readable)
	MarkRcvq    = "rcvq"    // an RCVQ callback; Path says which
)

// Mark is one moment of a timeline.
type Mark struct {
	Kind  string
	T     int64
	Step  int
	Path  string // rcvq: in-order, ofo, fastopen, recvmsg, unknown
	Bytes int
	Label string // said when the mark is hovered
}

// Failure is a failed check and the steps it names; none means it is
// about the whole case.
type Failure struct {
	Check report.Check
	Steps []int
	Times []int64 // of the steps found among the events
}

// Timeline is what one case's events draw: bytes in the reader's receive
// queue and SO_RCVLOWAT over time, and the moments that matter.
type Timeline struct {
	// Start and End bound every point and mark.
	Start, End int64
	// Queued is the bytes the reader could read (in order). Kernel events
	// carry rcv_nxt - copied_seq, polls carry FIONREAD, and a read takes
	// its bytes off when the kernel did not say what was left.
	Queued []Point
	// OFO is the bytes held out of order, from the peer's segments; nil
	// for loopback cases.
	OFO []Point
	// Lowat is SO_RCVLOWAT as the kernel set it and the reader read it.
	Lowat []Point
	Marks []Mark
	// Steps are step numbers (V) at the time their first event happened.
	Steps    []Point
	Failures []Failure
	// MaxBytes is the largest value of Queued, OFO and Lowat.
	MaxBytes int
}

// Empty says the events had nothing to draw: a case that never ran.
func (t *Timeline) Empty() bool { return len(t.Queued) == 0 && len(t.Marks) == 0 }

// Build makes a case's timeline from its events (those whose Scenario is
// the case's ID, in any order) and its failed checks.
func Build(events []wire.Event, failed []report.Check) *Timeline {
	evs := append([]wire.Event(nil), events...)
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].TimeNS < evs[j].TimeNS })
	var cookie uint64
	for _, e := range evs {
		if e.Kind == wire.Rcvlowat && e.Step == 0 && e.Cookie != 0 {
			cookie = e.Cookie
		}
	}

	t := &Timeline{}
	queued, lowat := -1, 0
	setQueued := func(at int64, v int) {
		if v < 0 {
			v = 0
		}
		if v != queued {
			t.Queued = append(t.Queued, Point{at, v})
			queued = v
		}
	}
	setLowat := func(at int64, v int) {
		// 0 is "not carried": SO_RCVLOWAT is at least 1.
		if v > 0 && v != lowat {
			t.Lowat = append(t.Lowat, Point{at, v})
			lowat = v
		}
	}
	var ofo ranges
	stepSeen := map[int]bool{}
	step := func(at int64, n int) {
		if n > 0 && !stepSeen[n] {
			stepSeen[n] = true
			t.Steps = append(t.Steps, Point{at, n})
		}
	}
	sends := map[int]wire.Event{}
	firstSend := 0
	var peerSegs []wire.Event // data the peer sent, not yet matched to a send
	var kernelSince int64     // first kernel event since the last user-space one
	type pending struct {
		mark int
		ev   wire.Event
	}
	var pendingRcvq []pending // enqueue marks waiting for the poll of their step
	drained := false          // a recvmsg callback said what a read left

	for _, e := range evs {
		switch e.Kind {
		case wire.KernelWake, wire.KernelRcvlowat, wire.KernelRcvq:
			// The listener and other sockets are not the reader.
			if cookie != 0 && e.Cookie != cookie {
				continue
			}
			if kernelSince == 0 {
				kernelSince = e.TimeNS
			}
		}
		switch e.Kind {
		case wire.Rcvlowat:
			setLowat(e.TimeNS, e.Lowat)
			step(e.TimeNS, e.Step)
		case wire.AutolowatOn:
			t.Marks = append(t.Marks, Mark{Kind: MarkOptIn, T: e.TimeNS, Step: e.Step,
				Label: fmt.Sprintf("step %d: autolowat on (%s)", e.Step, e.Value)})
			step(e.TimeNS, e.Step)
		case wire.PeerOut:
			if e.Bytes > 0 {
				peerSegs = append(peerSegs, e)
				ofo.add(int(e.Offset), e.Bytes)
				t.OFO = appendChange(t.OFO, Point{e.TimeNS, ofo.beyondFrontier()})
			}
		case wire.Send:
			// The guest stamps a send when it returns, and a peer's
			// segment when the peer is done with it; the kernel queued
			// the bytes before that: at the first kernel event since the
			// reader last did something, or when the peer wrote them.
			at := e.TimeNS
			if kernelSince != 0 {
				at = min(at, kernelSince)
			}
			for i := len(peerSegs) - 1; i >= 0; i-- {
				if p := peerSegs[i]; p.Seq == e.Seq && p.Offset == e.Offset && p.Bytes == e.Bytes {
					at = min(at, p.TimeNS)
					peerSegs = append(peerSegs[:i], peerSegs[i+1:]...)
					break
				}
			}
			sends[e.Step] = e
			if firstSend == 0 {
				firstSend = e.Step
			}
			t.Marks = append(t.Marks, Mark{Kind: MarkSend, T: at, Step: e.Step, Bytes: e.Bytes,
				Label: fmt.Sprintf("step %d: send bytes %d..%d", e.Step, e.Offset, e.Offset+int64(e.Bytes))})
			step(at, e.Step)
		case wire.Poll:
			m := Mark{Kind: MarkPoll, T: e.TimeNS, Step: e.Step,
				Label: fmt.Sprintf("step %d: poll, not ready (%d queued, SO_RCVLOWAT %d)", e.Step, e.Queued, e.Lowat)}
			if e.Ready > 0 {
				m.Kind = MarkEpollin
				m.Label = fmt.Sprintf("step %d: EPOLLIN (%d queued, SO_RCVLOWAT %d)", e.Step, e.Queued, e.Lowat)
			}
			t.Marks = append(t.Marks, m)
			setQueued(e.TimeNS, e.Queued)
			setLowat(e.TimeNS, e.Lowat)
			step(e.TimeNS, e.Step)
			// The enqueue callbacks since the last poll belong to this
			// step: name their path as the rcvq-path check does.
			if send, ok := sends[e.Step]; ok {
				for _, p := range pendingRcvq {
					path := analysis.RcvqPath(p.ev, send, e.Step == firstSend)
					t.Marks[p.mark].Path, t.Marks[p.mark].Label = path, rcvqLabel(p.ev, path)
				}
			}
			pendingRcvq = nil
		case wire.Recv:
			t.Marks = append(t.Marks, Mark{Kind: MarkRecv, T: e.TimeNS, Step: e.Step, Bytes: e.Bytes,
				Label: fmt.Sprintf("step %d: read %d bytes at offset %d, SO_RCVLOWAT %d after", e.Step, e.Bytes, e.Offset, e.Lowat)})
			if !drained {
				setQueued(e.TimeNS, max(queued, 0)-e.Bytes)
			}
			drained = false
			setLowat(e.TimeNS, e.Lowat)
			step(e.TimeNS, e.Step)
		case wire.KernelWake:
			t.Marks = append(t.Marks, Mark{Kind: MarkWake, T: e.TimeNS,
				Label: fmt.Sprintf("kernel wake-up (%d queued, sk_rcvlowat %d)", e.Queued, e.Lowat)})
			setQueued(e.TimeNS, e.Queued)
			setLowat(e.TimeNS, e.Lowat)
		case wire.KernelRcvlowat:
			setQueued(e.TimeNS, e.Queued)
			setLowat(e.TimeNS, e.Lowat)
		case wire.KernelRcvq:
			m := Mark{Kind: MarkRcvq, T: e.TimeNS, Path: e.Path, Bytes: int(e.Len), Label: rcvqLabel(e, e.Path)}
			if e.Path == "recvmsg" {
				setQueued(e.TimeNS, e.Queued)
				drained = true
			} else {
				// Called as the skb is queued: queued does not count it yet.
				setQueued(e.TimeNS, e.Queued+int(e.Len))
				pendingRcvq = append(pendingRcvq, pending{len(t.Marks), e})
			}
			setLowat(e.TimeNS, e.Lowat)
			t.Marks = append(t.Marks, m)
		}
		switch e.Kind {
		case wire.Send, wire.Poll, wire.Recv, wire.Rcvlowat, wire.AutolowatOn:
			kernelSince = 0
		}
	}
	t.bounds()
	t.Failures = locate(failed, evs)
	return t
}

func rcvqLabel(e wire.Event, path string) string {
	if path == "recvmsg" {
		return fmt.Sprintf("RCVQ callback, recvmsg (%d left queued, sk_rcvlowat %d)", e.Queued, e.Lowat)
	}
	return fmt.Sprintf("RCVQ callback, %s: skb seq %d, %d bytes (%d queued before it, sk_rcvlowat %d)", path, e.Seq, e.Len, e.Queued, e.Lowat)
}

func appendChange(ps []Point, p Point) []Point {
	if n := len(ps); n > 0 && ps[n-1].V == p.V {
		return ps
	}
	return append(ps, p)
}

// bounds sets Start, End and MaxBytes from what was gathered.
func (t *Timeline) bounds() {
	first := true
	see := func(at int64) {
		if first || at < t.Start {
			t.Start = at
		}
		if first || at > t.End {
			t.End = at
		}
		first = false
	}
	for _, ps := range [][]Point{t.Queued, t.OFO, t.Lowat} {
		for _, p := range ps {
			see(p.T)
			t.MaxBytes = max(t.MaxBytes, p.V)
		}
	}
	for _, m := range t.Marks {
		see(m.T)
	}
}

// ranges is the set of stream bytes the peer has sent.
type ranges struct{ got []bool }

func (r *ranges) add(off, n int) {
	for len(r.got) < off+n {
		r.got = append(r.got, false)
	}
	for i := off; i < off+n; i++ {
		r.got[i] = true
	}
}

// beyondFrontier counts the bytes sent past the first hole: the ones the
// kernel holds out of order.
func (r *ranges) beyondFrontier() int {
	i := 0
	for i < len(r.got) && r.got[i] {
		i++
	}
	n := 0
	for ; i < len(r.got); i++ {
		if r.got[i] {
			n++
		}
	}
	return n
}

var (
	stepRE = regexp.MustCompile(`\bstep (\d+)\b`)
	sendRE = regexp.MustCompile(`after sends (\S+)`)
)

// locate finds the steps each failed check names, and when they happened.
func locate(failed []report.Check, evs []wire.Event) []Failure {
	var out []Failure
	for _, c := range failed {
		if c.Pass {
			continue
		}
		f := Failure{Check: c, Steps: failedSteps(c)}
		for _, n := range f.Steps {
			if at, ok := stepTime(evs, n, strings.Contains(c.Got, "read")); ok {
				f.Times = append(f.Times, at)
			}
		}
		out = append(out, f)
	}
	return out
}

// failedSteps reads the step numbers out of a check. epollin-per-send and
// epollin-per-frame list the steps with EPOLLIN wanted and got: the steps
// in one list only are the failures. Other checks name the failing steps
// in Got; their Want may list every step, so it is not read.
func failedSteps(c report.Check) []int {
	var steps []int
	if strings.HasPrefix(c.Name, "epollin-per-") {
		want, got := sendList(c.Want), sendList(c.Got)
		for n := range want {
			if !got[n] {
				steps = append(steps, n)
			}
		}
		for n := range got {
			if !want[n] {
				steps = append(steps, n)
			}
		}
	} else {
		seen := map[int]bool{}
		for _, m := range stepRE.FindAllStringSubmatch(c.Got+" "+c.Detail, -1) {
			n, _ := strconv.Atoi(m[1])
			if !seen[n] {
				seen[n] = true
				steps = append(steps, n)
			}
		}
	}
	sort.Ints(steps)
	return steps
}

// sendList parses "after sends 1,3,4" ("3:unreported" counts as 3).
func sendList(s string) map[int]bool {
	out := map[int]bool{}
	m := sendRE.FindStringSubmatch(s)
	if m == nil {
		return out
	}
	for _, f := range strings.Split(m[1], ",") {
		f, _, _ = strings.Cut(f, ":")
		if n, err := strconv.Atoi(f); err == nil {
			out[n] = true
		}
	}
	return out
}

// stepTime is when step n was looked at: its poll, or its read when the
// check is about a read, else its first event.
func stepTime(evs []wire.Event, n int, aboutRead bool) (int64, bool) {
	var first, poll, recv *wire.Event
	for i := range evs {
		e := &evs[i]
		if e.Step != n {
			continue
		}
		switch e.Kind {
		case wire.Send, wire.Poll, wire.Recv, wire.Rcvlowat, wire.AutolowatOn:
		default:
			continue
		}
		if first == nil {
			first = e
		}
		if e.Kind == wire.Poll && poll == nil {
			poll = e
		}
		if e.Kind == wire.Recv && recv == nil {
			recv = e
		}
	}
	switch {
	case aboutRead && recv != nil:
		return recv.TimeNS, true
	case poll != nil:
		return poll.TimeNS, true
	case first != nil:
		return first.TimeNS, true
	}
	return 0, false
}

// WokenEpollins counts the EPOLLINs that follow a kernel wake-up after
// a send (since the EPOLLIN before): the flows trace.json draws.
func (t *Timeline) WokenEpollins() int {
	marks := append([]Mark(nil), t.Marks...)
	sort.SliceStable(marks, func(a, b int) bool { return marks[a].T < marks[b].T })
	n, sent, woken := 0, false, false
	for _, m := range marks {
		switch m.Kind {
		case MarkSend:
			sent = true
		case MarkWake:
			woken = woken || sent
		case MarkEpollin:
			if woken {
				n++
			}
			woken = false
		}
	}
	return n
}
