// Package console finds kernel reports in the guest console: panics,
// Oopses, BUGs, WARNINGs, KASAN and lockdep reports. Any of them fails a
// run even when every scenario passed.
package console

import (
	"regexp"
	"strings"
	"sync"

	"github.com/kernel-harness/harness/harness/report"
)

// The first line of each kind of report, after the "[    1.234567] "
// timestamp. Order matters: KASAN and lockdep reports start as BUG or
// WARNING lines and are named by what follows.
var starts = []struct {
	kind string
	re   *regexp.Regexp
}{
	{"kasan", regexp.MustCompile(`BUG: KASAN: `)},
	{"lockdep", regexp.MustCompile(`WARNING: (possible circular locking dependency|possible recursive locking|inconsistent lock state|suspicious RCU usage)|BUG: (sleeping function called from invalid context|scheduling while atomic|lock held when returning)`)},
	{"panic", regexp.MustCompile(`Kernel panic - not syncing`)},
	{"oops", regexp.MustCompile(`Oops: |general protection fault`)},
	{"bug", regexp.MustCompile(`BUG: |kernel BUG at `)},
	{"warning", regexp.MustCompile(`WARNING: `)},
}

var timestamp = regexp.MustCompile(`^\[\s*\d+\.\d+\]\s?`)

// endOfReport closes a report early; otherwise it ends after maxLines.
var endOfReport = regexp.MustCompile(`---\[ end (trace|Kernel panic)`)

const maxLines = 60

// Detector collects reports from console lines as they arrive.
type Detector struct {
	mu     sync.Mutex
	splats []report.Splat
	open   *report.Splat
	lines  int
}

// Feed takes one console line; scenario is the case running when it came.
func (d *Detector) Feed(line, scenario string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	text := timestamp.ReplaceAllString(line, "")
	for _, s := range starts {
		if s.re.MatchString(text) {
			// A panic that follows an Oops is the same event: keep it in
			// the open report instead of starting another.
			if d.open != nil && s.kind == "panic" {
				break
			}
			d.closeOpen()
			d.splats = append(d.splats, report.Splat{Kind: s.kind, Scenario: scenario})
			d.open = &d.splats[len(d.splats)-1]
			d.lines = 0
			break
		}
	}
	if d.open == nil {
		return
	}
	d.open.Text += text + "\n"
	d.lines++
	if d.lines >= maxLines || endOfReport.MatchString(text) {
		d.closeOpen()
	}
}

func (d *Detector) closeOpen() {
	if d.open != nil {
		d.open.Text = strings.TrimRight(d.open.Text, "\n")
	}
	d.open = nil
}

// Splats returns every report seen so far.
func (d *Detector) Splats() []report.Splat {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closeOpen()
	return append([]report.Splat(nil), d.splats...)
}
