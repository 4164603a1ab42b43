package htmlreport_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kernel-harness/harness/harness/htmlreport"
	"github.com/kernel-harness/harness/harness/outdir"
	"github.com/kernel-harness/harness/harness/report"
)

// needChromium finds Debian's chromium; it is skipped where missing,
// except in CI, where a browser test that does not run is a failure.
func needChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium missing in CI: run make deps-report")
	}
	t.Skip("chromium is not installed: run make deps-report (apt-get install chromium)")
	return ""
}

// drawn is what the page shows of one side of one case, as measured by
// the browser after layout.
type drawn struct {
	Case  string `json:"case"`
	Side  string `json:"side"`
	SVGs  int    `json:"svgs"`
	Paths int    `json:"paths"` // with a non-empty d and a laid-out box
	Width int    `json:"width"` // of the timeline as laid out
}

const measure = `Array.from(document.querySelectorAll('section.case .side')).map(side => {
	const svgs = side.querySelectorAll('svg.timeline');
	let paths = 0, width = 0;
	svgs.forEach(svg => {
		width = Math.round(svg.getBoundingClientRect().width);
		svg.querySelectorAll('path').forEach(p => {
			const d = (p.getAttribute('d') || '').trim();
			const box = p.getBBox();
			if (d !== '' && (box.width > 0 || box.height > 0)) paths++;
		});
	});
	return {case: side.closest('section.case').dataset.case, side: side.dataset.side, svgs: svgs.length, paths: paths, width: width};
})`

// answer is what the box at the top of the page shows, as laid out: it
// must be on the first screen, and each of its links must lead to a case.
const answer = `(() => {
	const box = document.getElementById('answer');
	if (!box) return {top: -1};
	const r = box.getBoundingClientRect();
	const links = Array.from(box.querySelectorAll('a')).map(a => a.getAttribute('href'));
	const dead = links.filter(h => !document.getElementById(h.slice(1)) || !document.getElementById(h.slice(1)).matches('section.case'));
	const head = box.querySelector('.headline');
	return {top: Math.round(r.top), bottom: Math.round(r.bottom), links: links.length, dead: dead.length, headline: head ? head.textContent : ''};
})()`

// stepsX is, per case and side, the laid-out x of each numbered step.
const stepsX = `Array.from(document.querySelectorAll('svg.timeline')).map(svg => ({
	case: svg.dataset.case, side: svg.dataset.side,
	steps: Object.fromEntries(Array.from(svg.querySelectorAll('text.steplabel')).map(t => [t.textContent, Math.round(t.getBoundingClientRect().left)]))
}))`

type svgSteps struct {
	Case, Side string
	Steps      map[string]int
}

type answerBox struct {
	Top, Bottom, Links, Dead int
	Headline                 string
}

