package analysis

import (
	"slices"
	"testing"

	"github.com/kernel-harness/harness/harness/scenario"
)

func builtin(t *testing.T, name string) scenario.Scenario {
	t.Helper()
	for _, s := range scenario.Builtin() {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no builtin scenario %q", name)
	return scenario.Scenario{}
}

// A stock kernel keeps rcvlowat at 1, so every send wakes the reader.
func TestModelBaseline(t *testing.T) {
	for _, s := range scenario.Builtin() {
		got := Model(scenario.Case{Scenario: s, Family: scenario.IPv4, Mode: scenario.Baseline})
		if len(got) != len(s.Sends) {
			t.Fatalf("%s: %d steps, want %d", s.Name, len(got), len(s.Sends))
		}
		for i, e := range got {
			if want := (Expect{Ready: true, LowatAfterSend: 1, LowatAfterRecv: 1}); e != want {
				t.Errorf("%s step %d: %+v, want %+v", s.Name, i+1, e, want)
			}
		}
	}
}

// The expectations below are worked out by hand from the rule in Model's
// comment: with complete frames unread, rcvlowat covers them all;
// otherwise the frame being received if its descriptor (8 bytes) is in,
// else 8, a whole descriptor, however much of it was read; counted from
// copied_seq. The reader
// reads everything queued whenever it is woken.
func TestModelAutolowat(t *testing.T) {
	tests := []struct {
		name string
		want []Expect
	}{
		{
			// Two frames of 8+24+200 = 232 bytes; frame ends 232 and 464.
			name: "split-frame",
			want: []Expect{
				{false, 8, 0},   // 3 in: descriptor incomplete, lowat = 0+8
				{false, 232, 0}, // 8 in: descriptor in, lowat = end of frame 1
				{false, 232, 0}, // 48 in
				{false, 232, 0}, // 148 in
				{true, 232, 8},  // 232 in: frame 1 complete; read, then next descriptor 232+8
				{true, 232, 8},  // 464 in: frame 2 complete, 464-232; read, then 464+8
			},
		},
		{
			// Three frames of 124 bytes, one per send.
			name: "one-frame-per-send",
			want: []Expect{{true, 124, 8}, {true, 124, 8}, {true, 124, 8}},
		},
		{
			// Four frames of 124 bytes, two per send: both frames are covered.
			name: "two-frames-per-send",
			want: []Expect{{true, 248, 8}, {true, 248, 8}},
		},
		{
			// 32 frames of 8+4+12 = 24 bytes; sends of 100, the last 68.
			name: "many-small-frames",
			want: []Expect{
				{true, 96, 8},  // 100 in: frames end at 96; read 100, frame 5 (96..120) has 4 bytes of its descriptor: a whole descriptor, 8
				{true, 92, 16}, // 200 in: last end 192, 192-100; frame 9 (192..216) has 8: 216-200
				{true, 88, 12}, // 300 in: 288-200; frame 13 (288..312) has 12: 312-300
				{true, 84, 8},  // 400 in: 384-300; frame 17 (384..408): 408-400
				{true, 80, 4},  // 500 in: 480-400; frame 21 (480..504) has 20: 504-500
				{true, 100, 8}, // 600 in: 600-500, a frame boundary; then the next descriptor
				{true, 96, 8},  // 700 in: 696-600; frame 30 (696..720) has 4 descriptor bytes: 8
				{true, 68, 8},  // 768 in: the end, 768-700; then a descriptor past the end
			},
		},
		{
			// A 6072-byte frame in one send, then a 124-byte one.
			name: "frame-larger-than-mss",
			want: []Expect{{true, 6072, 8}, {true, 124, 8}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Model(scenario.Case{Scenario: builtin(t, tt.name), Family: scenario.IPv6, Mode: scenario.Autolowat})
			if !slices.Equal(got, tt.want) {
				t.Errorf("Model:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// ruleLowat straight from the rule, on frames ending at 10, 30 and 60.
func TestRuleLowat(t *testing.T) {
	ends := []int{10, 30, 60}
	tests := []struct {
		received, copied, want int
	}{
		{0, 0, 1},    // nothing queued: the program has not run yet
		{5, 0, 8},    // part of the descriptor
		{8, 0, 10},   // descriptor in: the whole first frame
		{10, 0, 10},  // first frame complete
		{35, 0, 30},  // two complete frames unread: both
		{35, 30, 8},  // all complete frames read; frame 3 has 5 bytes: 30+8-30
		{38, 30, 30}, // frame 3's descriptor in: 60-30
		{38, 35, 25}, // counted from copied_seq: 60-35
		{60, 60, 8},  // the stream read to its end: a descriptor beyond it
		{12, 12, 8},  // read to mid-descriptor of frame 2 (starts at 10): a whole descriptor, 8, as the series' program asks
		{12, 11, 8},  // part of that descriptor unread: still 8
	}
	for _, tt := range tests {
		if got := ruleLowat(ends, tt.received, tt.copied); got != tt.want {
			t.Errorf("ruleLowat(received %d, copied %d) = %d, want %d", tt.received, tt.copied, got, tt.want)
		}
	}
}

// Out of order: the first segment leaves a hole, so nothing is readable
// until the segment that fills it; then both frames are complete at once.
func TestModelOutOfOrderPrefix(t *testing.T) {
	f := scenario.Frame{Header: 4, Payload: 20} // 32 bytes
	s := scenario.Scenario{Name: "ofo", Path: scenario.PathOFO, Frames: []scenario.Frame{f, f},
		Segments: []scenario.Segment{{Offset: 8, Len: 56}, {Offset: 0, Len: 8}}}
	if got := s.Prefix(); got[0] != 0 || got[1] != 64 {
		t.Fatalf("prefix %v, want [0 64]", got)
	}
	got := Model(scenario.Case{Scenario: s, Family: scenario.IPv4, Mode: scenario.Autolowat})
	if got[0].Ready || !got[1].Ready {
		t.Fatalf("ready %v/%v, want false/true", got[0].Ready, got[1].Ready)
	}
	// Nothing is queued before the hole is filled, so the program has not
	// run and rcvlowat is still 1.
	if got[0].LowatAfterSend != 1 || got[1].LowatAfterSend != 64 || got[1].LowatAfterRecv != 8 {
		t.Fatalf("lowat %+v", got)
	}
	base := Model(scenario.Case{Scenario: s, Family: scenario.IPv4, Mode: scenario.Baseline})
	if base[0].Ready || !base[1].Ready {
		t.Fatalf("baseline ready %+v: a hole wakes nobody", base)
	}
}
