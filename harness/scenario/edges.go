package scenario

import (
	"errors"
	"fmt"
)

// How the writer ends the connection after its last step.
const (
	CloseFIN = "fin" // loopback: shutdown(SHUT_WR); the peer: a FIN
	CloseRST = "rst" // loopback: SO_LINGER 0, then close; the peer: a RST
)

// Read calls of the automatic reader.
const (
	CallRecv   = "recv"
	CallRead   = "read"
	CallSplice = "splice" // into a pipe, then read from the pipe
)

// Reader says how the automatic reader reads once woken. The zero value
// is recv() of everything queued.
type Reader struct {
	// Call is recv (the default), read or splice.
	Call string `json:"call,omitempty"`
	// Peek looks at what is queued with recv(MSG_PEEK) before reading it.
	Peek bool `json:"peek,omitempty"`
	// Max bounds each read; a read smaller than a frame leaves the rest
	// queued for the next wake-up.
	Max int `json:"max,omitempty"`
	// WaitAll reads with MSG_WAITALL (recv only).
	WaitAll bool `json:"waitall,omitempty"`
}

// AppRcvlowat is the application's own SO_RCVLOWAT on the reader.
type AppRcvlowat struct {
	Value int `json:"value"`
	// AfterOptIn sets it right after the autolowat opt-in instead of
	// before it; in baseline mode it is set before the first step.
	AfterOptIn bool `json:"after_optin,omitempty"`
}

// Closes is how the writer ends the connection: "", fin or rst, after
// its last step; a FIN riding on a segment is a close by FIN.
func (s Scenario) Closes() string {
	if s.Close != "" {
		return s.Close
	}
	for _, g := range s.Steps() {
		if g.FIN {
			return CloseFIN
		}
	}
	return ""
}

// SentLen is how much of the stream the steps send: all of it, unless
// the writer closes before the end.
func (s Scenario) SentLen() int {
	p := s.Prefix()
	if len(p) == 0 {
		return 0
	}
	return p[len(p)-1]
}

// ReadMax is the most one read of the automatic reader takes: Reader.Max,
// or everything.
func (s Scenario) ReadMax() int {
	if s.Reader != nil && s.Reader.Max > 0 {
		return s.Reader.Max
	}
	return MaxStreamBytes
}

// Bounds of the edge fields.
const (
	MaxConnections = 64
	MinRcvBuf      = 1024     // SO_RCVBUF; the kernel doubles it and keeps at least 2304
	MaxRcvBuf      = 64 << 20 // SO_RCVBUF and tcp_rmem
)

