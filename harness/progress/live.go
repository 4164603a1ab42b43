// Package progress is what the user sees while a verb works: lines, and
// on a terminal a status line under them.
package progress

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/kernel-harness/harness/harness/text"
	"golang.org/x/term"
)

// Live is a status line at the bottom of a terminal saying what the run
// does now ("[12/60] ofo-descriptor-last/ipv6/autolowat ... 3s"), with the
// progress lines printed above it. Off a terminal it is nil, and the
// lines are printed exactly as they always were: programs parse them.
type Live struct {
	mu    sync.Mutex
	w     io.Writer
	width func() int
	line  string // the status, without its clock
	since time.Time
	stop  chan struct{}
}

// NewLive returns a status line on w when w is a terminal, else nil.
func NewLive(w io.Writer) *Live {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) || os.Getenv("TERM") == "dumb" {
		return nil // a dumb terminal cannot erase a line
	}
	l := &Live{w: f, stop: make(chan struct{}), width: func() int {
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

// Printf prints a progress line to w, above the status on a terminal.
func (l *Live) Printf(w io.Writer, format string, args ...any) {
	if w == nil {
		return
	}
	line := text.Printable(fmt.Sprintf(format, args...)) + "\n"
	if l == nil {
		io.WriteString(w, line)
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.erase()
	io.WriteString(l.w, line)
	l.draw()
}

// Outcome prints a scenario's outcome. On a terminal an unremarkable one
// only shows in the status line, so that what went wrong stands out.
func (l *Live) Outcome(w io.Writer, unremarkable bool, format string, args ...any) {
	if l != nil && unremarkable {
		l.Status(fmt.Sprintf(format, args...))
		return
	}
	l.Printf(w, format, args...)
}

// Status replaces the status line; nothing off a terminal.
func (l *Live) Status(s string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.erase()
	l.line, l.since = text.Printable(s), time.Now()
	l.draw()
}

// Close clears the status line, before the summary is printed.
func (l *Live) Close() {
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

func (l *Live) erase() {
	if l.line != "" {
		fmt.Fprint(l.w, "\r\033[K")
	}
}

func (l *Live) draw() {
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

func (l *Live) redraw() {
	l.erase()
	l.draw()
}

// Say prints progress lines to w, none when w is nil: the form of every
// verb's progress off the status line.
func Say(w io.Writer) func(format string, args ...any) {
	return func(format string, args ...any) {
		if w != nil {
			io.WriteString(w, text.Printable(fmt.Sprintf(format, args...))+"\n")
		}
	}
}
