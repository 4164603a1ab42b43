package report_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jstemmer/go-junit-report/v2/junit"

	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/internal/testutil"
)

const unsupportedReason = "kernel lacks BPF_SOCK_OPS_RCVQ_CB (no enumerator of that name in the kernel's BTF)"

// fixture is a run with one scenario of each verdict, a splat and two
// features; Finish has not been called.
func fixture() *report.Report {
	return &report.Report{
		Schema: report.Schema,
		Kernel: report.Kernel{
			Release:   "6.12.0-31-amd64",
			Path:      "/boot/vmlinuz-6.12.0-31-amd64",
			Modules:   "/lib/modules/6.12.0-31-amd64",
			Source:    "host",
			Accel:     "tcg",
			AccelNote: "asked for kvm but /dev/kvm is not accessible; using tcg",
		},
		Boot: report.Boot{
			Attempts:    2,
			Retries:     []string{"no hello event within 60s"},
			FirstEventS: 3.25,
			Machine:     "q35",
		},
		Features: []report.Feature{
			{Name: "autolowat", Value: true, Reason: "tcp_autolowat present in the kernel's BTF"},
			{Name: "rcvq_cb", Value: false, Reason: "no BPF_SOCK_OPS_RCVQ_CB in the kernel's BTF"},
		},
		Scenarios: []report.Scenario{
			{
				Name: "bulk", Family: "ipv4", Path: "in-order", Mode: "baseline",
				Verdict: report.Pass,
				Frames:  40, Sends: 40, EpollinUser: 3, EpollinKernel: 3, PartialReads: 0,
				Rcvlowat: []int{1, 1, 1},
				Checks: []report.Check{
					{Name: "epollin_user", Pass: true, Want: "3", Got: "3"},
					{Name: "partial_reads", Pass: true, Want: "0", Got: "0"},
				},
				DurationS: 1.5,
			},
			{
				Name: "bulk", Family: "ipv6", Path: "ofo", Mode: "autolowat",
				Verdict: report.Fail,
				Frames:  44, Sends: 40, EpollinUser: 5, EpollinKernel: 5, PartialReads: 2,
				Rcvlowat: []int{1, 1448, 2896},
				Checks: []report.Check{
					{Name: "epollin_user", Pass: false, Want: "3", Got: "5", Detail: "reader woke before the hole was filled"},
					{Name: "frames_seen", Pass: true, Want: ">=40", Got: "44"},
					{Name: "partial_reads", Pass: false, Want: "0", Got: "2"},
				},
				Splats:    []string{"WARNING: CPU: 0 PID: 87 at net/ipv4/tcp.c:1520 tcp_recvmsg_locked+0x5c/0x7a0\nCall Trace:\n tcp_recvmsg+0x6b/0x1d0"},
				DurationS: 2.25,
			},
			{
				Name: "bulk", Family: "ipv4", Path: "in-order", Mode: "autolowat",
				Verdict:   report.Unsupported,
				Reason:    unsupportedReason,
				DurationS: 0,
			},
			{
				Name: "syn-data", Family: "ipv4", Path: "fastopen", Mode: "baseline",
				Verdict:   report.Error,
				Reason:    "guest agent sent no scenario-end within 30s",
				Frames:    2,
				Sends:     1,
				DurationS: 30,
			},
		},
		Splats: []report.Splat{{
			Kind:     "WARNING",
			Scenario: "bulk/ipv6/autolowat",
			Text:     "WARNING: CPU: 0 PID: 87 at net/ipv4/tcp.c:1520 tcp_recvmsg_locked+0x5c/0x7a0\nCall Trace:\n tcp_recvmsg+0x6b/0x1d0",
		}},
		DurationS: 41.75,
	}
}

func finished() *report.Report {
	r := fixture()
	r.HarnessVersion = "v0.0.0-test"
	r.Started = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	r.Command = []string{"harness", "run", "--kernel", "bzImage"}
	r.Host = "testhost"
	r.Finish()
	return r
}

func TestGoldenJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.json")
	if err := finished().WriteJSON(path); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	testutil.Golden(t, "testdata/report.json", got)
}

func TestGoldenJUnit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "junit.xml")
	if err := finished().WriteJUnit(path); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	testutil.Golden(t, "testdata/junit.xml", got)
}

