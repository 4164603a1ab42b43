package scenario

import (
	"reflect"
	"testing"
)

func TestReceived(t *testing.T) {
	var r received
	steps := []struct {
		from, to, prefix int
		iv               [][2]int
	}{
		{10, 20, 0, [][2]int{{10, 20}}},
		{30, 40, 0, [][2]int{{10, 20}, {30, 40}}},
		{20, 30, 0, [][2]int{{10, 40}}}, // touching both: one
		{0, 5, 5, [][2]int{{0, 5}, {10, 40}}},
		{3, 12, 40, [][2]int{{0, 40}}},  // overlapping
		{15, 25, 40, [][2]int{{0, 40}}}, // inside
		{50, 50, 40, [][2]int{{0, 40}}}, // empty
	}
	for _, st := range steps {
		r.add(st.from, st.to)
		if r.prefix() != st.prefix || !reflect.DeepEqual(r.iv, st.iv) {
			t.Fatalf("after %d..%d: prefix %d, %v; want %d, %v", st.from, st.to, r.prefix(), r.iv, st.prefix, st.iv)
		}
	}
}

// BenchmarkValidateSegments validates a 16 MiB stream sent as 4096
// overlapping segments of 1 MiB each: the work follows the segments, not
// their bytes.
func BenchmarkValidateSegments(b *testing.B) {
	s := Scenario{Name: "big", Path: "ofo"}
	for range 16 {
		s.Frames = append(s.Frames, Frame{Header: 4, Payload: 1048000})
	}
	n, seg := s.StreamLen(), 1<<20
	for i := range 4096 {
		s.Segments = append(s.Segments, Segment{Offset: (i * 4099) % (n - seg), Len: seg})
	}
	s.Segments = append(s.Segments, Segment{Offset: n - seg, Len: seg}, Segment{Offset: 0, Len: seg})
	for b.Loop() {
		s.Validate()
	}
}
