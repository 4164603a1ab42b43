package kbuild

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Meter shows how many steps (objects, programs) a build has made.
type Meter interface {
	Set(n int)
	Done()
}

// NewMeter draws a bar on a terminal and prints a line every plainEvery
// steps elsewhere: "name: n/total unit". total is the estimate, 0 when
// there is none.
func NewMeter(w io.Writer, name, unit string, total int) Meter {
	if w == nil {
		return nopMeter{}
	}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return newBarMeter(f, name, unit, total)
	}
	return &plainMeter{w: w, name: name, unit: unit, total: total}
}

func newMeter(w io.Writer, total int) Meter { return NewMeter(w, "build", "objects", total) }

type nopMeter struct{}

func (nopMeter) Set(int) {}
func (nopMeter) Done()   {}

// plainEvery is how many objects apart plain progress lines are.
const plainEvery = 100

type plainMeter struct {
	w          io.Writer
	name, unit string
	total      int
	last       int
}

func (m *plainMeter) Set(n int) {
	if n/plainEvery == m.last/plainEvery {
		m.last = n
		return
	}
	m.last = n
	at := n - n%plainEvery
	// Past the estimate (a bigger build than last time) a total would
	// only mislead.
	if m.total > at {
		fmt.Fprintf(m.w, "%s: %d/%d %s\n", m.name, at, m.total, m.unit)
	} else {
		fmt.Fprintf(m.w, "%s: %d %s\n", m.name, at, m.unit)
	}
}

func (m *plainMeter) Done() {}

type barMeter struct {
	bar   *progressbar.ProgressBar
	total int
}

func newBarMeter(w io.Writer, name, unit string, total int) *barMeter {
	max := -1 // a spinner and a count
	if total > 0 {
		max = total
	}
	bar := progressbar.NewOptions(max,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(name),
		progressbar.OptionShowCount(),
		progressbar.OptionSetItsString(unit),
		progressbar.OptionShowIts(),
		progressbar.OptionSetPredictTime(total > 0),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionFullWidth(),
		progressbar.OptionClearOnFinish(),
	)
	return &barMeter{bar: bar, total: total}
}

func (m *barMeter) Set(n int) {
	// The estimate is the previous build's count; this one may make more.
	if m.total > 0 && n >= m.total {
		m.total = n + n/20 + 1
		m.bar.ChangeMax(m.total)
	}
	m.bar.Set(n)
}

func (m *barMeter) Done() {
	m.bar.Clear()
	m.bar.Exit()
}