func TestGoldenSummary(t *testing.T) {
	var buf bytes.Buffer
	finished().Summary(&buf, report.SummaryOptions{})
	testutil.Golden(t, "testdata/summary.txt", buf.Bytes())
}

func TestWriteJSONRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.json")
	r := finished()
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteJSON(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(b, []byte("}\n")) || !bytes.HasPrefix(b, []byte("{\n  \"schema\"")) {
		t.Errorf("want 2-space indented JSON with a trailing newline, got:\n%.80s", b)
	}
	var back report.Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	// WriteJSON writes nil check lists as [], which read back as empty.
	for i := range r.Scenarios {
		if r.Scenarios[i].Checks == nil {
			r.Scenarios[i].Checks = []report.Check{}
		}
	}
	if !reflect.DeepEqual(&back, r) {
		t.Errorf("round trip changed the report:\n got %+v\nwant %+v", back, *r)
	}
	// The temporary file must have been renamed away.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("want only report.json in %s, found %v", dir, names)
	}
}

func TestWriteJSONEmptyListsAreArrays(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.json")
	r := &report.Report{Verdict: report.Error, Error: "no kernel found",
		Scenarios: []report.Scenario{{Name: "x", Verdict: report.Error}}}
	if err := r.WriteJSON(path); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	for _, want := range []string{`"features": []`, `"checks": []`, `"schema": "` + report.Schema + `"`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("report.json lacks %s:\n%s", want, b)
		}
	}
	if r.Features != nil || r.Scenarios[0].Checks != nil || r.Schema != "" {
		t.Error("WriteJSON modified the report")
	}
}

func TestWriteJSONBadDir(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "report.json")
	if err := finished().WriteJSON(path); err == nil {
		t.Error("want an error writing into a missing folder")
	}
}

