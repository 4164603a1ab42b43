package guest

import (
	"errors"
	"io"
	"sync"
	"time"
)

// queue writes to w from a goroutine of its own, so that a host that
// stops reading the events port for a while (a harness stopped with
// SIGSTOP, a laptop suspended) does not block a case: the case's own
// deadlines measure the kernel under test, not the host's reading.
type queue struct {
	mu     sync.Mutex // held by a write while it waits for room
	ch     chan []byte
	done   chan struct{}
	closed bool
	emu    sync.Mutex // apart: the writer must drain while mu is held
	err    error      // the first write that failed
}

func newQueue(w io.Writer, n int) *queue {
	q := &queue{ch: make(chan []byte, n), done: make(chan struct{})}
	go func() {
		defer close(q.done)
		for b := range q.ch {
			if _, err := w.Write(b); err != nil {
				q.emu.Lock()
				if q.err == nil {
					q.err = err
				}
				q.emu.Unlock()
			}
		}
	}()
	return q
}

var errQueueClosed = errors.New("events port closed")

// Write queues a copy of p; the first write error is returned by the
// writes after it.
func (q *queue) Write(p []byte) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return 0, errQueueClosed
	}
	if err := q.failed(); err != nil {
		return 0, err
	}
	q.ch <- append([]byte(nil), p...) // blocks only once n writes wait
	return len(p), nil
}

func (q *queue) failed() error {
	q.emu.Lock()
	defer q.emu.Unlock()
	return q.err
}

// close waits, up to wait, for what is queued to be written.
func (q *queue) close(wait time.Duration) error {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.ch)
	}
	q.mu.Unlock()
	select {
	case <-q.done:
	case <-time.After(wait):
		return errors.New("events port: the host read nothing for " + wait.String() + "; events are lost")
	}
	return q.failed()
}
