package htmlreport

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"regexp"
	"strings"

	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/timeline"
	"github.com/kernel-harness/harness/harness/wire"
)

//go:embed page.html.tmpl
var pageTemplate string

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"short": func(s string) string {
		if len(s) > 12 {
			return s[:12]
		}
		return s
	},
	"describe": describe,
	"seconds":  func(s float64) string { return fmt.Sprintf("%.1f s", s) },
	"join":     strings.Join,
}).Parse(pageTemplate))

type pageView struct {
	R *report.Report
	// Base is the base run's report with --baseline.
	Base   *report.Report
	Counts string
	// Splats are the kernel's reports while no scenario ran.
	Splats []report.Splat
	Cases  []caseView
	Legend template.HTML
	Notes  []string
	// Failed are the cases to look at first (failed or errored), and
	// Programs names the autolowat programs: the answer box at the top.
	Failed   []caseView
	Programs string
}

type caseView struct {
	ID, Anchor, Path string
	Verdict          string // the worst of the sides
	Sides            []sideView
}

type sideView struct {
	Label    string // base or patched with --baseline
	Release  string
	S        *report.Scenario // nil: the case was not in this run
	SVG      template.HTML
	tl       *timeline.Timeline
	Failures []failView
	Splats   []report.Splat
	Note     string
}

type failView struct{ Text, Where string }

// Render writes the page.
func Render(w io.Writer, in Input) error {
	v := pageView{R: in.Top.Report, Legend: legend()}
	if in.Base != nil {
		v.Base = in.Base.Report
	}
	v.Counts = counts(v.R)
	for _, sp := range v.R.Splats {
		if sp.Scenario == "" {
			v.Splats = append(v.Splats, sp)
		}
	}
	runs := []*Run{&in.Top}
	labels := []string{""}
	if in.Base != nil && in.Patched != nil {
		runs, labels = []*Run{in.Base, in.Patched}, []string{"base", "patched"}
	}
	for _, r := range runs {
		if r.Events == nil {
			v.Notes = append(v.Notes, fmt.Sprintf("%s has no events.jsonl: the run ended before the guest reported anything.", r.Dir))
		}
	}
	v.Cases = cases(runs, labels)
	for _, c := range v.Cases {
		if c.Verdict == report.Fail || c.Verdict == report.Error {
			v.Failed = append(v.Failed, c)
		}
	}
	v.Programs = programs(v.R.BPF)
	return page.Execute(w, v)
}

// cases lines up the runs' scenarios by ID, in the order of the last run
// (the patched one with --baseline) and then any the others alone had.
func cases(runs []*Run, labels []string) []caseView {
	var order []string
	seen := map[string]bool{}
	for i := len(runs) - 1; i >= 0; i-- {
		for _, s := range runs[i].Report.Scenarios {
			if !seen[s.ID()] {
				seen[s.ID()] = true
				order = append(order, s.ID())
			}
		}
	}
	// Indexes by scenario ID, so that the page is linear in the cases: a
	// large run's page is built while the user waits, even after Ctrl-C.
	byRun := make([]map[string][]wire.Event, len(runs))
	scenarios := make([]map[string]*report.Scenario, len(runs))
	splats := make([]map[string][]report.Splat, len(runs))
	for i, r := range runs {
		byRun[i] = map[string][]wire.Event{}
		for _, e := range r.Events {
			if e.Scenario != "" {
				byRun[i][e.Scenario] = append(byRun[i][e.Scenario], e)
			}
		}
		scenarios[i] = make(map[string]*report.Scenario, len(r.Report.Scenarios))
		for j := range r.Report.Scenarios {
			s := &r.Report.Scenarios[j]
			scenarios[i][s.ID()] = s // the last of a repeated ID, as before
		}
		splats[i] = map[string][]report.Splat{}
		for _, sp := range r.Report.Splats {
			splats[i][sp.Scenario] = append(splats[i][sp.Scenario], sp)
		}
	}
	var out []caseView
	for n, id := range order {
		c := caseView{ID: id, Anchor: fmt.Sprintf("case-%d-%s", n+1, anchorRE.ReplaceAllString(id, "-"))}
		for i, r := range runs {
			sv := sideView{Label: labels[i], Release: r.Report.Kernel.Release, S: scenarios[i][id]}
			if sv.S == nil {
				sv.Note = "not run on this kernel"
				c.Sides = append(c.Sides, sv)
				continue
			}
			s := sv.S
			c.Path = s.Path
			c.Verdict = worse(c.Verdict, s.Verdict)
			failed := s.FailedChecks
			if failed == nil {
				for _, ch := range s.Checks {
					if !ch.Pass {
						failed = append(failed, ch)
					}
				}
			}
			tl := timeline.Build(byRun[i][id], failed)
			switch {
			case s.Verdict == report.Unsupported:
				sv.Note = "unsupported: " + s.Reason
			case tl.Empty():
				sv.Note = "no events to draw"
				if s.Reason != "" {
					sv.Note += ": " + s.Reason
				}
			default:
				sv.tl = tl // drawn once every side's timeline is known
			}
			for _, f := range tl.Failures {
				sv.Failures = append(sv.Failures, failView{Text: describe(f.Check), Where: where(f)})
			}
			sv.Splats = splatsOf(splats[i][id], *s)
			c.Sides = append(c.Sides, sv)
		}
		drawSides(c)
		out = append(out, c)
	}
	return out
}

