package timeline

import (
	"reflect"
	"testing"

	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/wire"
)

const reader, listener = 7, 6

// loopback is a split frame under autolowat: 8 bytes (the descriptor),
// then the 24 that complete the frame, read at once. Events are out of
// time order, as the guest writes them.
var loopback = []wire.Event{
	{Kind: wire.ScenarioStart, TimeNS: 100},
	{Kind: wire.Rcvlowat, TimeNS: 200, Cookie: reader, Lowat: 1},
	{Kind: wire.Send, TimeNS: 320, Step: 1, Bytes: 8},
	{Kind: wire.KernelRcvq, TimeNS: 300, Cookie: reader, Len: 8, Lowat: 32, Path: "in-order"},
	{Kind: wire.KernelWake, TimeNS: 305, Cookie: listener, Queued: 99},
	{Kind: wire.Poll, TimeNS: 330, Step: 1, Queued: 8, Lowat: 32},
	{Kind: wire.Send, TimeNS: 420, Step: 2, Offset: 8, Bytes: 24},
	{Kind: wire.KernelRcvq, TimeNS: 400, Cookie: reader, Queued: 8, Len: 24, Lowat: 32, Path: "in-order"},
	{Kind: wire.KernelWake, TimeNS: 405, Cookie: reader, Queued: 32, Lowat: 32},
	{Kind: wire.Poll, TimeNS: 430, Step: 2, Ready: 1, Queued: 32, Lowat: 32},
	{Kind: wire.Recv, TimeNS: 450, Step: 2, Bytes: 32, Lowat: 8},
	{Kind: wire.KernelRcvq, TimeNS: 440, Cookie: reader, Lowat: 8, Path: "recvmsg"},
	{Kind: wire.ScenarioEnd, TimeNS: 900, OK: true},
}

func TestBuildLoopback(t *testing.T) {
	tl := Build(loopback, nil)
	if want := []Point{{300, 8}, {400, 32}, {440, 0}}; !reflect.DeepEqual(tl.Queued, want) {
		t.Errorf("queued %v, want %v", tl.Queued, want)
	}
	if want := []Point{{200, 1}, {300, 32}, {440, 8}}; !reflect.DeepEqual(tl.Lowat, want) {
		t.Errorf("lowat %v, want %v", tl.Lowat, want)
	}
	if tl.OFO != nil {
		t.Errorf("ofo %v over loopback", tl.OFO)
	}
	type mk struct {
		kind string
		at   int64
		path string
	}
	var got []mk
	for _, m := range tl.Marks {
		got = append(got, mk{m.Kind, m.T, m.Path})
	}
	// Sends are drawn when the kernel queued their bytes, not when the
	// guest stamped them; the listener's wake-up is not the reader's.
	want := []mk{
		{MarkRcvq, 300, "in-order"}, {MarkSend, 300, ""}, {MarkPoll, 330, ""},
		{MarkRcvq, 400, "in-order"}, {MarkWake, 405, ""}, {MarkSend, 400, ""}, {MarkEpollin, 430, ""},
		{MarkRcvq, 440, "recvmsg"}, {MarkRecv, 450, ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("marks\n got %v\nwant %v", got, want)
	}
	if want := []Point{{300, 1}, {400, 2}}; !reflect.DeepEqual(tl.Steps, want) {
		t.Errorf("steps %v, want %v", tl.Steps, want)
	}
	if tl.Start != 200 || tl.End != 450 || tl.MaxBytes != 32 {
		t.Errorf("bounds %d..%d, max %d", tl.Start, tl.End, tl.MaxBytes)
	}
}

// A read with no recvmsg callback (a kernel without the hook) takes its
// bytes off what was queued.
func TestBuildReadWithoutCallback(t *testing.T) {
	tl := Build([]wire.Event{
		{Kind: wire.Rcvlowat, TimeNS: 1, Cookie: reader, Lowat: 1},
		{Kind: wire.KernelWake, TimeNS: 2, Cookie: reader, Queued: 10, Lowat: 1},
		{Kind: wire.Send, TimeNS: 3, Step: 1, Bytes: 10},
		{Kind: wire.Poll, TimeNS: 4, Step: 1, Ready: 1, Queued: 10, Lowat: 1},
		{Kind: wire.Recv, TimeNS: 5, Step: 1, Bytes: 6, Lowat: 1},
	}, nil)
	if want := []Point{{2, 10}, {5, 4}}; !reflect.DeepEqual(tl.Queued, want) {
		t.Errorf("queued %v, want %v", tl.Queued, want)
	}
}

// Through the peer: the descriptor comes last. Its arrival moves the held
// bytes into the queue, and of the two callbacks at the fill the one not
// for the segment just sent came off the out-of-order queue.
func TestBuildOutOfOrder(t *testing.T) {
	const isn = 1000
	tl := Build([]wire.Event{
		{Kind: wire.Rcvlowat, TimeNS: 10, Cookie: reader, Lowat: 1},
		{Kind: wire.PeerOut, TimeNS: 20, Offset: 8, Bytes: 24, Seq: isn + 9},
		{Kind: wire.Send, TimeNS: 50, Step: 1, Offset: 8, Bytes: 24, Seq: isn + 9},
		{Kind: wire.Poll, TimeNS: 55, Step: 1, Lowat: 1},
		{Kind: wire.PeerOut, TimeNS: 60, Bytes: 8, Seq: isn + 1},
		{Kind: wire.KernelRcvq, TimeNS: 58, Cookie: reader, Seq: isn + 1, Len: 8, Lowat: 32, Path: "in-order"},
		{Kind: wire.KernelRcvq, TimeNS: 59, Cookie: reader, Seq: isn + 9, Queued: 8, Len: 24, Lowat: 32, Path: "in-order"},
		{Kind: wire.Send, TimeNS: 90, Step: 2, Bytes: 8, Seq: isn + 1},
		{Kind: wire.Poll, TimeNS: 95, Step: 2, Ready: 1, Queued: 32, Lowat: 32},
	}, nil)
	if want := []Point{{20, 24}, {60, 0}}; !reflect.DeepEqual(tl.OFO, want) {
		t.Errorf("ofo %v, want %v", tl.OFO, want)
	}
	if want := []Point{{55, 0}, {58, 8}, {59, 32}}; !reflect.DeepEqual(tl.Queued, want) {
		t.Errorf("queued %v, want %v", tl.Queued, want)
	}
	var paths []string
	var sends []int64
	for _, m := range tl.Marks {
		switch m.Kind {
		case MarkRcvq:
			paths = append(paths, m.Path)
		case MarkSend:
			sends = append(sends, m.T)
		}
	}
	if want := []string{"in-order", "ofo"}; !reflect.DeepEqual(paths, want) {
		t.Errorf("rcvq paths %v, want %v", paths, want)
	}
	// The first send is drawn when the peer wrote the segment; the second
	// when the kernel queued it.
	if want := []int64{20, 58}; !reflect.DeepEqual(sends, want) {
		t.Errorf("sends at %v, want %v", sends, want)
	}
}

func TestFailedSteps(t *testing.T) {
	for _, tc := range []struct {
		check report.Check
		want  []int
	}{
		{report.Check{Name: "epollin-per-frame", Want: "EPOLLIN after sends 2,4", Got: "EPOLLIN after sends 1,2,3:unreported"}, []int{1, 3, 4}},
		{report.Check{Name: "epollin-per-send", Want: "EPOLLIN after sends 1", Got: "EPOLLIN after sends (none)"}, []int{1}},
		// Want lists every step of the script: only Got says which failed.
		{report.Check{Name: "expect-poll", Want: "step 4: 1 ready, step 7: 0 ready",
			Got: "step 4: 0 ready, want 1 (4 bytes queued, SO_RCVLOWAT 8); step 7: 1 ready, want 0"}, []int{4, 7}},
		{report.Check{Name: "rcvlowat", Got: "step 3: 8 after the read, want 32"}, []int{3}},
		{report.Check{Name: "kernel-path", Want: "ofo", Got: "TCPOFOQueue +0, TCPFastOpenPassive +0"}, nil},
	} {
		if got := failedSteps(tc.check); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: steps %v, want %v", tc.check.Name, got, tc.want)
		}
	}
}

