package scenario

import (
	"strings"
	"testing"
)

// Every edge field is checked at load time, each mistake named.
func TestValidateEdges(t *testing.T) {
	f := Frame{Header: 4, Payload: 20} // 32 bytes
	base := func() Scenario {
		return Scenario{Name: "e", Path: PathInOrder, Frames: []Frame{f, f}, Sends: []int{32, 32}}
	}
	peer := func() Scenario {
		return Scenario{Name: "e", Path: PathInOrder, Frames: []Frame{f, f}, Segments: []Segment{{Offset: 0, Len: 32}, {Offset: 32, Len: 32}}}
	}
	for _, tt := range []struct {
		name string
		edit func(*Scenario)
		want string // "" for valid
	}{
		{"close fin mid-stream", func(s *Scenario) { s.Close, s.Sends = CloseFIN, []int{32, 10} }, ""},
		{"a short stream without a close", func(s *Scenario) { s.Sends = []int{32, 10} }, "with close: fin or rst the stream may end early"},
		{"close what", func(s *Scenario) { s.Close = "shut" }, `close "shut": want fin or rst`},
		{"fin on loopback", func(s *Scenario) { s.Sends = nil; s.Script = []Step{{Kind: StepSend, N: 64}}; s.Close = CloseFIN }, ""},
		{"rcvbuf too small", func(s *Scenario) { s.RcvBuf = 100 }, "rcvbuf 100 outside 1024.."},
		{"rmem of two", func(s *Scenario) { s.RMem = []int{4096, 8192} }, "rmem: want [min, default, max]"},
		{"rmem not ascending", func(s *Scenario) { s.RMem = []int{8192, 4096, 16384} }, "want 1 <= min <= default <= max"},
		{"reader call", func(s *Scenario) { s.Reader = &Reader{Call: "mmap"} }, `reader call "mmap": want recv, read or splice`},
		{"peek with read", func(s *Scenario) { s.Reader = &Reader{Call: CallRead, Peek: true} }, "peek and waitall are recv() flags"},
		{"reader max negative", func(s *Scenario) { s.Reader = &Reader{Max: -1} }, "reader max -1 outside"},
		{"app rcvlowat 0", func(s *Scenario) { s.AppRcvlowat = &AppRcvlowat{Value: 0} }, "app_rcvlowat 0 outside 1.."},
		{"optin after the last step", func(s *Scenario) { s.OptInAfter = 2 }, "optin_after 2: want a step from 1 to 1"},
		{"desc of one", func(s *Scenario) { s.Frames[0].Desc = []uint32{1} }, "desc: want [header_len, payload_len]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := base()
			tt.edit(&s)
			check(t, s, tt.want)
		})
	}
	for _, tt := range []struct {
		name string
		edit func(*Scenario)
		want string
	}{
		{"fin on the last segment", func(s *Scenario) { s.Segments[1].FIN = true }, ""},
		{"fin out of order on the last byte", func(s *Scenario) {
			s.Path, s.Segments = PathOFO, []Segment{{Offset: 32, Len: 32, FIN: true}, {Offset: 0, Len: 32}}
		}, ""},
		{"fin before the end", func(s *Scenario) { s.Segments[0].FIN = true }, "the FIN rides on the segment that ends the stream sent (byte 64)"},
		{"fin and close rst", func(s *Scenario) { s.Segments[1].FIN, s.Close = true, CloseRST }, "a FIN on a segment and close rst: choose one"},
		{"a hole before the close", func(s *Scenario) {
			s.Segments = []Segment{{Offset: 0, Len: 10}, {Offset: 20, Len: 12}}
			s.Close = CloseRST
		},
			"leave a hole at byte 10 before the close"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := peer()
			tt.edit(&s)
			check(t, s, tt.want)
		})
	}
}

func check(t *testing.T, s Scenario, want string) {
	t.Helper()
	err := s.Validate()
	switch {
	case want == "" && err != nil:
		t.Errorf("refused: %v", err)
	case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
		t.Errorf("err %v, want %q", err, want)
	}
}

// A close by FIN on a segment counts as a close; the stream sent is the
// part before it.
func TestClosesAndSentLen(t *testing.T) {
	for _, s := range Edges() {
		if err := s.Validate(); err != nil {
			t.Errorf("%s: %v", s.Name, err)
		}
	}
	s := Scenario{Frames: []Frame{{Header: 4, Payload: 20}}, Segments: []Segment{{Offset: 0, Len: 12, FIN: true}}}
	if s.Closes() != CloseFIN || s.SentLen() != 12 {
		t.Errorf("Closes %q, SentLen %d; want fin, 12", s.Closes(), s.SentLen())
	}
}
