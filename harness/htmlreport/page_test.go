package htmlreport

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kernel-harness/harness/harness/outdir"
	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/wire"
)

// svgPaths parses every timeline of a page as XML (so a malformed one
// fails) and counts, per data-side and data-case, its paths with a
// non-empty d.
func svgPaths(t *testing.T, page string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, m := range regexp.MustCompile(`(?s)<svg class="timeline".*?</svg>`).FindAllString(page, -1) {
		var svg struct {
			Case  string `xml:"data-case,attr"`
			Side  string `xml:"data-side,attr"`
			Paths []struct {
				D string `xml:"d,attr"`
			} `xml:"path"`
		}
		if err := xml.Unmarshal([]byte(m), &svg); err != nil {
			t.Fatalf("timeline is not well-formed: %v\n%s", err, m)
		}
		key := svg.Side + " " + svg.Case
		out[key] += 0
		for _, p := range svg.Paths {
			if strings.TrimSpace(p.D) != "" {
				out[key]++
			}
		}
	}
	return out
}

func render(t *testing.T, in Input) string {
	t.Helper()
	var b bytes.Buffer
	if err := Render(&b, in); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestPageFixtures(t *testing.T) {
	for _, tc := range []struct {
		dir   string
		sides []string
	}{{"run", []string{""}}, {"baseline", []string{"base", "patched"}}} {
		in, err := outdir.Load(filepath.Join("testdata", tc.dir))
		if err != nil {
			t.Fatal(err)
		}
		page := render(t, in)
		paths := svgPaths(t, page)
		runs := []*Run{&in.Top}
		if in.Base != nil {
			runs = []*Run{in.Base, in.Patched}
		}
		n := 0
		for i, r := range runs {
			for _, s := range r.Report.Scenarios {
				key := tc.sides[i] + " " + s.ID()
				switch got, ok := paths[key]; {
				case s.Verdict == report.Unsupported && ok:
					t.Errorf("%s/%s: unsupported, yet drawn", tc.dir, key)
				case s.Verdict != report.Unsupported && got < 2:
					t.Errorf("%s/%s: %d paths drawn, want the queue and SO_RCVLOWAT at least", tc.dir, key, got)
				}
				n++
			}
		}
		if n == 0 {
			t.Fatalf("%s: no cases", tc.dir)
		}
		for _, want := range []string{"Feature probes", strings.TrimRight(in.Top.Report.Kernel.Release, "+")} {
			if !strings.Contains(page, want) {
				t.Errorf("%s: page lacks %q", tc.dir, want)
			}
		}
		// Self-contained: nothing to fetch (xmlns names, it loads nothing).
		if m := regexp.MustCompile(`(src|href)="[a-z]+:|url\(|@import`).FindString(page); m != "" {
			t.Errorf("%s: page fetches something: %s", tc.dir, m)
		}
	}
}

// The failed case shows where it failed, what, and the splat during it.
func TestPageFailure(t *testing.T) {
	in, err := outdir.Load(filepath.Join("testdata", "run"))
	if err != nil {
		t.Fatal(err)
	}
	page := render(t, in)
	sec := regexp.MustCompile(`(?s)<section class="case v-fail-case"[^>]*data-case="scripted-wrong-expectations/ipv4/autolowat">.*?</section>`).FindString(page)
	if sec == "" {
		t.Fatal("no failed section for scripted-wrong-expectations/ipv4/autolowat")
	}
	for _, want := range []string{`class="fail-step"`, "<strong>step 4</strong>: expect-poll", "<strong>step 8</strong>: expect-rcvlowat", "kernel warning during this scenario", "tcp_rcvq_cb"} {
		if !strings.Contains(sec, want) {
			t.Errorf("failed section lacks %q", want)
		}
	}
}

// Nothing from the report or the events reaches the page unescaped.
func TestPageEscapes(t *testing.T) {
	id := `x"><script>alert(1)</script>`
	rep := &report.Report{Schema: report.Schema, Verdict: report.Fail, Kernel: report.Kernel{Release: "<b>6.12</b>"},
		Scenarios: []report.Scenario{{Name: id, Family: "ipv4", Mode: "baseline", Verdict: report.Fail,
			FailedChecks: []report.Check{{Name: "c<i>", Got: "step 1: <oops>"}}, Splats: []string{"BUG: <here>"}}}}
	sid := rep.Scenarios[0].ID()
	evs := []wire.Event{
		{Kind: wire.Rcvlowat, Scenario: sid, TimeNS: 1, Cookie: 1, Lowat: 1},
		{Kind: wire.Send, Scenario: sid, TimeNS: 2, Step: 1, Bytes: 4},
		{Kind: wire.Poll, Scenario: sid, TimeNS: 3, Step: 1, Ready: 1, Queued: 4, Lowat: 1},
	}
	page := render(t, Input{Top: Run{Dir: "x", Report: rep, Events: evs}})
	for _, bad := range []string{"<script>", "<b>6.12", "<oops>", "<here>", "c<i>"} {
		if strings.Contains(page, bad) {
			t.Errorf("page has %q unescaped", bad)
		}
	}
	if got := svgPaths(t, page); got[" "+sid] < 2 {
		t.Errorf("timeline paths %v", got)
	}
}

// A run that ended before the guest spoke has no events: a page that
// says so, not an error.
func TestPageWithoutEvents(t *testing.T) {
	dir := t.TempDir()
	rep := &report.Report{Schema: report.Schema, Verdict: report.Error, Error: "boot failed", Scenarios: []report.Scenario{}}
	if err := Write(dir, Input{Top: Run{Dir: dir, Report: rep}}); err != nil {
		t.Fatal(err)
	}
	page, _ := os.ReadFile(filepath.Join(dir, FileName))
	if !strings.Contains(string(page), "has no events.jsonl") || !strings.Contains(string(page), "boot failed") {
		t.Errorf("early page:\n%s", page)
	}
}

// With --baseline, the base and the patched timeline of a case share one
// time axis: every step both runs have starts at the same x.
func TestBaselineSharedAxis(t *testing.T) {
	in, err := outdir.Load(filepath.Join("testdata", "baseline"))
	if err != nil {
		t.Fatal(err)
	}
	page := render(t, in)
	svgRE := regexp.MustCompile(`(?s)<svg class="timeline" data-case="([^"]*)" data-side="([^"]*)".*?</svg>`)
	stepRE := regexp.MustCompile(`<text class="steplabel" x="([0-9.]+)" y="[0-9]+">([0-9]+)</text>`)
	steps := map[string]map[string]map[string]string{} // case -> side -> step -> x
	for _, m := range svgRE.FindAllStringSubmatch(page, -1) {
		if steps[m[1]] == nil {
			steps[m[1]] = map[string]map[string]string{}
		}
		xs := map[string]string{}
		for _, s := range stepRE.FindAllStringSubmatch(m[0], -1) {
			xs[s[2]] = s[1]
		}
		steps[m[1]][m[2]] = xs
	}
	compared := 0
	for id, sides := range steps {
		base, patched := sides["base"], sides["patched"]
		if base == nil || patched == nil {
			continue
		}
		for n, x := range base {
			if px, ok := patched[n]; ok {
				compared++
				if px != x {
					t.Errorf("%s: step %s at x=%s on base, x=%s patched", id, n, x, px)
				}
			}
		}
	}
	if compared == 0 {
		t.Fatal("no case with a step on both sides to compare")
	}
}

// A user's program whose SO_RCVLOWAT differs from the series' rule shows
// where and by how much under its passing case, and a program without
// BPF_F_CLONE says why Fast Open is unsupported.
func TestPageRuleDifferences(t *testing.T) {
	rep := &report.Report{Schema: report.Schema, Verdict: report.Pass,
		BPF: &report.BPF{Loaded: true, Object: "/x/tcp_autolowat.bpf.o", NoChildState: "tcp_autolowat keeps no state for a child created with data"},
		Scenarios: []report.Scenario{{Name: "many-small-frames", Family: "ipv4", Mode: "autolowat", Verdict: report.Pass,
			RuleDifferences: []string{"step 1 after the read: 4, the series' rule says 8 (-4)"}}}}
	page := render(t, Input{Top: Run{Dir: "x", Report: rep}})
	for _, want := range []string{"SO_RCVLOWAT differs from the series' rule (not a kernel failure)",
		"<li>step 1 after the read: 4, the series&#39; rule says 8 (-4)</li>",
		"<th>Fast Open</th><td>unsupported: tcp_autolowat keeps no state for a child created with data</td>"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}