func TestFailureTimes(t *testing.T) {
	failed := []report.Check{
		{Name: "rcvlowat", Got: "step 2: 8 after the read, want 32"},
		{Name: "epollin-per-frame", Want: "EPOLLIN after sends 1", Got: "EPOLLIN after sends 2"},
		{Name: "kernel-path", Got: "TCPOFOQueue +1"},
		{Name: "passed", Pass: true, Got: "step 1"},
	}
	tl := Build(loopback, failed)
	if len(tl.Failures) != 3 {
		t.Fatalf("failures %+v", tl.Failures)
	}
	// A read's check points at the read, other steps at their poll, and
	// a check naming no step at nothing: the whole case.
	if got := tl.Failures[0].Times; !reflect.DeepEqual(got, []int64{450}) {
		t.Errorf("rcvlowat at %v, want the read at 450", got)
	}
	if got := tl.Failures[1].Times; !reflect.DeepEqual(got, []int64{330, 430}) {
		t.Errorf("epollin-per-frame at %v, want the polls at 330, 430", got)
	}
	if f := tl.Failures[2]; f.Steps != nil || f.Times != nil {
		t.Errorf("kernel-path %+v", f)
	}
}

func TestWokenEpollins(t *testing.T) {
	tl := &Timeline{Marks: []Mark{
		{Kind: MarkWake, T: 5},     // before any send: not a send's
		{Kind: MarkEpollin, T: 6},  // so no flow
		{Kind: MarkSend, T: 10},    //
		{Kind: MarkWake, T: 12},    //
		{Kind: MarkSend, T: 14},    // a send after the wake keeps it
		{Kind: MarkEpollin, T: 15}, // 1
		{Kind: MarkEpollin, T: 16}, // no wake since the last: none
		{Kind: MarkWake, T: 21},    // out of order in the slice
		{Kind: MarkEpollin, T: 22}, // 2
		{Kind: MarkSend, T: 20},
	}}
	if n := tl.WokenEpollins(); n != 2 {
		t.Errorf("%d, want 2", n)
	}
}
