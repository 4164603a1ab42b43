package htmlreport

import (
	"fmt"
	"html"
	"html/template"
	"sort"
	"strings"

	"github.com/kernel-harness/harness/harness/timeline"
)

// Geometry of a timeline, in SVG user units.
const (
	svgWidth   = 960
	marginL    = 92 // lane names and byte counts
	marginR    = 16
	plotTop    = 12
	plotHeight = 130
	laneGap    = 10
	laneHeight = 17
	axisHeight = 30
)

// lanes are the rows of marks under the plot, top to bottom.
var lanes = []struct{ name, title string }{
	{"writer", "sends and segments"},
	{"reader", "EPOLLIN, polls and reads"},
	{"kwake", "kernel wake-ups"},
	{"rcvq", "RCVQ callbacks"},
}

func laneOf(kind string) int {
	switch kind {
	case timeline.MarkSend, timeline.MarkOptIn:
		return 0
	case timeline.MarkEpollin, timeline.MarkPoll, timeline.MarkRecv:
		return 1
	case timeline.MarkWake:
		return 2
	default:
		return 3
	}
}

// PathColors colour RCVQ callbacks by path, in the legend too.
var PathColors = map[string]string{
	"in-order": "#1f77b4",
	"ofo":      "#ff7f0e",
	"fastopen": "#9467bd",
	"recvmsg":  "#7f7f7f",
	"unknown":  "#bcbd22",
}

// pathOrder is the legend's order.
var pathOrder = []string{"in-order", "ofo", "fastopen", "recvmsg", "unknown"}

// scale maps guest time to x. A gap between events much longer than the
// usual one (a connection being set up, a peer waiting for an ACK) is
// shortened, so that what happens within a step is not crowded into a
// few pixels; each shortened gap is drawn as a break on the axis.
type scale struct {
	x0, width float64
	ts        []int64   // the event times, sorted and unique
	pos       []float64 // their positions once gaps are shortened
	breaks    [][2]int64
	// align, when set, moves positions onto an axis shared with another
	// run of the same case, so that their steps line up (--baseline).
	align *alignment
}

// alignment maps positions on one timeline (from) to positions on an
// axis shared with others (to): piecewise linear between knots at the
// steps every timeline has, and at both ends.
type alignment struct{ from, to []float64 }

func (a *alignment) at(p float64) float64 {
	i := sort.SearchFloat64s(a.from, p)
	switch {
	case i == 0:
		return a.to[0]
	case i == len(a.from):
		return a.to[len(a.to)-1]
	}
	span := a.from[i] - a.from[i-1]
	if span <= 0 {
		return a.to[i]
	}
	return a.to[i-1] + (p-a.from[i-1])/span*(a.to[i]-a.to[i-1])
}