// parseJUnit writes r's junit.xml and decodes it back with encoding/xml.
func parseJUnit(t *testing.T, r *report.Report) junit.Testsuites {
	t.Helper()
	path := filepath.Join(t.TempDir(), "junit.xml")
	if err := r.WriteJUnit(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ts junit.Testsuites
	if err := xml.Unmarshal(b, &ts); err != nil {
		t.Fatalf("junit.xml does not parse: %v\n%s", err, b)
	}
	return ts
}

func TestJUnitParsesBack(t *testing.T) {
	ts := parseJUnit(t, finished())
	// junit-10 has no skipped count on testsuites; the testsuite has it.
	if ts.Tests != 4 || ts.Failures != 1 || ts.Errors != 1 || ts.Skipped != 0 || len(ts.Suites) != 1 || ts.Suites[0].Skipped != 1 {
		t.Errorf("testsuites counts: tests=%d failures=%d errors=%d skipped=%d, want 4 1 1 and skipped only on the suite",
			ts.Tests, ts.Failures, ts.Errors, ts.Skipped)
	}
	if len(ts.Suites) != 1 {
		t.Fatalf("want 1 testsuite, got %d", len(ts.Suites))
	}
	s := ts.Suites[0]
	if s.Name != "harness" || s.Time != "41.750" {
		t.Errorf("suite name=%q time=%q", s.Name, s.Time)
	}
	// Counts in the attributes must agree with the testcases themselves.
	var fail, errs, skip int
	for _, tc := range s.Testcases {
		if tc.Failure != nil {
			fail++
		}
		if tc.Error != nil {
			errs++
		}
		if tc.Skipped != nil {
			skip++
		}
	}
	if s.Tests != len(s.Testcases) || s.Failures != fail || s.Errors != errs || s.Skipped != skip {
		t.Errorf("suite says %d/%d/%d/%d, testcases say %d/%d/%d/%d",
			s.Tests, s.Failures, s.Errors, s.Skipped, len(s.Testcases), fail, errs, skip)
	}

	props := map[string]string{}
	if s.Properties != nil {
		for _, p := range *s.Properties {
			props[p.Name] = p.Value
		}
	}
	wantProps := map[string]string{
		"kernel.release":    "6.12.0-31-amd64",
		"kernel.accel":      "tcg",
		"feature.autolowat": "true",
		"feature.rcvq_cb":   "false",
		"series.exercised":  "true",
		"series.headline":   "the series' hook ran in 1 autolowat case (ofo); 1 unsupported: kernel lacks BPF_SOCK_OPS_RCVQ_CB",
		"harness.version":   "v0.0.0-test",
		"harness.command":   "harness run --kernel bzImage",
	}
	if !reflect.DeepEqual(props, wantProps) {
		t.Errorf("properties = %v, want %v", props, wantProps)
	}

	if len(s.Testcases) != 4 {
		t.Fatalf("want 4 testcases, got %d", len(s.Testcases))
	}
	pass, failed, unsup, errc := s.Testcases[0], s.Testcases[1], s.Testcases[2], s.Testcases[3]
	if pass.Classname != "in-order.ipv4" || pass.Name != "bulk/baseline" || pass.Time != "1.500" {
		t.Errorf("pass testcase = %+v", pass)
	}
	if pass.Failure != nil || pass.Error != nil || pass.Skipped != nil {
		t.Errorf("pass testcase has a result: %+v", pass)
	}
	if failed.Classname != "ofo.ipv6" || failed.Name != "bulk/autolowat" || failed.Failure == nil {
		t.Fatalf("fail testcase = %+v", failed)
	}
	if got, want := failed.Failure.Message, "epollin_user: want 3, got 5; partial_reads: want 0, got 2"; got != want {
		t.Errorf("failure message = %q, want %q", got, want)
	}
	for _, want := range []string{
		"epollin_user: want 3, got 5 (reader woke before the hole was filled)\n",
		"partial_reads: want 0, got 2\n",
		"> WARNING: CPU: 0 PID: 87",
		"> Call Trace:",
	} {
		if !strings.Contains(failed.Failure.Data, want) {
			t.Errorf("failure data lacks %q:\n%s", want, failed.Failure.Data)
		}
	}
	if strings.Contains(failed.Failure.Data, "frames_seen") {
		t.Errorf("failure data names a passing check:\n%s", failed.Failure.Data)
	}
	if unsup.Skipped == nil || unsup.Skipped.Message != unsupportedReason {
		t.Errorf("unsupported testcase = %+v", unsup)
	}
	if errc.Error == nil || errc.Error.Message != "guest agent sent no scenario-end within 30s" || errc.Classname != "fastopen.ipv4" {
		t.Errorf("error testcase = %+v", errc)
	}
	if s.SystemErr == nil || !strings.Contains(s.SystemErr.Data, "kernel WARNING during bulk/ipv6/autolowat") {
		t.Errorf("suite system-err lacks the splat: %+v", s.SystemErr)
	}
}

func TestJUnitRunError(t *testing.T) {
	r := &report.Report{Verdict: report.Error, Error: "qemu exited: status 1\nqemu: could not load kernel"}
	r.Finish()
	ts := parseJUnit(t, r)
	if ts.Tests != 1 || ts.Errors != 1 || ts.Failures != 0 || ts.Skipped != 0 {
		t.Errorf("counts: %+v", ts)
	}
	tc := ts.Suites[0].Testcases[0]
	if tc.Name != "run" || tc.Error == nil {
		t.Fatalf("testcase = %+v", tc)
	}
	if tc.Error.Message != "qemu exited: status 1 qemu: could not load kernel" {
		t.Errorf("message = %q", tc.Error.Message)
	}
	if tc.Error.Data != r.Error {
		t.Errorf("data = %q, want %q", tc.Error.Data, r.Error)
	}
}

func TestJUnitNoRunCaseWithScenarios(t *testing.T) {
	r := finished()
	r.Verdict = report.Error
	r.Error = "vm died"
	ts := r.JUnit()
	if ts.Tests != 4 {
		t.Errorf("want only the 4 scenario testcases, got %d", ts.Tests)
	}
}

// Console text carries escape codes that XML forbids; the file must parse.
func TestJUnitControlCharacters(t *testing.T) {
	r := finished()
	r.Scenarios[1].Splats = []string{"\x1b[31mBUG: ]]> kernel NULL pointer\x00"}
	r.Scenarios[1].Checks[0].Detail = "bad\x07bell"
	ts := parseJUnit(t, r)
	data := ts.Suites[0].Testcases[1].Failure.Data
	if !strings.Contains(data, "BUG: ]]> kernel NULL pointer") {
		t.Errorf("splat text lost: %q", data)
	}
}

func TestFinish(t *testing.T) {
	scen := func(verdicts ...string) []report.Scenario {
		var ss []report.Scenario
		for _, v := range verdicts {
			ss = append(ss, report.Scenario{Name: "s", Verdict: v})
		}
		return ss
	}
	tests := []struct {
		name    string
		r       report.Report
		verdict string
	}{
		{"all pass", report.Report{Scenarios: scen(report.Pass, report.Pass)}, report.Pass},
		{"splat fails a passing run", report.Report{Scenarios: scen(report.Pass),
			Splats: []report.Splat{{Kind: "WARNING", Text: "WARNING: x"}}}, report.Fail},
		{"unsupported only", report.Report{Scenarios: scen(report.Unsupported, report.Unsupported)}, report.Pass},
		{"unsupported and pass", report.Report{Scenarios: scen(report.Pass, report.Unsupported)}, report.Pass},
		{"error scenario", report.Report{Scenarios: scen(report.Pass, report.Error)}, report.Error},
		{"fail beats error", report.Report{Scenarios: scen(report.Error, report.Fail)}, report.Fail},
		{"unknown verdict is an error", report.Report{Scenarios: scen(report.Pass, "")}, report.Error},
		{"run error kept", report.Report{Verdict: report.Error, Scenarios: scen(report.Pass)}, report.Error},
		{"stale pass recomputed", report.Report{Verdict: report.Pass, Scenarios: scen(report.Fail)}, report.Fail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.r.Finish()
			if tt.r.Verdict != tt.verdict {
				t.Errorf("verdict = %q, want %q", tt.r.Verdict, tt.verdict)
			}
		})
	}
}

