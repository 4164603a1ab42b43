package kbuild

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// meter shows how many objects a build has made.
type meter interface {
	set(n int)
	done()
}

// newMeter draws a bar on a terminal and prints a line every plainEvery
// objects elsewhere. total is the estimate, 0 when there is none.
func newMeter(w io.Writer, total int) meter {
	if w == nil {
		return nopMeter{}
	}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return newBarMeter(f, total)
	}
	return &plainMeter{w: w, total: total}
}

type nopMeter struct{}

func (nopMeter) set(int) {}
func (nopMeter) done()   {}

// plainEvery is how many objects apart plain progress lines are.
const plainEvery = 100

type plainMeter struct {
	w     io.Writer
	total int
	last  int
}

func (m *plainMeter) set(n int) {
	if n/plainEvery == m.last/plainEvery {
		m.last = n
		return
	}
	m.last = n
	at := n - n%plainEvery
	// Past the estimate (a bigger build than last time) a total would
	// only mislead.
	if m.total > at {
		fmt.Fprintf(m.w, "build: %d/%d objects\n", at, m.total)
	} else {
		fmt.Fprintf(m.w, "build: %d objects\n", at)
	}
}

func (m *plainMeter) done() {}

type barMeter struct {
	bar   *progressbar.ProgressBar
	total int
}

func newBarMeter(w io.Writer, total int) *barMeter {
	max := -1 // a spinner and a count
	if total > 0 {
		max = total
	}
	bar := progressbar.NewOptions(max,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("build"),
		progressbar.OptionShowCount(),
		progressbar.OptionSetItsString("objects"),
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

func (m *barMeter) set(n int) {
	// The estimate is the previous build's count; this one may make more.
	if m.total > 0 && n >= m.total {
		m.total = n + n/20 + 1
		m.bar.ChangeMax(m.total)
	}
	m.bar.Set(n)
}

func (m *barMeter) done() {
	m.bar.Clear()
	m.bar.Exit()
}