// TestChromium renders the fixtures, opens each page in headless Chromium
// and checks that every case that ran has its timeline drawn, then keeps
// a screenshot of the whole page in the test's artifacts (go test
// -artifacts keeps them; the path is logged).
func TestChromium(t *testing.T) {
	chromium := needChromium(t)
	for _, fixture := range []string{"run", "baseline"} {
		t.Run(fixture, func(t *testing.T) {
			in, err := outdir.Load(filepath.Join("testdata", fixture))
			if err != nil {
				t.Fatal(err)
			}
			page := filepath.Join(t.TempDir(), htmlreport.FileName)
			f, err := os.Create(page)
			if err != nil {
				t.Fatal(err)
			}
			if err := htmlreport.Render(f, in); err != nil {
				t.Fatal(err)
			}
			f.Close()

			opts := append(chromedp.DefaultExecAllocatorOptions[:],
				chromedp.ExecPath(chromium),
				chromedp.WindowSize(1100, 900),
				// Chromium will not start its sandbox as root, which is how
				// CI containers and our test VMs run; the page is ours.
				chromedp.NoSandbox,
			)
			actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
			defer cancel()
			ctx, cancel := chromedp.NewContext(actx)
			defer cancel()
			// A bound on a stuck browser, not a measurement: the first
			// call's context must carry no deadline, so a timer stops it.
			stuck := time.AfterFunc(2*time.Minute, cancel)
			defer stuck.Stop()

			if err := chromedp.Do(ctx, chromedp.Navigate("file://"+page), chromedp.WaitVisible("section.case")); err != nil {
				t.Fatalf("chromium: %v", err)
			}
			box, err := chromedp.Run(ctx, chromedp.Evaluate[answerBox](answer))
			if err != nil {
				t.Fatalf("chromium: answer box: %v", err)
			}
			failed := 0
			for _, s := range in.Top.Report.Scenarios {
				if s.Verdict == report.Fail || s.Verdict == report.Error {
					failed++
				}
			}
			switch {
			case box.Top < 0 || box.Bottom > 900:
				t.Errorf("the answer box is not on the first screen: %+v", box)
			case box.Headline == "" || box.Headline != in.Top.Report.Headline():
				t.Errorf("answer box headline %q, want %q", box.Headline, in.Top.Report.Headline())
			case box.Dead > 0 || (failed > 0 && box.Links == 0):
				t.Errorf("answer box: %d links, %d lead nowhere; %d cases failed", box.Links, box.Dead, failed)
			}
			if in.Base != nil {
				// --baseline: the two runs of a case share a time axis.
				laid, err := chromedp.Run(ctx, chromedp.Evaluate[[]svgSteps](stepsX))
				if err != nil {
					t.Fatalf("chromium: steps: %v", err)
				}
				bySide := map[string]map[string]int{}
				for _, l := range laid {
					bySide[l.Side+" "+l.Case] = l.Steps
				}
				compared := 0
				for _, l := range laid {
					if l.Side != "base" {
						continue
					}
					for n, x := range l.Steps {
						if px, ok := bySide["patched "+l.Case][n]; ok {
							compared++
							if px != x {
								t.Errorf("%s: step %s at %d px on base, %d px patched", l.Case, n, x, px)
							}
						}
					}
				}
				if compared == 0 {
					t.Error("no step drawn on both sides of a case")
				}
			}
			sides, err := chromedp.Run(ctx, chromedp.Evaluate[[]drawn](measure))
			if err != nil {
				t.Fatalf("chromium: measure: %v", err)
			}
			png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatalf("chromium: screenshot: %v", err)
			}
			shot := filepath.Join(t.ArtifactDir(), fixture+".png")
			if err := os.WriteFile(shot, png, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("screenshot: %s", shot)

			// Every case of every run is on the page, and drawn unless it
			// never ran.
			want := map[string]report.Scenario{}
			runs := map[string]*htmlreport.Run{"": &in.Top}
			if in.Base != nil {
				runs = map[string]*htmlreport.Run{"base": in.Base, "patched": in.Patched}
			}
			for label, r := range runs {
				for _, s := range r.Report.Scenarios {
					want[label+" "+s.ID()] = s
				}
			}
			got := map[string]drawn{}
			for _, d := range sides {
				got[d.Side+" "+d.Case] = d
			}
			for key, s := range want {
				d, ok := got[key]
				switch {
				case !ok:
					t.Errorf("%s: not on the page", key)
				case s.Verdict == report.Unsupported:
					if d.SVGs != 0 {
						t.Errorf("%s: unsupported, yet %d timelines", key, d.SVGs)
					}
				case d.SVGs != 1 || d.Paths < 2 || d.Width < 300:
					// The queued bytes and SO_RCVLOWAT lines at least.
					t.Errorf("%s: %d timelines, %d drawn paths, %d px wide; want one, drawn", key, d.SVGs, d.Paths, d.Width)
				}
			}
			if len(want) == 0 {
				t.Fatal("the fixture has no cases")
			}
		})
	}
}
