package htmlreport

import (
	"testing"

	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/timeline"
	"github.com/kernel-harness/harness/harness/wire"
)

// A check naming no step is about the whole case.
func TestWhereWholeCase(t *testing.T) {
	tl := timeline.Build([]wire.Event{{Kind: wire.Poll, TimeNS: 1, Step: 1}}, []report.Check{{Name: "kernel-path", Got: "TCPOFOQueue +1"}})
	if len(tl.Failures) != 1 {
		t.Fatalf("failures %+v", tl.Failures)
	}
	if f := tl.Failures[0]; where(f) != "the whole case" {
		t.Errorf("kernel-path is at %q, want the whole case", where(f))
	}
}

func TestScaleShortensLongGaps(t *testing.T) {
	sc := newScale([]int64{0, 10, 20, 30, 40, 10000}, 100, 800)
	if len(sc.breaks) != 1 || sc.breaks[0] != [2]int64{40, 10000} {
		t.Fatalf("breaks %v", sc.breaks)
	}
	if sc.x(0) != 100 || sc.x(10000) != 900 {
		t.Errorf("ends at %v and %v, want 100 and 900", sc.x(0), sc.x(10000))
	}
	// The four short gaps take most of the width, evenly.
	if d1, d2 := sc.x(10)-sc.x(0), sc.x(40)-sc.x(30); d1 != d2 || d1*4 < 400 {
		t.Errorf("short gaps %v and %v wide", d1, d2)
	}
	prev := sc.x(-5)
	for at := int64(0); at <= 10005; at += 5 {
		if x := sc.x(at); x < prev {
			t.Fatalf("x(%d) = %v goes back from %v", at, x, prev)
		} else {
			prev = x
		}
	}
	if one := newScale([]int64{7}, 100, 800); one.x(7) != 500 {
		t.Errorf("a single time at %v, want the middle", one.x(7))
	}
}

func TestNiceCeil(t *testing.T) {
	for v, want := range map[int]int{0: 2, 1: 2, 2: 2, 3: 5, 6: 10, 11: 20, 21: 25, 26: 50, 124: 200, 232: 250, 251: 500, 1500: 2000} {
		if got := niceCeil(v); got != want {
			t.Errorf("niceCeil(%d) = %d, want %d", v, got, want)
		}
	}
}
