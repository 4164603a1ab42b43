package ghactions

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/kernel-harness/harness/harness/text"

	"github.com/kernel-harness/harness/harness/report"
)

// MaxAnnotations is how many error annotations a step shows: GitHub keeps
// 10 per step and drops the rest silently, so the last one we write says
// how many more there are instead.
const MaxAnnotations = 10

// BuiltinDoc is where failed checks of built-in scenarios point: the page
// that describes the built-in scenarios and every check.
const BuiltinDoc = "docs/scenarios.md"

// Location is a file and line an annotation points at; Line 0 is the file.
type Location struct {
	File string
	Line int
}

// Console is one console.log of the run, to find where a splat starts.
type Console struct {
	Path string
	Text string
}

// Sources say where annotations point.
type Sources struct {
	// Scenarios maps the names of scenarios from --scenarios files to
	// where each is defined; the others are built in.
	Scenarios map[string]Location
	// Consoles are the console logs of the run, in the order to search.
	Consoles []Console
}

// Annotations are the errors of a run worth a line on the workflow's
// page, the gravest first: the run that could not be done, kernel splats,
// failed checks, then scenarios that could not run.
func Annotations(rep *report.Report, src Sources) []Annotation {
	var out []Annotation
	if rep.Error != "" {
		out = append(out, Annotation{Title: "harness run could not be done", Message: rep.Error})
	}
	found := map[string]int{} // console path -> bytes searched, so repeated splats find their own line
	for _, sp := range rep.Splats {
		title := "kernel " + sp.Kind
		if sp.Scenario != "" {
			title += " during " + sp.Scenario
		}
		a := Annotation{File: "console.log", Title: title, Message: firstLines(sp.Text, splatLines)}
		for _, c := range src.Consoles {
			if line, end := lineOf(c.Text, text.FirstLine(sp.Text), found[c.Path]); line > 0 {
				a.File, a.Line, found[c.Path] = c.Path, line, end
				break
			}
		}
		out = append(out, a)
	}
	errored := map[string]int{}
	var errReasons []string
	for _, s := range rep.Scenarios {
		switch s.Verdict {
		case report.Fail:
			loc, ok := src.Scenarios[s.Name]
			if !ok {
				loc = Location{File: BuiltinDoc}
			}
			failed := failedChecks(s)
			for _, c := range failed {
				out = append(out, Annotation{File: loc.File, Line: loc.Line, Title: s.ID() + ": " + c.Name, Message: checkText(c)})
			}
			if len(failed) == 0 {
				msg := s.Reason
				if msg == "" {
					msg = "failed"
					if len(s.Splats) > 0 {
						msg = "the kernel reported a splat while it ran"
					}
				}
				out = append(out, Annotation{File: loc.File, Line: loc.Line, Title: s.ID(), Message: msg})
			}
		case report.Pass, report.Unsupported:
		default:
			// One line per reason: a run that died takes every scenario with it.
			if s.Reason != rep.Error {
				if errored[s.Reason] == 0 {
					errReasons = append(errReasons, s.Reason)
				}
				errored[s.Reason]++
			}
		}
	}
	for _, r := range errReasons {
		noun := "scenario"
		if errored[r] > 1 {
			noun = "scenarios"
		}
		msg := r
		if msg == "" {
			msg = "no reason given"
		}
		out = append(out, Annotation{Title: fmt.Sprintf("%d %s could not run", errored[r], noun), Message: msg})
	}
	if len(out) > MaxAnnotations {
		more := len(out) - (MaxAnnotations - 1)
		out = append(out[:MaxAnnotations-1], Annotation{
			Title:   fmt.Sprintf("%d more errors", more),
			Message: "GitHub shows 10 annotations per step: the step summary, the log and report.json have them all",
		})
	}
	return out
}

// splatLines is how much of a splat an annotation quotes: the report
// line and the top of the call trace; console.log has the rest.
const splatLines = 30

func failedChecks(s report.Scenario) []report.Check {
	if s.FailedChecks != nil {
		return s.FailedChecks
	}
	var out []report.Check
	for _, c := range s.Checks {
		if !c.Pass {
			out = append(out, c)
		}
	}
	return out
}

// checkText is what a failed check wanted and got, and why.
func checkText(c report.Check) string {
	var parts []string
	if c.Want != "" || c.Got != "" {
		parts = append(parts, fmt.Sprintf("want %s, got %s", c.Want, c.Got))
	}
	if c.Detail != "" {
		parts = append(parts, c.Detail)
	}
	if len(parts) == 0 {
		return "failed"
	}
	return strings.Join(parts, "\n")
}

// lineOf is the 1-based number of the first line at or after byte from
// of text that contains needle, and the byte after that line; 0 when
// there is none.
func lineOf(text, needle string, from int) (line, end int) {
	if needle == "" || from > len(text) {
		return 0, 0
	}
	i := strings.Index(text[from:], needle)
	if i < 0 {
		return 0, 0
	}
	i += from
	end = len(text)
	if j := strings.IndexByte(text[i:], '\n'); j >= 0 {
		end = i + j + 1
	}
	return strings.Count(text[:i], "\n") + 1, end
}

func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) <= n {
		return strings.Join(lines, "\n")
	}
	return strings.Join(lines[:n], "\n") + fmt.Sprintf("\n[%d more lines in console.log]", len(lines)-n)
}

// LoadConsoles reads the console logs of an output folder: its own, or
// those of its runs (base/, patched/, run-<i>/, patches-<k>/), with paths
// relative to the workspace so that GitHub can link them.
func LoadConsoles(out, workspace string) []Console {
	paths := []string{filepath.Join(out, "console.log")}
	more, _ := filepath.Glob(filepath.Join(out, "*", "console.log"))
	var cs []Console
	for _, p := range append(paths, more...) {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		cs = append(cs, Console{Path: Rel(p, workspace), Text: string(b)})
	}
	return cs
}

// ScenarioLocations says where each scenario of the --scenarios files is
// defined: the file, relative to the workspace, and the line of its name
// when it has one of its own.
func ScenarioLocations(sources map[string][]string, workspace string) map[string]Location {
	locs := map[string]Location{}
	for f, names := range sources {
		raw, err := os.ReadFile(f)
		if err != nil {
			continue // loaded a moment ago: an annotation without a line
		}
		for _, n := range names {
			locs[n] = Location{File: Rel(f, workspace), Line: nameLine(string(raw), n)}
		}
	}
	return locs
}

// nameLine is the line where a scenario file says name: NAME, in JSON or
// YAML; 0 when none does.
func nameLine(text, name string) int {
	q := regexp.QuoteMeta(name)
	re := regexp.MustCompile(`(?m)(?:^|[\s{,-])("?name"?\s*:\s*(?:` + q + `|"` + q + `"|'` + q + `'))\s*(?:$|[,}#\r])`)
	m := re.FindStringSubmatchIndex(text)
	if m == nil {
		return 0
	}
	return strings.Count(text[:m[2]], "\n") + 1
}

// Rel is path relative to the workspace when it lies inside it, as
// annotations want; else path unchanged.
func Rel(path, workspace string) string {
	if workspace == "" {
		return path
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	rel, err := filepath.Rel(workspace, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return path
	}
	return rel
}