// drawSides draws the timelines of a case's sides, on one time axis when
// there are several (--baseline), so that their steps line up.
func drawSides(c caseView) {
	var tls []*timeline.Timeline
	for _, sv := range c.Sides {
		if sv.tl != nil {
			tls = append(tls, sv.tl)
		}
	}
	axes := align(tls...)
	n := 0
	for i := range c.Sides {
		if sv := &c.Sides[i]; sv.tl != nil {
			var a *alignment
			if axes != nil {
				a = axes[n]
			}
			n++
			sv.SVG = svg(sv.tl, a, c.ID, sv.Label)
		}
	}
}

var anchorRE = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// worse is the verdict that says more is wrong.
func worse(a, b string) string {
	rank := map[string]int{"": 0, report.Unsupported: 1, report.Pass: 2, report.Fail: 4, report.Error: 3}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

func where(f timeline.Failure) string {
	if len(f.Steps) == 0 {
		return "the whole case"
	}
	var s []string
	for _, n := range f.Steps {
		s = append(s, fmt.Sprint(n))
	}
	w := "step " + strings.Join(s, ", ")
	if len(s) > 1 {
		w = "steps " + strings.Join(s, ", ")
	}
	if len(f.Times) < len(f.Steps) {
		w += " (not all in the events)"
	}
	return w
}

// splatsOf is the kernel's reports while the scenario ran: from the
// run's list (given here already picked for the scenario), which has
// their kinds, else the scenario's own quotes.
func splatsOf(run []report.Splat, s report.Scenario) []report.Splat {
	out := append([]report.Splat(nil), run...)
	if len(out) == 0 {
		for _, text := range s.Splats {
			out = append(out, report.Splat{Kind: "splat", Scenario: s.ID(), Text: text})
		}
	}
	return out
}

// describe is a check in one line: what was wanted and got, and why.
func describe(c report.Check) string {
	s := c.Name
	if c.Want != "" || c.Got != "" {
		s += fmt.Sprintf(": want %s, got %s", c.Want, c.Got)
	}
	if c.Detail != "" {
		s += " (" + c.Detail + ")"
	}
	return s
}

func counts(r *report.Report) string {
	n := map[string]int{}
	for _, s := range r.Scenarios {
		n[s.Verdict]++
	}
	return fmt.Sprintf("%d passed, %d failed, %d unsupported, %d error", n[report.Pass], n[report.Fail], n[report.Unsupported], n[report.Error])
}

// legend draws every kind of mark and line once, as the timelines do.
func legend() template.HTML {
	var b svgBuf
	item := func(x int, shape, text string) int {
		b.f(`<g transform="translate(%d 0)">%s<text x="16" y="14">%s</text></g>`, x, shape, text)
		return x + 24 + 7*len(text)
	}
	b.f(`<svg class="legend" xmlns="http://www.w3.org/2000/svg" width="%d" height="44" viewBox="0 0 %d 44"><g transform="translate(0 0)">`, svgWidth, svgWidth)
	x := 4
	x = item(x, `<path class="queued" d="M0 14 H6 V6 H12"/>`, "bytes queued")
	x = item(x, `<path class="ofo" d="M0 16 V8 H12 V16 Z"/>`, "held out of order")
	x = item(x, `<path class="lowat" d="M0 6 H6 V14 H12"/>`, "SO_RCVLOWAT")
	x = item(x, `<path class="m-send" d="M6 6 l4.5 8 h-9 z"/>`, "send")
	x = item(x, `<circle class="m-epollin" cx="6" cy="10" r="4.5"/>`, "EPOLLIN")
	x = item(x, `<circle class="m-poll" cx="6" cy="10" r="3.5"/>`, "poll, not ready")
	x = item(x, `<path class="m-recv" d="M6 14 l4.5 -8 h-9 z"/>`, "recv")
	x = item(x, `<path class="m-kwake" d="M6 4 v12"/>`, "kernel wake-up")
	_ = item(x, `<rect class="fail-step" x="2" y="2" width="8" height="16"/>`, "failed check")
	b.f(`</g><g transform="translate(0 22)">`)
	b.f(`<text x="4" y="14">RCVQ callback:</text>`)
	x = 110
	for _, p := range pathOrder {
		x = item(x, fmt.Sprintf(`<path class="m-rcvq" fill="%s" d="M6 5 l5 5 l-5 5 l-5 -5 z"/>`, PathColors[p]), p)
	}
	x = item(x, `<path class="m-optin" d="M2 6 h8 v8 h-8 z"/>`, "autolowat on (script)")
	b.f(`</g></svg>`)
	return template.HTML(b.String())
}

// programs names the autolowat programs a run loaded, or why none were.
func programs(b *report.BPF) string {
	if b == nil {
		return "none"
	}
	name := "the harness's own (selftests/progs/autolowat.bpf.c)"
	switch {
	case b.Source != "":
		name = b.Source + " (compiled by the harness)"
	case b.Object != "":
		name = b.Object
	}
	if !b.Loaded {
		name += ", not loaded"
		if b.Note != "" {
			name += ": " + b.Note
		}
	}
	return name
}
