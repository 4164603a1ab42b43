package boot

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kernel-harness/harness/harness/boot/driver"
	"github.com/kernel-harness/harness/harness/wire"
)

type fakePauses struct{ lost atomic.Int64 }

func (f *fakePauses) total() time.Duration { return time.Duration(f.lost.Load()) }
func (f *fakePauses) stop()                {}

// Time the harness was stopped (Ctrl-Z, SIGSTOP) is given back to the
// deadlines: a guest that went on meanwhile is not silent, nor late.
func TestStoppedHarnessKeepsDeadlines(t *testing.T) {
	fp := &fakePauses{}
	defer func(w func() pauses) { watchPauses = w }(watchPauses)
	watchPauses = func() pauses { return fp }
	ev := make(chan driver.Event, 2)
	exited := make(chan struct{})
	g := &fakeGuest{started: time.Now(), events: ev, exited: exited}
	ev <- driver.Event{E: wire.Event{Kind: wire.Hello}}
	go func() {
		time.Sleep(20 * time.Millisecond)
		fp.lost.Store(int64(time.Second)) // the harness was stopped a second
		time.Sleep(200 * time.Millisecond)
		ev <- driver.Event{E: wire.Event{Kind: wire.Done}}
		close(exited)
	}()
	out, err := Supervise(context.Background(), g, driver.Deadlines{Boot: time.Second, Idle: 100 * time.Millisecond, Run: 150 * time.Millisecond}, Sinks{})
	if err != nil || !out.Done {
		t.Fatalf("%v, done %v", err, out.Done)
	}
	// Without a stop, the same silence is the guest's.
	fp.lost.Store(0)
	ev2 := make(chan driver.Event, 1)
	ev2 <- driver.Event{E: wire.Event{Kind: wire.Hello}}
	g2 := &fakeGuest{started: time.Now(), events: ev2, exited: make(chan struct{})}
	if _, err := Supervise(context.Background(), g2, driver.Deadlines{Boot: time.Second, Idle: 50 * time.Millisecond, Run: time.Second}, Sinks{}); err == nil {
		t.Error("a silent guest passed")
	}
}

// The real watch counts a stop as the gap between ticks.
func TestWatchPausesCountsNothingUnstopped(t *testing.T) {
	p := watchPauses()
	defer p.stop()
	time.Sleep(600 * time.Millisecond)
	if lost := p.total(); lost != 0 {
		t.Errorf("%v lost while running", lost)
	}
}