// validateEdges checks the fields for the series' edges: closing, buffer
// sizes, how the reader reads, the application's own SO_RCVLOWAT and
// raw descriptors.
func (s Scenario) validateEdges() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch s.Close {
	case "", CloseFIN, CloseRST:
	default:
		bad("close %q: want fin or rst", s.Close)
	}
	steps := s.Steps()
	highest := 0
	for _, g := range steps {
		highest = max(highest, g.Offset+g.Len)
	}
	fins := 0
	for i, g := range steps {
		switch {
		case !g.FIN:
			continue
		case !s.Peer():
			bad("step %d: fin rides on a peer's segment; over loopback give close: fin", i+1)
		case g.Offset+g.Len != highest:
			bad("segment %d: the FIN rides on the segment that ends the stream sent (byte %d), not on one ending at %d", i, highest, g.Offset+g.Len)
		case s.Close != "":
			bad("segment %d: a FIN on a segment and close %s: choose one", i, s.Close)
		}
		fins++
	}
	if fins > 1 {
		bad("%d segments carry a FIN: one ends the stream", fins)
	}
	if s.RcvBuf != 0 && (s.RcvBuf < MinRcvBuf || s.RcvBuf > MaxRcvBuf) {
		bad("rcvbuf %d outside %d..%d", s.RcvBuf, MinRcvBuf, MaxRcvBuf)
	}
	if len(s.RMem) != 0 {
		switch {
		case len(s.RMem) != 3:
			bad("rmem: want [min, default, max], as net.ipv4.tcp_rmem takes them")
		case s.RMem[0] < 1 || s.RMem[0] > s.RMem[1] || s.RMem[1] > s.RMem[2] || s.RMem[2] > MaxRcvBuf:
			bad("rmem %v: want 1 <= min <= default <= max <= %d", s.RMem, MaxRcvBuf)
		}
	}
	if r := s.Reader; r != nil {
		switch r.Call {
		case "", CallRecv, CallRead, CallSplice:
		default:
			bad("reader call %q: want recv, read or splice", r.Call)
		}
		if (r.Peek || r.WaitAll) && r.Call != "" && r.Call != CallRecv {
			bad("reader: peek and waitall are recv() flags, not for %s", r.Call)
		}
		if r.Max < 0 || r.Max > MaxStreamBytes {
			bad("reader max %d outside 0..%d", r.Max, MaxStreamBytes)
		}
		if s.Scripted() {
			bad("reader: a scripted scenario reads with its recv steps")
		}
	}
	if a := s.AppRcvlowat; a != nil && (a.Value < 1 || a.Value > MaxRcvBuf) {
		bad("app_rcvlowat %d outside 1..%d", a.Value, MaxRcvBuf)
	}
	if s.OptInAfter != 0 {
		switch {
		case s.Scripted():
			bad("optin_after: a scripted scenario opts in with its autolowat step")
		case s.OptInAfter < 0 || s.OptInAfter >= len(s.Steps()):
			bad("optin_after %d: want a step from 1 to %d, after which the reader opts in", s.OptInAfter, len(s.Steps())-1)
		case s.DataBeforeAccept():
			bad("optin_after: with SYN data the opt-in is made on the listener, before the first byte")
		}
	}
	if s.OptOutAfter != 0 && (s.Scripted() || s.OptOutAfter < 1 || s.OptOutAfter >= len(s.Steps()) || s.OptOutAfter <= s.OptInAfter) {
		bad("optout_after %d: want a step after the opt-in, from %d to %d, in a scenario with sends or segments", s.OptOutAfter, s.OptInAfter+1, len(s.Steps())-1)
	}
	switch {
	case s.Connections == 0:
	case s.Connections < 1 || s.Connections > MaxConnections:
		bad("connections %d outside 1..%d", s.Connections, MaxConnections)
	case s.Connections > 1 && (s.Peer() || s.Scripted()):
		bad("connections: more than one is for loopback scenarios with sends")
	}
	for i, f := range s.Frames {
		if len(f.Desc) != 0 && len(f.Desc) != 2 {
			bad("frame %d: desc: want [header_len, payload_len], the two u32 of the descriptor as sent", i)
		}
	}
	return errs
}

// coverageError says what is wrong with how much of the stream the steps
// send: all of it, or, when the writer closes, a part of it from the
// start with no hole left.
func (s Scenario) coverageError(what string, sent, highest int) error {
	n := s.StreamLen()
	switch {
	case s.Closes() == "" && sent != n:
		return fmt.Errorf("%s leave byte %d of %d unsent (with close: fin or rst the stream may end early)", what, sent, n)
	case s.Closes() != "" && sent != highest:
		return fmt.Errorf("%s leave a hole at byte %d before the close: the close comes after the last byte in order", what, sent)
	case sent == 0:
		return errors.New("nothing is sent")
	}
	return nil
}

// Edges returns the built-in scenarios of the series' edges, where a
// wrong sk_rcvlowat would strand a reader or the kernel wakes it early
// on purpose: the peer closing or resetting inside a frame, buffers
// smaller than a frame, the reader's own ways of reading, the
// application's own SO_RCVLOWAT, an opt-in made mid-stream, and the
// streams the program gives up on. Loopback first, then the peer.
func Edges() []Scenario {
	small := Frame{Header: 16, Payload: 100} // 124 bytes
	empty := Frame{}                         // a descriptor alone: 8 bytes
	big := Frame{Header: 64, Payload: 11928} // 12000 bytes
	seg := func(off, end int) Segment { return Segment{Offset: off, Len: end - off} }
	return []Scenario{
		{Name: "fin-mid-frame", Path: PathInOrder, Frames: []Frame{small, small}, Sends: []int{124, 60}, Close: CloseFIN,
			Description: "the writer shuts down 60 bytes into the second frame: the FIN wakes the reader, which reads them and the end"},
		{Name: "rst-mid-frame", Path: PathInOrder, Frames: []Frame{small, small}, Sends: []int{124, 60}, Close: CloseRST,
			Description: "the writer resets 60 bytes into the second frame: the reader is woken, reads them, then ECONNRESET"},
		{Name: "fin-after-frames", Path: PathInOrder, Frames: []Frame{small, small}, Sends: []int{124, 124}, Close: CloseFIN,
			Description: "the writer shuts down after whole frames: nothing left but the end of the stream"},
		{Name: "frame-over-rcvbuf", Path: PathInOrder, Frames: []Frame{big, small}, Sends: append(repeatInt(1000, 12), 124), RcvBuf: 8192, MTU: 1500,
			Description: "a 12000-byte frame in 1000-byte sends to a reader whose SO_RCVBUF is 8192: rcvlowat is capped at half of sk_rcvbuf, and the kernel wakes the reader under memory pressure or a closing window"},
		{Name: "frame-over-rmem", Path: PathInOrder, Frames: []Frame{big, small}, Sends: append(repeatInt(1000, 12), 124), RMem: []int{4096, 16384, 16384}, MTU: 1500,
			Description: "the same frame with the namespace's tcp_rmem at most 16384: rcvlowat is capped at half of tcp_rmem[2]"},
		{Name: "app-rcvlowat-before-optin", Path: PathInOrder, Frames: repeatFrame(small, 4), Sends: []int{124, 124, 124, 124},
			AppRcvlowat: &AppRcvlowat{Value: 200},
			Description: "the application sets SO_RCVLOWAT 200 before the opt-in: a stock kernel wakes at 200 bytes, the program's value replaces it"},
		{Name: "app-rcvlowat-after-optin", Path: PathInOrder, Frames: repeatFrame(small, 3), Sends: []int{124, 124, 124},
			AppRcvlowat: &AppRcvlowat{Value: 100, AfterOptIn: true},
			Description: "the application sets SO_RCVLOWAT 100 after the opt-in: the program's next value replaces it"},
		{Name: "read-smaller-than-frame", Path: PathInOrder, Frames: repeatFrame(small, 3), Sends: []int{124, 124, 124}, Reader: &Reader{Max: 50},
			Description: "the reader reads at most 50 bytes a wake-up: what it leaves of a complete frame must keep it woken"},
		{Name: "peek-then-read", Path: PathInOrder, Frames: repeatFrame(small, 2), Sends: []int{60, 64, 124}, Reader: &Reader{Peek: true},
			Description: "the reader looks with recv(MSG_PEEK) before it reads: a peek takes nothing"},
		{Name: "read-syscall", Path: PathInOrder, Frames: repeatFrame(small, 2), Sends: []int{60, 64, 124}, Reader: &Reader{Call: CallRead},
			Description: "the reader reads with read(2)"},
		{Name: "splice-reader", Path: PathInOrder, Frames: repeatFrame(small, 2), Sends: []int{60, 64, 124}, Reader: &Reader{Call: CallSplice},
			Description: "the reader moves the bytes with splice(2) into a pipe: the recvmsg callback comes from tcp_read_sock()"},
		{Name: "waitall-reader", Path: PathInOrder, Frames: repeatFrame(small, 2), Sends: []int{60, 64, 124}, Reader: &Reader{WaitAll: true, Max: 124},
			Description: "the reader reads with MSG_WAITALL, a frame at a time"},
		{Name: "zero-length-frames", Path: PathInOrder, Frames: []Frame{empty, empty, empty, small}, Sends: []int{8, 8, 8, 124},
			Description: "frames of a descriptor alone, header 0 and payload 0, one per send"},
		{Name: "frame-of-one-mss", Path: PathInOrder, Frames: []Frame{{Header: 20, Payload: 1400}, {Header: 20, Payload: 1400}}, Sends: []int{1428, 1428}, MTU: 1500,
			Description: "frames of exactly one MSS on a 1500-byte MTU, one per segment"},
		{Name: "many-descriptors-one-send", Path: PathInOrder, Frames: append(repeatFrame(empty, 16), small, small), Sends: []int{128, 60, 64, 124},
			Description: "16 frames of a descriptor alone in one skb: more parse steps than the program takes, so it gives up, sets rcvlowat 1 and the socket wakes on every send"},
		{Name: "overflowing-descriptor", Path: PathInOrder, Frames: []Frame{{Header: 4, Payload: 20, Desc: []uint32{0x80000000, 0x80000000}}, small}, Sends: []int{32, 60, 64},
			Description: "a descriptor whose lengths add up past INT_MAX: the program gives up cleanly and the socket behaves as without it"},
		{Name: "optin-mid-stream", Path: PathInOrder, Frames: repeatFrame(small, 3), Sends: []int{124, 60, 64, 124}, OptInAfter: 1,
			Description: "the opt-in comes after the first frame was read: the program parses from there"},
		{Name: "optin-mid-stream-unread", Path: PathInOrder, Frames: repeatFrame(small, 3), Sends: []int{100, 148, 124}, OptInAfter: 1,
			Description: "the opt-in comes 100 bytes into a frame: the program parses payload bytes as a descriptor and gives up"},
		{Name: "optin-value-0-mid-stream", Path: PathInOrder, Frames: repeatFrame(small, 3), Sends: []int{124, 60, 64, 124}, OptOutAfter: 1,
			Description: "the opt-in made again with the value 0 after the first frame: the series' program reads no value, so autolowat stays on and nothing strands the reader"},
		{Name: "many-connections", Path: PathInOrder, Frames: repeatFrame(small, 4), Sends: []int{60, 64, 124, 124, 124}, Connections: 16, RMem: []int{4096, 8192, 8192},
			Description: "16 connections at once under one cgroup, in a namespace whose tcp_rmem is at most 8192: every reader woken per frame or by the kernel's pressure, none left asleep"},
		{Name: "peer-fin-on-last-segment", Path: PathInOrder, Frames: []Frame{{Header: 4, Payload: 20}, {Header: 4, Payload: 20}},
			Segments:    []Segment{seg(0, 32), {Offset: 32, Len: 32, FIN: true}},
			Description: "through the peer, the FIN rides on the segment that completes the last frame"},
		{Name: "peer-fin-mid-frame", Path: PathInOrder, Frames: []Frame{{Header: 4, Payload: 20}, {Header: 4, Payload: 20}},
			Segments:    []Segment{seg(0, 32), {Offset: 32, Len: 12, FIN: true}},
			Description: "through the peer, the FIN rides on a segment that ends inside a frame"},
		{Name: "ofo-fin-before-fill", Path: PathOFO, Frames: []Frame{{Header: 4, Payload: 20}, {Header: 4, Payload: 20}},
			Segments:    []Segment{{Offset: 32, Len: 32, FIN: true}, seg(0, 32)},
			Description: "the last segment, with the FIN, arrives out of order; filling the hole queues the data and the FIN"},
		{Name: "ofo-rst-after-fill", Path: PathOFO, Frames: []Frame{{Header: 4, Payload: 20}, {Header: 4, Payload: 20}},
			Segments: []Segment{seg(8, 32), seg(0, 8), seg(32, 44)}, Close: CloseRST,
			Description: "a hole filled, then a reset 12 bytes into the next frame"},
		{Name: "fastopen-then-fin", Path: PathFastOpen, Frames: []Frame{{Header: 4, Payload: 20}, {Header: 4, Payload: 20}}, FastOpen: "no-cookie",
			Segments:    []Segment{{Offset: 0, Len: 32, SynData: true}, {Offset: 32, Len: 12, FIN: true}},
			Description: "a whole frame in the SYN, then part of the next with the FIN"},
	}
}

func repeatInt(n, times int) []int {
	out := make([]int, times)
	for i := range out {
		out[i] = n
	}
	return out
}

func repeatFrame(f Frame, n int) []Frame { return repeat(f, n) }
