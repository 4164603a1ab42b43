package boot

import (
	"sync"
	"time"
)

// pauses measures how long the harness itself was stopped (SIGSTOP,
// Ctrl-Z): a ticker that should tick every period and did not. The
// deadlines are the guest's, so time the harness did not run is given
// back to them instead of failing a case the guest carried on with.
type pauses interface {
	// total is the time lost to stops so far.
	total() time.Duration
	stop()
}

type tickPauses struct {
	mu   sync.Mutex
	sum  time.Duration
	done chan struct{}
}

// watchPauses starts the watch; a test puts a fake in its place.
var watchPauses = func() pauses {
	const period = 250 * time.Millisecond
	p := &tickPauses{done: make(chan struct{})}
	go func() {
		t := time.NewTicker(period)
		defer t.Stop()
		last := time.Now()
		for {
			select {
			case <-p.done:
				return
			case now := <-t.C:
				// A gap of several periods is a stop, not a slow tick.
				if gap := now.Sub(last); gap > 8*period {
					p.mu.Lock()
					p.sum += gap - period
					p.mu.Unlock()
				}
				last = now
			}
		}
	}()
	return p
}

func (p *tickPauses) total() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sum
}

func (p *tickPauses) stop() { close(p.done) }

// deadline is a timer that, when it fires, first gives back the time
// the harness was stopped since it was set.
type deadline struct {
	t    *time.Timer
	p    pauses
	seen time.Duration // pauses.total when last set
}

func newDeadline(d time.Duration, p pauses) *deadline {
	return &deadline{t: time.NewTimer(d), p: p, seen: p.total()}
}

// reset sets the deadline d from now.
func (dl *deadline) reset(d time.Duration) {
	dl.t.Reset(d)
	dl.seen = dl.p.total()
}

// expired says, once the timer fired, whether the deadline has passed:
// false when the harness was stopped meanwhile, the timer then set
// again for the time lost.
func (dl *deadline) expired() bool {
	if lost := dl.p.total() - dl.seen; lost > 0 {
		dl.reset(lost)
		return false
	}
	return true
}
