package ghactions

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/internal/testutil"
)

func fixtures(t *testing.T) map[string]*report.Report {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no report fixtures in testdata: %v", err)
	}
	out := map[string]*report.Report{}
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var r report.Report
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out[strings.TrimSuffix(filepath.Base(p), ".json")] = &r
	}
	return out
}

func testSources(t *testing.T) Sources {
	con, err := os.ReadFile(filepath.Join("testdata", "console.log"))
	if err != nil {
		t.Fatal(err)
	}
	return Sources{
		Scenarios: map[string]Location{"my|scenario": {File: "ci/scenarios.yaml", Line: 7}},
		Consoles:  []Console{{Path: "harness-out/console.log", Text: string(con)}},
	}
}

func TestGoldenSummary(t *testing.T) {
	for name, rep := range fixtures(t) {
		var b bytes.Buffer
		if err := Summary(&b, rep, "shard 1/2, minimal"); err != nil {
			t.Fatal(err)
		}
		testutil.Golden(t, "testdata/"+name+".summary.md.golden", b.Bytes())
	}
}

func TestGoldenAnnotations(t *testing.T) {
	for name, rep := range fixtures(t) {
		var b bytes.Buffer
		for _, a := range Annotations(rep, testSources(t)) {
			fmt.Fprintln(&b, a)
		}
		testutil.Golden(t, "testdata/"+name+".annotations.golden", b.Bytes())
	}
}

// The runner's side of the escaping (actions/runner, ActionCommand.cs):
// what we write must come back as it was.
func unescape(s string, property bool) string {
	pairs := []string{"%0D", "\r", "%0A", "\n"}
	if property {
		pairs = append(pairs, "%3A", ":", "%2C", ",")
	}
	pairs = append(pairs, "%25", "%")
	return strings.NewReplacer(pairs...).Replace(s)
}

func TestEscape(t *testing.T) {
	for _, s := range []string{"plain", "100%", "a\nb\r\nc", "%0A is not a newline", "x: y, z", "%25%3A"} {
		if got := EscapeData(s); unescape(got, false) != s || strings.ContainsAny(got, "\r\n") {
			t.Errorf("EscapeData(%q) = %q", s, got)
		}
		if got := EscapeProperty(s); unescape(got, true) != s || strings.ContainsAny(got, "\r\n:,") {
			t.Errorf("EscapeProperty(%q) = %q", s, got)
		}
	}
	a := Annotation{File: "a,b:c.yaml", Line: 3, Title: "t: 1, 2", Message: "50% of\nframes"}
	if got, want := a.String(), "::error file=a%2Cb%3Ac.yaml,line=3,title=t%3A 1%2C 2::50%25 of%0Aframes"; got != want {
		t.Errorf("annotation\n got %s\nwant %s", got, want)
	}
	if got, want := (Annotation{Message: "m"}).String(), "::error::m"; got != want {
		t.Errorf("annotation without properties: got %s, want %s", got, want)
	}
}

func TestAnnotationsCapped(t *testing.T) {
	rep := &report.Report{Verdict: report.Fail}
	for i := 0; i < 15; i++ {
		rep.Scenarios = append(rep.Scenarios, report.Scenario{Name: fmt.Sprintf("s%d", i), Family: "ipv4", Mode: "baseline",
			Verdict: report.Fail, Checks: []report.Check{{Name: "c", Want: "1", Got: "2"}}})
	}
	got := Annotations(rep, Sources{})
	if len(got) != MaxAnnotations {
		t.Fatalf("%d annotations, want %d", len(got), MaxAnnotations)
	}
	if last := got[len(got)-1]; last.Title != "6 more errors" {
		t.Errorf("last annotation %q, want the count of the 6 left out", last.Title)
	}
	if got[0].File != BuiltinDoc || got[0].Title != "s0/ipv4/baseline: c" {
		t.Errorf("first annotation %+v", got[0])
	}
}

