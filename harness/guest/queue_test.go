package guest

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// gate is a port whose reader (the host) is stopped until opened.
type gate struct {
	open chan struct{}
	mu   sync.Mutex
	buf  bytes.Buffer
}

func (g *gate) Write(p []byte) (int, error) {
	<-g.open
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.buf.Write(p)
}

// A host that stops reading does not block the agent's writes; what was
// queued arrives, in order, once it reads again.
func TestQueueDoesNotBlock(t *testing.T) {
	g := &gate{open: make(chan struct{})}
	q := newQueue(g, 16)
	done := make(chan struct{})
	go func() {
		for i := range 10 {
			q.Write([]byte{'a' + byte(i)})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("writes blocked while the host did not read")
	}
	close(g.open)
	if err := q.close(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if got := g.buf.String(); got != "abcdefghij" {
		t.Errorf("got %q", got)
	}
	if _, err := q.Write([]byte("late")); !errors.Is(err, errQueueClosed) {
		t.Errorf("a write after close: %v", err)
	}
}

// A host that never reads again loses the events, said after the wait;
// a port that fails says so to the writes after it.
func TestQueueEnds(t *testing.T) {
	q := newQueue(&gate{open: make(chan struct{})}, 4)
	q.Write([]byte("x"))
	if err := q.close(50 * time.Millisecond); err == nil || !strings.Contains(err.Error(), "events are lost") {
		t.Errorf("close with a stopped host: %v", err)
	}
	f := newQueue(failing{}, 4)
	f.Write([]byte("x"))
	time.Sleep(50 * time.Millisecond)
	if _, err := f.Write([]byte("y")); !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("a write after the port failed: %v", err)
	}
}

type failing struct{}

func (failing) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }
