package testprogsout

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kernel-harness/harness/harness/ghactions"
	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/internal/testutil"
)

// TestGolden turns each fixture into the report's outputs: report.json's
// scenarios, junit.xml, the terminal summary and the step summary.
func TestGolden(t *testing.T) {
	for _, name := range []string{"pass", "fail", "verbose", "real-pass", "real-mixed"} {
		t.Run(name, func(t *testing.T) {
			stdout := read(t, name+".stdout")
			js := read(t, name+".json")
			r, err := Parse(stdout, js)
			if err != nil {
				t.Fatal(err)
			}
			rep := &report.Report{Schema: report.Schema, Kernel: report.Kernel{Release: "6.12.0", Source: "tree", Accel: "tcg"},
				Features: []report.Feature{}, Scenarios: r.Scenarios(),
				Host: "testhost", Started: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
			rep.Finish()
			dir := t.TempDir()
			if err := rep.WriteJSON(filepath.Join(dir, "report.json")); err != nil {
				t.Fatal(err)
			}
			if err := rep.WriteJUnit(filepath.Join(dir, "junit.xml")); err != nil {
				t.Fatal(err)
			}
			var sum, md bytes.Buffer
			rep.Summary(&sum, report.SummaryOptions{})
			if err := ghactions.Summary(&md, rep, ""); err != nil {
				t.Fatal(err)
			}
			testutil.Golden(t, "testdata/"+name+".report.json.golden", readAbs(t, filepath.Join(dir, "report.json")))
			testutil.Golden(t, "testdata/"+name+".junit.xml.golden", readAbs(t, filepath.Join(dir, "junit.xml")))
			testutil.Golden(t, "testdata/"+name+".summary.txt.golden", sum.Bytes())
			testutil.Golden(t, "testdata/"+name+".summary.md.golden", md.Bytes())
		})
	}
}

// TestParseFacts checks what the goldens could hide: every subtest is
// there once, with the verdict and the log it had.
func TestParseFacts(t *testing.T) {
	r, err := Parse(read(t, "fail.stdout"), read(t, "fail.json"))
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]report.Scenario{}
	for _, s := range r.Scenarios() {
		if _, dup := byID[s.ID()]; dup {
			t.Errorf("%s twice: the 'All error logs' repeat was read as more subtests", s.ID())
		}
		byID[s.ID()] = s
	}
	want := map[string]string{
		"tcp_hdr_options/simple_estab":    report.Pass,
		"tcp_hdr_options/fastopen_estab":  report.Fail,
		"tcp_hdr_options/misc":            report.Pass,
		"tcp_rtt":                         report.Fail,
		"tcp_custom_syncookie/IPv4 TCP":   report.Unsupported,
		"tcp_custom_syncookie/IPv6 TCP":   report.Unsupported,
		"tcp_hdr_options/syncookie_estab": report.Pass,
		"tcp_hdr_options/no_exprm_estab":  report.Pass,
		"tcp_hdr_options/fin":             report.Pass,
	}
	if len(byID) != len(want) {
		t.Errorf("%d scenarios, want %d: %v", len(byID), len(want), byID)
	}
	for id, v := range want {
		if byID[id].Verdict != v {
			t.Errorf("%s: verdict %q, want %q", id, byID[id].Verdict, v)
		}
	}
	fo := byID["tcp_hdr_options/fastopen_estab"]
	if !strings.Contains(fo.Log, "actual -1 != expected 0") || len(fo.FailedChecks)+len(failedOnly(fo.Checks)) == 0 {
		t.Errorf("fastopen_estab lost its log or checks: %+v", fo)
	}
	if byID["tcp_hdr_options/misc"].Log != "" {
		t.Errorf("misc got another subtest's log: %q", byID["tcp_hdr_options/misc"].Log)
	}
	if r.Counts == nil || r.Counts.Failed != 2 || r.Counts.SuccessSubtest != 5 {
		t.Errorf("counts: %+v", r.Counts)
	}
}

func TestJUnitHasEverySubtestWithLog(t *testing.T) {
	r, err := Parse(read(t, "fail.stdout"), read(t, "fail.json"))
	if err != nil {
		t.Fatal(err)
	}
	rep := &report.Report{Scenarios: r.Scenarios()}
	rep.Finish()
	var buf bytes.Buffer
	ts := rep.JUnit()
	if err := xml.NewEncoder(&buf).Encode(ts); err != nil {
		t.Fatal(err)
	}
	cases := ts.Suites[0].Testcases
	if len(cases) != 9 {
		t.Fatalf("%d testcases, want 9", len(cases))
	}
	for _, c := range cases {
		if c.Classname != Path {
			t.Errorf("%s: classname %q", c.Name, c.Classname)
		}
		if c.Name == "tcp_hdr_options/fastopen_estab" && (c.Failure == nil || c.SystemOut == nil || !strings.Contains(c.SystemOut.Data, "check_stg")) {
			t.Errorf("fastopen_estab: want a failure with its log, got %+v", c)
		}
	}
}

func TestParseNothingRan(t *testing.T) {
	_, err := Parse([]byte("Summary: 0/0 PASSED, 0 SKIPPED, 0 FAILED\n"), []byte(`{"success":0,"success_subtest":0,"skipped":0,"failed":0,"results":[]}`))
	if err == nil || !strings.Contains(err.Error(), "ran no test") {
		t.Fatalf("want 'ran no test', got %v", err)
	}
}

func TestParseBadJSON(t *testing.T) {
	if _, err := Parse(read(t, "pass.stdout"), []byte("{")); err == nil {
		t.Fatal("want an error for a broken -J file")
	}
}

func read(t *testing.T, name string) []byte {
	t.Helper()
	return readAbs(t, filepath.Join("testdata", name))
}

func readAbs(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseRealMixed: test_progs' own output from a run in the harness's
// VM (6.12 tree, no bpf_testmod.ko): kfunc_call fails in every subtest,
// tcp_rtt and sockopt_sk (no subtests) pass, and each failure has its log.
func TestParseRealMixed(t *testing.T) {
	r, err := Parse(read(t, "real-mixed.stdout"), read(t, "real-mixed.json"))
	if err != nil {
		t.Fatal(err)
	}
	verdicts := map[string]int{}
	for _, s := range r.Scenarios() {
		verdicts[s.Verdict]++
		if s.Name == "kfunc_call/kfunc_call_test1" && !strings.Contains(s.Log, "verify_success") {
			t.Errorf("kfunc_call_test1's log lacks its failure:\n%s", s.Log)
		}
	}
	if verdicts[report.Pass] != 2 || verdicts[report.Fail] != 20 || len(verdicts) != 2 {
		t.Errorf("verdicts %v, want 2 pass and 20 fail", verdicts)
	}
}