func newScale(times []int64, x0, width float64) scale {
	s := scale{x0: x0, width: width}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	for i, t := range times {
		if i == 0 || t != times[i-1] {
			s.ts = append(s.ts, t)
		}
	}
	if len(s.ts) < 2 {
		return s
	}
	gaps := make([]int64, 0, len(s.ts)-1)
	for i := 1; i < len(s.ts); i++ {
		gaps = append(gaps, s.ts[i]-s.ts[i-1])
	}
	sorted := append([]int64(nil), gaps...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	// Gaps are positive: the times are unique.
	limit := 4 * sorted[len(sorted)/2]
	s.pos = make([]float64, len(s.ts))
	for i, g := range gaps {
		if g > limit {
			s.breaks = append(s.breaks, [2]int64{s.ts[i], s.ts[i+1]})
			g = limit
		}
		s.pos[i+1] = s.pos[i] + float64(g)
	}
	return s
}

func (s scale) x(t int64) float64 {
	if len(s.ts) < 2 {
		return s.x0 + s.width/2
	}
	p, total := s.position(t), s.total()
	if s.align != nil {
		p, total = s.align.at(p), s.align.to[len(s.align.to)-1]
	}
	if total <= 0 {
		return s.x0
	}
	return s.x0 + s.width*p/total
}

// total is the length of the axis once gaps are shortened.
func (s scale) total() float64 {
	if len(s.pos) == 0 {
		return 0
	}
	return s.pos[len(s.pos)-1]
}

// position is t on the axis once gaps are shortened.
func (s scale) position(t int64) float64 {
	i := sort.Search(len(s.ts), func(i int) bool { return s.ts[i] >= t })
	switch {
	case len(s.ts) == 0 || i == 0:
		return 0
	case i == len(s.ts):
		return s.total()
	case s.ts[i] == t:
		return s.pos[i]
	}
	frac := float64(t-s.ts[i-1]) / float64(s.ts[i]-s.ts[i-1])
	return s.pos[i-1] + frac*(s.pos[i]-s.pos[i-1])
}

type svgBuf struct{ strings.Builder }

func (b *svgBuf) f(format string, args ...any) { fmt.Fprintf(b, format, args...) }

// title is a tooltip, shown on hover without script.
func title(s string) string { return "<title>" + html.EscapeString(s) + "</title>" }

// svg draws a timeline, on the shared axis a when not nil. id names the
// case and side the scenario's (data-case, data-side) so that tests and
// readers can find it.
func svg(t *timeline.Timeline, a *alignment, id, side string) template.HTML {
	lanesTop := plotTop + plotHeight + laneGap
	axisTop := lanesTop + len(lanes)*laneHeight
	height := axisTop + axisHeight
	x0, x1 := float64(marginL+8), float64(svgWidth-marginR-8)
	sc := scaleOf(t)
	sc.align = a
	yMax := niceCeil(t.MaxBytes)
	y := func(v int) float64 { return plotTop + plotHeight - float64(plotHeight)*float64(v)/float64(yMax) }
	base := y(0)
	ms := func(at int64) string { return fmt.Sprintf("+%.3f ms", float64(at-t.Start)/1e6) }

	var b svgBuf
	b.f(`<svg class="timeline" data-case="%s" data-side="%s" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="timeline of %s">`,
		html.EscapeString(id), html.EscapeString(side), svgWidth, height, svgWidth, height, html.EscapeString(id))
	// Frame and byte grid.
	b.f(`<rect class="plot" x="%d" y="%d" width="%d" height="%d"/>`, marginL, plotTop, svgWidth-marginL-marginR, plotHeight)
	for _, v := range []int{0, yMax / 2, yMax} {
		b.f(`<line class="grid" x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>`, marginL, y(v), svgWidth-marginR, y(v))
		b.f(`<text class="ylabel" x="%d" y="%.1f">%d B</text>`, marginL-6, y(v)+4, v)
	}
	// Steps: a faint line each, numbered under the axis when there is room.
	lastLabel := -100.0
	for _, s := range t.Steps {
		x := sc.x(s.T)
		b.f(`<line class="step" x1="%.1f" y1="%d" x2="%.1f" y2="%d"/>`, x, plotTop, x, axisTop)
		if x-lastLabel >= 16 {
			b.f(`<text class="steplabel" x="%.1f" y="%d">%d</text>`, x, axisTop+12, s.V)
			lastLabel = x
		}
	}
	b.f(`<text class="axislabel" x="%d" y="%d">step</text>`, marginL-6, axisTop+12)
	b.f(`<text class="timelabel" x="%.1f" y="%d" text-anchor="start">%s</text>`, x0, axisTop+26, ms(t.Start))
	b.f(`<text class="timelabel" x="%.1f" y="%d" text-anchor="end">%s</text>`, x1, axisTop+26, ms(t.End))
	for _, br := range sc.breaks {
		x := (sc.x(br[0]) + sc.x(br[1])) / 2
		b.f(`<path class="break" d="M%.1f %d l-3 6 l6 4 l-6 4 l3 6"><title>%.3f ms shortened</title></path>`,
			x, axisTop, float64(br[1]-br[0])/1e6)
	}

	// The lines: out-of-order bytes, queued bytes, SO_RCVLOWAT.
	if len(t.OFO) > 0 {
		b.f(`<path class="ofo" d="%s">%s</path>`, area(t.OFO, sc, y, base, x1), title("bytes held out of order (from the peer's segments)"))
	}
	if len(t.Queued) > 0 {
		b.f(`<path class="queued-area" d="%s"/>`, area(t.Queued, sc, y, base, x1))
		b.f(`<path class="queued" d="%s">%s</path>`, steps(t.Queued, sc, y, x1), title("bytes queued for the reader"))
	}
	if len(t.Lowat) > 0 {
		b.f(`<path class="lowat" d="%s">%s</path>`, steps(t.Lowat, sc, y, x1), title("SO_RCVLOWAT"))
	}

	// Lanes of marks.
	for i, l := range lanes {
		ly := float64(lanesTop + i*laneHeight + laneHeight/2)
		b.f(`<text class="lane" x="%d" y="%.1f">%s%s</text>`, marginL-6, ly+4, l.name, title(l.title))
		b.f(`<line class="laneline" x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>`, marginL, ly, svgWidth-marginR, ly)
	}
	for _, m := range t.Marks {
		x := sc.x(m.T)
		ly := float64(lanesTop + laneOf(m.Kind)*laneHeight + laneHeight/2)
		tip := title(m.Label + ", " + ms(m.T))
		switch m.Kind {
		case timeline.MarkSend:
			b.f(`<path class="m-send" d="M%.1f %.1f l4.5 8 h-9 z">%s</path>`, x, ly-4, tip)
		case timeline.MarkOptIn:
			b.f(`<path class="m-optin" d="M%.1f %.1f h8 v8 h-8 z">%s</path>`, x-4, ly-4, tip)
		case timeline.MarkEpollin:
			b.f(`<circle class="m-epollin" cx="%.1f" cy="%.1f" r="4.5">%s</circle>`, x, ly, tip)
		case timeline.MarkPoll:
			b.f(`<circle class="m-poll" cx="%.1f" cy="%.1f" r="3.5">%s</circle>`, x, ly, tip)
		case timeline.MarkRecv:
			b.f(`<path class="m-recv" d="M%.1f %.1f l4.5 -8 h-9 z">%s</path>`, x, ly+4, tip)
		case timeline.MarkWake:
			b.f(`<path class="m-kwake" d="M%.1f %.1f v12">%s</path>`, x, ly-6, tip)
		case timeline.MarkRcvq:
			color, ok := PathColors[m.Path]
			if !ok {
				color = PathColors["unknown"]
			}
			b.f(`<path class="m-rcvq" data-path="%s" fill="%s" d="M%.1f %.1f l5 5 l-5 5 l-5 -5 z">%s</path>`,
				html.EscapeString(m.Path), color, x, ly-5, tip)
		}
	}

	// Failed checks: a band where they happened, or a frame round the
	// whole plot when they name no step.
	for _, f := range t.Failures {
		tip := title("failed: " + describe(f.Check))
		if len(f.Times) == 0 {
			b.f(`<rect class="fail-case" x="%d" y="%d" width="%d" height="%d">%s</rect>`,
				marginL-2, plotTop-2, svgWidth-marginL-marginR+4, axisTop-plotTop+4, tip)
			continue
		}
		for _, at := range f.Times {
			x := sc.x(at)
			b.f(`<rect class="fail-step" x="%.1f" y="%d" width="8" height="%d">%s</rect>`, x-4, plotTop, axisTop-plotTop, tip)
			b.f(`<text class="fail-label" x="%.1f" y="%d">✗ %s%s</text>`, x+6, plotTop+11, html.EscapeString(f.Check.Name), tip)
		}
	}
	b.f(`</svg>`)
	return template.HTML(b.String())
}

// steps draws a value that holds until the next point, to the end.
func steps(ps []timeline.Point, sc scale, y func(int) float64, xEnd float64) string {
	var b svgBuf
	for i, p := range ps {
		if i == 0 {
			b.f("M%.1f %.1f", sc.x(p.T), y(p.V))
			continue
		}
		b.f(" H%.1f V%.1f", sc.x(p.T), y(p.V))
	}
	b.f(" H%.1f", xEnd)
	return b.String()
}

// area is steps closed down to the baseline, to be filled.
func area(ps []timeline.Point, sc scale, y func(int) float64, base, xEnd float64) string {
	return fmt.Sprintf("M%.1f %.1f V%.1f%s V%.1f Z", sc.x(ps[0].T), base, y(ps[0].V),
		strings.TrimPrefix(steps(ps, sc, y, xEnd), fmt.Sprintf("M%.1f %.1f", sc.x(ps[0].T), y(ps[0].V))), base)
}

// niceCeil rounds up to 1, 2, 2.5 or 5 times a power of ten, at least 2
// so that the half-way grid line is a whole number of bytes.
func niceCeil(v int) int {
	if v < 2 {
		return 2
	}
	for p := 1; ; p *= 10 {
		for _, m10 := range []int{10, 20, 25, 50} {
			if n := m10 * p / 10; m10*p%10 == 0 && n >= v {
				return n
			}
		}
	}
}

// scaleOf is the timeline's own axis.
func scaleOf(t *timeline.Timeline) scale {
	var times []int64
	for _, ps := range [][]timeline.Point{t.Queued, t.OFO, t.Lowat, t.Steps} {
		for _, p := range ps {
			times = append(times, p.T)
		}
	}
	for _, m := range t.Marks {
		times = append(times, m.T)
	}
	for _, f := range t.Failures {
		times = append(times, f.Times...)
	}
	x0, x1 := float64(marginL+8), float64(svgWidth-marginR-8)
	return newScale(times, x0, x1-x0)
}

// align puts timelines of the same case (the base and the patched run of
// --baseline) on one axis: each step they all have starts at the same x,
// and each stretch between two such steps is as wide as the widest of
// them needs. It is nil for timelines without a step in common: they
// keep their own axes.
func align(tls ...*timeline.Timeline) []*alignment {
	if len(tls) < 2 {
		return nil
	}
	common := map[int]int{}
	for _, t := range tls {
		seen := map[int]bool{}
		for _, p := range t.Steps {
			if !seen[p.V] {
				seen[p.V] = true
				common[p.V]++
			}
		}
	}
	var steps []int
	for n, k := range common {
		if k == len(tls) {
			steps = append(steps, n)
		}
	}
	if len(steps) == 0 {
		return nil
	}
	sort.Ints(steps)
	knots := make([][]float64, len(tls))
	for i, t := range tls {
		sc := scaleOf(t)
		first := map[int]int64{}
		for _, p := range t.Steps {
			if _, ok := first[p.V]; !ok {
				first[p.V] = p.T
			}
		}
		k := []float64{0}
		for _, n := range steps {
			k = append(k, max(k[len(k)-1], sc.position(first[n])))
		}
		knots[i] = append(k, max(k[len(k)-1], sc.total()))
	}
	shared := make([]float64, len(knots[0]))
	for j := 1; j < len(shared); j++ {
		widest := 0.0
		for _, k := range knots {
			widest = max(widest, k[j]-k[j-1])
		}
		shared[j] = shared[j-1] + widest
	}
	out := make([]*alignment, len(tls))
	for i := range tls {
		out[i] = &alignment{from: knots[i], to: shared}
	}
	return out
}
