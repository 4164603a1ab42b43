package scenario

// Builtin returns the in-order scenarios every run carries. Frame sizes are
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

func repeat(f Frame, n int) []Frame {
	out := make([]Frame, n)
	for i := range out {
		out[i] = f
	}
	return out
}