func TestGroups(t *testing.T) {
	var b bytes.Buffer
	g := NewGroups(&b)
	for _, s := range []string{
		"plan: shard 1/2: 4 of 8 cases\n",
		"series: applying 1 patches on HEAD in /c/wt\n",
		"build: cache hit abc (6.12.0, built 2025-01-01)\n",
		"kernel: 6.12.0 (/c/bzImage, build)\n",
		"initramfs: 2048 KiB, 3 modules\n",
		"machine: q35 (the default)\n",
		"vm: TCG", // a line in two writes
		": no KVM\n",
		"guest: the autolowat programs did not load:\nverifier log line\n",
		"[1/4] split-frame/ipv4/baseline: ran\n",
		"baseline: the base, without the series\n",
		"kernel: 6.12.0 (/c/base, build)\n",
		"unfinished",
	} {
		if _, err := g.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Stage("analysis"); err != nil {
		t.Fatal(err)
	}
	b.WriteString("::error::x\n")
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	want := `::group::plan
plan: shard 1/2: 4 of 8 cases
::endgroup::
::group::kernel
series: applying 1 patches on HEAD in /c/wt
build: cache hit abc (6.12.0, built 2025-01-01)
kernel: 6.12.0 (/c/bzImage, build)
::endgroup::
::group::image
initramfs: 2048 KiB, 3 modules
::endgroup::
::group::boot
machine: q35 (the default)
vm: TCG: no KVM
guest: the autolowat programs did not load:
verifier log line
[1/4] split-frame/ipv4/baseline: ran
::endgroup::
baseline: the base, without the series
::group::kernel
kernel: 6.12.0 (/c/base, build)
unfinished
::endgroup::
::group::analysis
::error::x
::endgroup::
`
	if got := b.String(); got != want {
		t.Errorf("groups:\n%s\nwant:\n%s", got, want)
	}
}

func TestNameLine(t *testing.T) {
	yaml := "# mine\nscenarios:\n  - name: a-b\n    path: in-order\n  -  name: 'c'   # quoted\n  - description: x\n    name: \"d\"\n"
	json := "{\"scenarios\": [\n {\"name\": \"a-b\", \"path\": \"ofo\"},\n {\n  \"name\": \"c\"\n }]}"
	for _, tc := range []struct {
		text, name string
		want       int
	}{
		{yaml, "a-b", 3}, {yaml, "c", 5}, {yaml, "d", 7}, {yaml, "a", 0},
		{json, "a-b", 2}, {json, "c", 4}, {json, "a", 0},
	} {
		if got := nameLine(tc.text, tc.name); got != tc.want {
			t.Errorf("nameLine(%q) = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestScenarioLocations(t *testing.T) {
	ws := t.TempDir()
	f := filepath.Join(ws, "ci", "mine.yaml")
	if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
		t.Fatal(err)
	}
	doc := "scenarios:\n  - name: two-sends\n    path: in-order\n    frames:\n      - {header: 4, payload: 20}\n    sends: [10, 22]\n"
	if err := os.WriteFile(f, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	locs := ScenarioLocations(map[string][]string{f: {"two-sends"}}, ws)
	if got, want := locs["two-sends"], (Location{File: "ci/mine.yaml", Line: 2}); got != want {
		t.Errorf("location %+v, want %+v", got, want)
	}
}

func TestLoadConsoles(t *testing.T) {
	ws := t.TempDir()
	out := filepath.Join(ws, "harness-out")
	for _, d := range []string{"base", "patched"} {
		if err := os.MkdirAll(filepath.Join(out, d), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, d, "console.log"), []byte(d+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cs := LoadConsoles(out, ws)
	if len(cs) != 2 || cs[0].Path != "harness-out/base/console.log" || cs[1].Text != "patched\n" {
		t.Errorf("consoles %+v", cs)
	}
}

func TestRel(t *testing.T) {
	for _, tc := range []struct{ path, ws, want string }{
		{"/w/out/console.log", "/w", "out/console.log"},
		{"/elsewhere/console.log", "/w", "/elsewhere/console.log"},
		{"/w2/console.log", "/w", "/w2/console.log"},
		{"/w/console.log", "", "/w/console.log"},
	} {
		if got := Rel(tc.path, tc.ws); got != tc.want {
			t.Errorf("Rel(%q, %q) = %q, want %q", tc.path, tc.ws, got, tc.want)
		}
	}
}

func TestAppendSummary(t *testing.T) {
	path := filepath.Join(t.TempDir(), "summary.md")
	if err := os.WriteFile(path, []byte("before\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep := &report.Report{Verdict: report.Pass}
	if err := AppendSummary(path, rep, ""); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(got), "before\n### harness: pass\n") {
		t.Errorf("step summary:\n%s", got)
	}
}

// Progress comes from several goroutines at once: lines stay whole.
func TestGroupsConcurrent(t *testing.T) {
	var b bytes.Buffer
	g := NewGroups(&b)
	done := make(chan struct{})
	for w := 0; w < 4; w++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; i < 100; i++ {
				fmt.Fprintf(g, "vm: writer %d line %d\n", w, i)
			}
		}()
	}
	for w := 0; w < 4; w++ {
		<-done
	}
	g.Close()
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 402 || lines[0] != "::group::boot" || lines[401] != "::endgroup::" {
		t.Fatalf("%d lines, first %q, last %q", len(lines), lines[0], lines[len(lines)-1])
	}
	for _, l := range lines[1:401] {
		if !strings.HasPrefix(l, "vm: writer ") || strings.Count(l, "vm:") != 1 {
			t.Errorf("mangled line %q", l)
		}
	}
}

// A step summary that is a FIFO (nobody reading) or a device is refused
// at once, naming it, instead of hanging the end of the run.
func TestAppendSummaryNotAFile(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "summary")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	err := testutil.Within(t, 10*time.Second, "AppendSummary on a FIFO", func() error { return AppendSummary(fifo, &report.Report{Verdict: report.Pass}, "") })
	if err == nil || !strings.Contains(err.Error(), "is a named pipe") {
		t.Errorf("FIFO: %v", err)
	}
	if err := AppendSummary("/dev/null", &report.Report{}, ""); err == nil {
		t.Error("a device taken as the step summary")
	}
}