func TestFinishFailedChecks(t *testing.T) {
	r := finished()
	if r.Verdict != report.Fail {
		t.Errorf("fixture verdict = %q, want fail", r.Verdict)
	}
	var names []string
	for _, c := range r.Scenarios[1].FailedChecks {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, ","); got != "epollin_user,partial_reads" {
		t.Errorf("failed checks = %s", got)
	}
	if r.Scenarios[0].FailedChecks != nil {
		t.Errorf("passing scenario has failed checks: %+v", r.Scenarios[0].FailedChecks)
	}

	// FailedChecks already set by the caller is left alone.
	r = fixture()
	keep := []report.Check{{Name: "kept"}}
	r.Scenarios[1].FailedChecks = keep
	r.Finish()
	if len(r.Scenarios[1].FailedChecks) != 1 || r.Scenarios[1].FailedChecks[0].Name != "kept" {
		t.Errorf("Finish overwrote FailedChecks: %+v", r.Scenarios[1].FailedChecks)
	}
}

func TestExit(t *testing.T) {
	for verdict, want := range map[string]int{
		report.Pass: 0, report.Fail: 1, report.Error: 2, "": 2, "bogus": 2,
	} {
		if got := report.Exit(verdict); got != want {
			t.Errorf("Exit(%q) = %d, want %d", verdict, got, want)
		}
	}
}

