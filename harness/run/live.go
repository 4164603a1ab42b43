package run

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// live is a status line at the bottom of a terminal saying what the run
// does now ("[12/60] ofo-descriptor-last/ipv6/autolowat ... 3s"), with the
// progress lines printed above it. Off a terminal it is nil, and the
// lines are printed exactly as they always were: programs parse them.
type live struct {
	mu    sync.Mutex
	w     io.Writer
	width func() int
	line  string // the status, without its clock
	since time.Time
	stop  chan struct{}
}

// newLive returns a status line on w when w is a terminal, else nil.
func newLive(w io.Writer) *live {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	l := &live{w: f, stop: make(chan struct{}), width: func() int {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
			return w
		}
		return 80
	}}
	// The clock moves while a scenario takes long under TCG.
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-t.C:
				l.mu.Lock()
				l.redraw()
				l.mu.Unlock()
			}
		}
	}()
	return l
}

// printf prints a progress line to w, above the status on a terminal.
func (l *live) printf(w io.Writer, format string, args ...any) {
	if w == nil {
		return
	}
	if l == nil {
		fmt.Fprintf(w, format+"\n", args...)
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.erase()
	fmt.Fprintf(l.w, format+"\n", args...)
	l.draw()
}

// outcome prints a scenario's outcome. On a terminal an unremarkable one
// only shows in the status line, so that what went wrong stands out.
func (l *live) outcome(w io.Writer, unremarkable bool, format string, args ...any) {
	if l != nil && unremarkable {
		l.status(fmt.Sprintf(format, args...))
		return
	}
	l.printf(w, format, args...)
}

// status replaces the status line; nothing off a terminal.
func (l *live) status(s string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.erase()
	l.line, l.since = s, time.Now()
	l.draw()
}

// close clears the status line, before the summary is printed.
func (l *live) close() {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stop != nil {
		close(l.stop)
		l.stop = nil
	}
	l.erase()
	l.line = ""
}

func (l *live) erase() {
	if l.line != "" {
		fmt.Fprint(l.w, "\r\033[K")
	}
}

func (l *live) draw() {
	if l.line == "" {
		return
	}
	s := fmt.Sprintf("%s %ds", l.line, int(time.Since(l.since).Seconds()))
	// A status that wraps could not be erased with one \r.
	if n := l.width() - 1; len(s) > n && n > 3 {
		s = s[:n-3] + "..."
	}
	fmt.Fprint(l.w, s)
}

func (l *live) redraw() {
	l.erase()
	l.draw()
}
