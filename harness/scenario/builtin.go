package scenario

// All returns every built-in scenario: loopback, then through the peer,
// then the series' edges.
func All() []Scenario { return append(append(Builtin(), Peer()...), Edges()...) }

// Builtin returns the in-order loopback scenarios every run carries. Frame sizes are
// small so that a whole matrix stays quick under TCG; each scenario exists
// for one way a reader can be woken too early.
func Builtin() []Scenario {
	small := Frame{Header: 16, Payload: 100} // 124 bytes on the wire
	return []Scenario{
		{
			Name:        "one-frame-per-send",
			Description: "each send carries exactly one whole frame",
			Path:        PathInOrder,
			Frames:      []Frame{small, small, small},
			Sends:       []int{124, 124, 124},
		},
		{
			Name:        "two-frames-per-send",
			Description: "each send carries two whole frames",
			Path:        PathInOrder,
			Frames:      []Frame{small, small, small, small},
			Sends:       []int{248, 248},
		},
		{
			Name:        "split-frame",
			Description: "a frame cut over five sends, its descriptor split 3+5 bytes, then a whole frame",
			Path:        PathInOrder,
			Frames:      []Frame{{Header: 24, Payload: 200}, {Header: 24, Payload: 200}},
			Sends:       []int{3, 5, 40, 100, 84, 232},
		},
		{
			Name:        "many-small-frames",
			Description: "32 frames of 24 bytes back to back in 100-byte sends, frame boundaries inside sends",
			Path:        PathInOrder,
			Frames:      repeat(Frame{Header: 4, Payload: 12}, 32),
			Sends:       []int{100, 100, 100, 100, 100, 100, 100, 68},
		},
		{
			Name:        "frame-larger-than-mss",
			Description: "a 6 KB frame in one send over a 1500-byte MTU loopback, then a small frame",
			Path:        PathInOrder,
			Frames:      []Frame{{Header: 64, Payload: 6000}, small},
			Sends:       []int{6072, 124},
			MTU:         1500,
		},
	}
}

// Peer returns the scenarios sent by the TCP peer through a TUN device:
// out-of-order, Fast Open, and in-order with exact segment sizes. Offsets
// are stream bytes; frames of 4+20 bytes are 32 on the wire.
func Peer() []Scenario {
	small := Frame{Header: 4, Payload: 20} // 32 bytes
	one := Frame{Header: 4, Payload: 100}  // 112 bytes
	seg := func(off, end int) Segment { return Segment{Offset: off, Len: end - off} }
	syn := func(end int) Segment { return Segment{Offset: 0, Len: end, SynData: true} }
	return []Scenario{
		{Name: "peer-in-order", Path: PathInOrder, Frames: []Frame{small, small},
			Description: "through the peer in order: the descriptor split 1+7, a frame boundary inside a segment",
			Segments:    []Segment{seg(0, 1), seg(1, 8), seg(8, 40), seg(40, 64)}},
		{Name: "ofo-descriptor-last", Path: PathOFO, Frames: []Frame{small, small},
			Description: "a hole at the start of the first frame: its descriptor arrives last",
			Segments:    []Segment{seg(8, 32), seg(32, 64), seg(0, 8)}},
		{Name: "ofo-hole-in-payload", Path: PathOFO, Frames: []Frame{one},
			Description: "a hole in the middle of a payload",
			Segments:    []Segment{seg(0, 40), seg(60, 112), seg(40, 60)}},
		{Name: "ofo-holes-in-reverse", Path: PathOFO, Frames: []Frame{one},
			Description: "several holes filled from the back",
			Segments:    []Segment{seg(90, 112), seg(60, 90), seg(30, 60), seg(0, 30)}},
		{Name: "ofo-fill-completes-two", Path: PathOFO, Frames: []Frame{small, small},
			Description: "filling one hole completes two frames at once",
			Segments:    []Segment{seg(0, 20), seg(24, 64), seg(20, 24)}},
		{Name: "ofo-overlapping-retransmit", Path: PathOFO, Frames: []Frame{Frame{Header: 4, Payload: 60}},
			Description: "a retransmission that covers bytes already queued fills the hole",
			Segments:    []Segment{seg(0, 30), seg(50, 72), seg(20, 50)}},
		{Name: "fastopen-whole-frame", Path: PathFastOpen, Frames: []Frame{small}, FastOpen: "no-cookie",
			Description: "a whole frame in the SYN",
			Segments:    []Segment{syn(32)}},
		{Name: "fastopen-descriptor-in-syn", Path: PathFastOpen, Frames: []Frame{Frame{Header: 16, Payload: 100}}, FastOpen: "no-cookie",
			Description: "the descriptor and part of the header in the SYN, the rest in order",
			Segments:    []Segment{syn(12), seg(12, 60), seg(60, 124)}},
		{Name: "fastopen-then-ofo", Path: PathFastOpen, Frames: []Frame{small, small}, FastOpen: "no-cookie",
			Description: "SYN data, then segments out of order",
			Segments:    []Segment{syn(16), seg(40, 64), seg(16, 40)}},
		{Name: "fastopen-cookie", Path: PathFastOpen, Frames: []Frame{small}, FastOpen: "cookie",
			Description: "a cookie fetched on a first connection, then a whole frame in the SYN of a second",
			Segments:    []Segment{syn(32)}},
	}
}

func repeat(f Frame, n int) []Frame {
	out := make([]Frame, n)
	for i := range out {
		out[i] = f
	}
	return out
}