func TestSummaryContent(t *testing.T) {
	var buf bytes.Buffer
	finished().Summary(&buf, report.SummaryOptions{})
	out := buf.String()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	// Failures first, then the matrix.
	if !strings.HasPrefix(lines[0], "FAIL bulk/ipv6/autolowat") || !strings.Contains(out, "\nSCENARIO  PATH      V4 BASELINE  V4 AUTOLOWAT  V6 AUTOLOWAT\n") {
		t.Errorf("first line %q, or no matrix header:\n%s", lines[0], out)
	}
	for _, want := range []string{
		"FAIL bulk/ipv6/autolowat: epollin_user: want 3, got 5 (reader woke before the hole was filled)\n",
		"FAIL bulk/ipv6/autolowat: partial_reads: want 0, got 2\n",
		"unsupported: 1 case: kernel lacks BPF_SOCK_OPS_RCVQ_CB\n",
		"kernel: WARNING during bulk/ipv6/autolowat: WARNING: CPU: 0 PID: 87 at net/ipv4/tcp.c:1520 tcp_recvmsg_locked+0x5c/0x7a0\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	// The accelerator note is said once, in the progress output, not here.
	if strings.Contains(out, "accel:") {
		t.Errorf("summary repeats the accelerator note:\n%s", out)
	}
	if last := lines[len(lines)-1]; last != "verdict: fail (1 passed, 1 failed, 1 unsupported, 1 error) in 41.8s; the series' hook ran in 1 autolowat case (ofo); 1 unsupported: kernel lacks BPF_SOCK_OPS_RCVQ_CB" {
		t.Errorf("last line = %q", last)
	}
	if strings.Contains(out, "\x1b") {
		t.Error("summary has escape codes")
	}
}

func TestSummaryGroupsUnsupported(t *testing.T) {
	r := &report.Report{}
	for _, fam := range []string{"ipv4", "ipv6"} {
		r.Scenarios = append(r.Scenarios,
			report.Scenario{Name: "a", Family: fam, Verdict: report.Unsupported, Reason: "no rcvq"},
			report.Scenario{Name: "b", Family: fam, Verdict: report.Unsupported, Reason: "no tfo"})
	}
	r.Finish()
	var buf bytes.Buffer
	r.Summary(&buf, report.SummaryOptions{})
	out := buf.String()
	if strings.Count(out, "unsupported: 2 cases: no rcvq\n") != 1 ||
		strings.Count(out, "unsupported: 2 cases: no tfo\n") != 1 {
		t.Errorf("unsupported not grouped by reason:\n%s", out)
	}
	if !strings.HasSuffix(out, "verdict: pass (0 passed, 0 failed, 4 unsupported, 0 error) in 0.0s\n") {
		t.Errorf("verdict line wrong:\n%s", out)
	}
}

// Scenarios that errored for one reason are said once.
func TestSummaryGroupsErrors(t *testing.T) {
	r := &report.Report{Verdict: report.Error, Error: "guest fell silent"}
	for _, n := range []string{"a", "b", "c"} {
		r.Scenarios = append(r.Scenarios, report.Scenario{Name: n, Family: "ipv4", Mode: "baseline", Verdict: report.Error, Reason: "the guest never started this scenario"})
	}
	r.Scenarios = append(r.Scenarios, report.Scenario{Name: "d", Family: "ipv6", Mode: "baseline", Verdict: report.Error, Reason: "other"})
	var buf strings.Builder
	r.Summary(&buf, report.SummaryOptions{})
	out := buf.String()
	for _, want := range []string{"ERROR 3 scenarios: the guest never started this scenario\n", "ERROR d/ipv6/baseline: other\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "never started") != 1 {
		t.Errorf("reason repeated:\n%s", out)
	}
}

// A run whose autolowat cases all could not run says so in its last line,
// not just "pass".
func TestHeadlineNotExercised(t *testing.T) {
	r := &report.Report{}
	for _, fam := range []string{"ipv4", "ipv6"} {
		r.Scenarios = append(r.Scenarios,
			report.Scenario{Name: "a", Path: "in-order", Family: fam, Mode: "baseline", Verdict: report.Pass},
			report.Scenario{Name: "a", Path: "in-order", Family: fam, Mode: "autolowat", Verdict: report.Unsupported,
				Reason: "kernel lacks BPF_SOCK_OPS_RCVQ_CB (no enumerator of that name in the kernel's BTF); kernel lacks bpf_sock_ops_tcp_set_rcvlowat"})
	}
	r.Finish()
	if r.Verdict != report.Pass || r.Hook == nil || r.Hook.Exercised || r.Hook.Unsupported != 2 {
		t.Fatalf("verdict %s hook %+v", r.Verdict, r.Hook)
	}
	want := "the series was NOT exercised: kernel lacks BPF_SOCK_OPS_RCVQ_CB (2 autolowat cases unsupported)"
	if got := r.Headline(); got != want {
		t.Errorf("headline %q, want %q", got, want)
	}
	var buf strings.Builder
	r.Summary(&buf, report.SummaryOptions{Out: "harness-out/x"})
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if last := lines[len(lines)-1]; !strings.HasSuffix(last, "; "+want) || !strings.HasPrefix(last, "verdict: pass") {
		t.Errorf("last line %q", last)
	}
	if !strings.Contains(buf.String(), "report: harness-out/x/report.html") {
		t.Errorf("no report path:\n%s", buf.String())
	}
	// Without autolowat cases (test_progs, a filter) there is no headline.
	r2 := &report.Report{Scenarios: []report.Scenario{{Name: "x", Path: "test_progs", Verdict: report.Pass}}}
	r2.Finish()
	if r2.Hook != nil || r2.Headline() != "" {
		t.Errorf("hook %+v for a run without autolowat cases", r2.Hook)
	}
}

// TestGoldenSummaryRealRuns: the end-of-run text of real runs (README
// of testdata says which): a passing 60-case run of the port, which must
// fit a screen, and a run on Debian's kernel, which must say the series
// was not exercised.
func TestGoldenSummaryRealRuns(t *testing.T) {
	for _, name := range []string{"real-port-pass", "real-debian-one"} {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", name+".report.json"))
			if err != nil {
				t.Fatal(err)
			}
			var r report.Report
			if err := json.Unmarshal(b, &r); err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			r.Summary(&buf, report.SummaryOptions{Out: "harness-out/run"})
			testutil.Golden(t, "testdata/"+name+".summary.txt", buf.Bytes())
			lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
			if len(lines) > 25 {
				t.Errorf("%d lines, want at most 25", len(lines))
			}
			for _, l := range lines {
				if len(l) > 100 && !strings.HasPrefix(l, "verdict:") {
					t.Errorf("wider than 100 columns: %q", l)
				}
			}
		})
	}
}

// A user's program whose SO_RCVLOWAT differs from the series' rule is a
// note under a passing scenario, never a FAIL line.
func TestSummaryRuleDifferences(t *testing.T) {
	r := &report.Report{Scenarios: []report.Scenario{{Name: "many-small-frames", Family: "ipv4", Mode: "autolowat", Verdict: report.Pass,
		RuleDifferences: []string{"step 1 after the read: 4, the series' rule says 8 (-4)", "step 7 after the read: 4, the series' rule says 8 (-4)"}}}}
	r.Finish()
	var buf bytes.Buffer
	r.Summary(&buf, report.SummaryOptions{})
	out := buf.String()
	want := "note many-small-frames/ipv4/autolowat: SO_RCVLOWAT differs from the series' rule, not a kernel failure: step 1 after the read: 4, the series' rule says 8 (-4) (and 1 more)\n"
	if !strings.Contains(out, want) || strings.Contains(out, "FAIL") || !strings.Contains(out, "verdict: pass") {
		t.Errorf("summary:\n%s\nwant the line %q", out, want)
	}
}

// A run in error whose cases all ran says on its verdict line what made
// it one (Ctrl-C just after the last case).
func TestSummarySaysWhyTheRunIsAnError(t *testing.T) {
	r := &report.Report{Verdict: report.Error, Error: "interrupted by SIGINT", Scenarios: []report.Scenario{{Name: "a", Family: "ipv4", Mode: "baseline", Verdict: report.Pass}}}
	var b strings.Builder
	r.Summary(&b, report.SummaryOptions{})
	if !strings.Contains(b.String(), "verdict: error (1 passed, 0 failed, 0 unsupported, 0 error; the run: interrupted by SIGINT)") {
		t.Errorf("summary:\n%s", b.String())
	}
}

// A matrix of more scenarios than fit a screen shows only those with a
// failure or an error, and counts the others.
func TestSummaryMatrixOfManyScenarios(t *testing.T) {
	mk := func(bad string) *report.Report {
		r := &report.Report{}
		for i := 0; i < 20; i++ {
			name := fmt.Sprintf("s%02d", i)
			for _, fam := range []string{"ipv4", "ipv6"} {
				for _, mode := range []string{"baseline", "autolowat"} {
					v := report.Pass
					if name == bad && fam == "ipv6" && mode == "autolowat" {
						v = report.Fail
					}
					r.Scenarios = append(r.Scenarios, report.Scenario{Name: name, Path: "in-order", Family: fam, Mode: mode, Verdict: v})
				}
			}
		}
		r.Finish()
		return r
	}
	var buf bytes.Buffer
	mk("").Summary(&buf, report.SummaryOptions{})
	if out := buf.String(); strings.Contains(out, "SCENARIO") || !strings.Contains(out, "scenarios: all 20 passed or unsupported") {
		t.Errorf("all passed:\n%s", out)
	}
	buf.Reset()
	mk("s07").Summary(&buf, report.SummaryOptions{})
	out := buf.String()
	if !strings.Contains(out, "SCENARIO") || !strings.Contains(out, "s07 ") || strings.Contains(out, "s08 ") || !strings.Contains(out, "and 19 more scenarios passed or unsupported") {
		t.Errorf("one failed:\n%s", out)
	}
}
