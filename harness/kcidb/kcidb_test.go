package kcidb

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/kernel-harness/harness/harness/outdir"
	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/series"
	"github.com/kernel-harness/harness/internal/fixtures"
	"github.com/kernel-harness/harness/internal/testutil"
)

// valid marshals d as Write does and validates it against the schema.
func valid(t *testing.T, sch *jsonschema.Schema, d Document) []byte {
	t.Helper()
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	fixtures.ValidKCIDB(t, sch, b)
	return b
}

// golden are the real reports whose documents are kept whole.
var golden = map[string]bool{"real-fail": true, "real-error": true, "real-debian-one": true, "fixture-baseline": true}

// Every real report gives a valid document: a checkout and a build per
// run, a boot test, and a test per case with the case's verdict.
func TestRealReports(t *testing.T) {
	sch := fixtures.KCIDBSchema(t)
	for name := range fixtures.Reports {
		t.Run(name, func(t *testing.T) {
			out := fixtures.Load(t, name)
			d := Of(out)
			b := valid(t, sch, d)
			if golden[name] {
				testutil.Golden(t, "testdata/"+name+".kcidb.json", b)
			}
			runs := []*report.Report{out.Top.Report}
			if out.Base != nil {
				runs = []*report.Report{out.Base.Report, out.Top.Report}
			}
			if len(d.Checkouts) != len(runs) || len(d.Builds) != len(runs) {
				t.Fatalf("%d checkouts, %d builds for %d runs", len(d.Checkouts), len(d.Builds), len(runs))
			}
			want := map[string]string{}
			for i, r := range runs {
				bd := d.Builds[i]
				// Passed when it gave a kernel (testprogsout's report has
				// none: it is test_progs' output alone).
				if bd.CheckoutID != d.Checkouts[i].ID || bd.Architecture != "x86_64" || (bd.Status == StatusPass) != (r.Kernel.Path != "") {
					t.Errorf("build %+v", bd)
				}
				if b := r.Build; b != nil && (d.Checkouts[i].GitCommitHash != b.Base || bd.ConfigName != b.Profile || d.Checkouts[i].Valid == nil) {
					t.Errorf("checkout %+v, build %+v of %+v", d.Checkouts[i], bd, b)
				}
				switch {
				case r.Boot.Attempts == 0:
				case r.Boot.FirstEventS > 0:
					want[bd.ID+" boot"] = StatusPass
				default:
					want[bd.ID+" boot"] = StatusFail
				}
				for _, s := range r.Scenarios {
					want[bd.ID+" "+Path(s)+" "+s.ID()] = map[string]string{
						report.Pass: "PASS", report.Fail: "FAIL", report.Unsupported: "SKIP", report.Error: "ERROR"}[s.Verdict]
				}
			}
			got := map[string]string{}
			for _, tt := range d.Tests {
				key := tt.BuildID + " boot"
				if tt.Path != "boot" {
					key = tt.BuildID + " " + tt.Path + " " + tt.Misc["case"].(string)
				}
				got[key] = tt.Status
			}
			if !equal(got, want) {
				t.Errorf("tests by build, path and case:\n%v\nwant\n%v", got, want)
			}
		})
	}
}

func equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// Paths follow the scenario, family and mode, or a selftest's test and
// subtest, as words KCIDB takes.
func TestPath(t *testing.T) {
	for _, c := range []struct {
		s    report.Scenario
		want string
	}{
		{report.Scenario{Name: "ofo-descriptor-last", Family: "ipv4", Mode: "autolowat"}, "harness.ofo-descriptor-last.ipv4.autolowat"},
		{report.Scenario{Name: "tcp_autolowat/ipv6 rcvq", Path: "test_progs"}, "harness.test_progs.tcp_autolowat.ipv6_rcvq"},
		{report.Scenario{Name: "my.scenario#1 ü", Family: "ipv4", Mode: "baseline"}, "harness.my_scenario_1_.ipv4.baseline"},
		{report.Scenario{Name: "tcp_rtt", Path: "test_progs"}, "harness.test_progs.tcp_rtt"},
	} {
		if got := Path(c.s); got != c.want {
			t.Errorf("%q: %q, want %q", c.s.Name, got, c.want)
		}
	}
}

// A series whose patches carry their sha256 gives KCIDB's patchset_hash,
// the same as its definition's shell command over the patch files; no
// series gives "", a report without the hashes none.
func TestPatchsetHash(t *testing.T) {
	const dir = "../../selftests/series/rcvq-7.3"
	files, _ := filepath.Glob(dir + "/00[0-9][0-9]-*.patch")
	files = files[1:] // the cover letter is not a patch
	cmd := exec.Command("sh", "-c", `sha256sum "$@" | cut -c-64 | sha256sum | cut -c-64`, "sh")
	cmd.Args = append(cmd.Args, files...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	want := strings.TrimSpace(string(out))
	s, err := series.Load(t.Context(), dir, "")
	if err != nil {
		t.Fatal(err)
	}
	b := &report.Build{Tree: "/src/linux", Base: strings.Repeat("ab", 20), BaseSubject: "Linux 7.3", Profile: "minimal",
		Series: &report.Series{Source: dir, Version: 1, Cover: s.Cover}}
	for _, p := range s.Patches {
		b.Series.Patches = append(b.Series.Patches, report.Patch{Number: p.Number, Total: p.Total, Subject: p.Subject, State: "applied", SHA256: p.SHA256()})
	}
	r := &report.Report{Build: b, Kernel: report.Kernel{Release: "7.3.0", Path: "/k", Source: "build"}, Verdict: report.Pass}
	ck := Of(outdir.Output{Top: outdir.Run{Report: r}}).Checkouts[0]
	if ck.PatchsetHash == nil || *ck.PatchsetHash != want || ck.Comment != s.Cover {
		t.Errorf("checkout %+v, want patchset_hash %s and the cover's subject", ck, want)
	}
	b.Series.Patches[0].SHA256 = ""
	if ck := Of(outdir.Output{Top: outdir.Run{Report: r}}).Checkouts[0]; ck.PatchsetHash != nil {
		t.Errorf("a patch without its hash: patchset_hash %q", *ck.PatchsetHash)
	}
	b.Series = nil
	if ck := Of(outdir.Output{Top: outdir.Run{Report: r}}).Checkouts[0]; ck.PatchsetHash == nil || *ck.PatchsetHash != "" || ck.Comment != "Linux 7.3" {
		t.Errorf("no series: checkout %+v, want patchset_hash \"\"", ck)
	}
	valid(t, fixtures.KCIDBSchema(t), Of(outdir.Output{Top: outdir.Run{Report: r}}))
}

// A build that gave no kernel is a failed build with the compiler's
// error and no tests; a run the harness stopped before booting is one
// test MISSed, with why.
func TestFailedRuns(t *testing.T) {
	sch := fixtures.KCIDBSchema(t)
	built := &report.Report{Verdict: report.Error, Error: "kernel build: make bzImage: net/ipv4/tcp.c:1:1: error: expected ';'",
		Build: &report.Build{Tree: "/src/linux", Base: strings.Repeat("cd", 20), Profile: "minimal", Error: "net/ipv4/tcp.c:1:1: error: expected ';'"}}
	d := Of(outdir.Output{Top: outdir.Run{Report: built}})
	valid(t, sch, d)
	if bd := d.Builds[0]; bd.Status != StatusFail || !strings.Contains(bd.LogExcerpt, "expected ';'") || len(d.Tests) != 0 {
		t.Errorf("failed build: %+v, tests %+v", bd, d.Tests)
	}
	stopped := &report.Report{Verdict: report.Error, Error: "qemu-system-x86_64: not found\x00"}
	d = Of(outdir.Output{Top: outdir.Run{Report: stopped}})
	valid(t, sch, d)
	if d.Builds[0].Status != "" || len(d.Tests) != 1 || d.Tests[0].Status != StatusMiss || d.Tests[0].Path != "harness" {
		t.Errorf("stopped run: build %+v, tests %+v", d.Builds[0], d.Tests)
	}
}

// What users and kernels put in names and logs (NUL, any character,
// logs past the schema's length) still gives a valid document, with
// ids unique.
func TestSanitised(t *testing.T) {
	r := &report.Report{Verdict: report.Fail, Boot: report.Boot{Attempts: 1, FirstEventS: 1.5, Machine: "vng"}, Host: "h\x00",
		Kernel: report.Kernel{Release: "7.3.0", Path: "/k", Accel: "tcg"}}
	for range 2 {
		r.Scenarios = append(r.Scenarios, report.Scenario{Name: "a.b/c\x00d", Family: "ipv4", Mode: "autolowat", Verdict: report.Fail,
			Reason: "x\x00", Splats: []string{strings.Repeat("WARNING ", 4000)},
			Checks: []report.Check{{Name: "eof", Want: "1", Got: "0\x00", Detail: "line\nbreak"}}})
	}
	d := Of(outdir.Output{Top: outdir.Run{Report: r}})
	valid(t, fixtures.KCIDBSchema(t), d)
	if d.Tests[1].ID == d.Tests[2].ID || len(d.Tests[1].LogExcerpt) > maxExcerpt || d.Tests[0].Environment.Comment != "virtme-ng under tcg on h" {
		t.Errorf("tests %+v", d.Tests)
	}
}

// The vendored schema refuses what KCIDB would: validation that passes
// everything tests nothing.
func TestSchemaRefuses(t *testing.T) {
	sch := fixtures.KCIDBSchema(t)
	for _, doc := range []string{
		`{"version": {"major": 4}}`,
		`{"version": {"major": 5, "minor": 3}, "tests": [{"id": "harness:1", "origin": "harness", "build_id": "harness:1", "status": "OK"}]}`,
		`{"version": {"major": 5, "minor": 3}, "tests": [{"id": "harness:1", "origin": "harness", "build_id": "harness:1", "path": "a b"}]}`,
		`{"version": {"major": 5, "minor": 3}, "checkouts": [{"id": "harness:1", "origin": "harness", "start_time": "yesterday"}]}`,
	} {
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
		if err != nil {
			t.Fatal(err)
		}
		if sch.Validate(v) == nil {
			t.Errorf("the schema accepts %s", doc)
		}
	}
}

// The id names the run: the same when its report is written again,
// another for another run; --baseline's two runs share it.
func TestIDs(t *testing.T) {
	out := fixtures.Load(t, "fixture-baseline")
	a, b := Of(out), Of(out)
	if a.Checkouts[0].ID != b.Checkouts[0].ID || !regexp.MustCompile(`^harness:[0-9a-f]{16}:base$`).MatchString(a.Checkouts[0].ID) ||
		a.Checkouts[1].ID != strings.TrimSuffix(a.Checkouts[0].ID, "base")+"series" {
		t.Errorf("checkout ids %q, %q, %q", a.Checkouts[0].ID, b.Checkouts[0].ID, a.Checkouts[1].ID)
	}
	other := *out.Top.Report
	other.Started = other.Started.Add(1)
	if RunID(&other) == RunID(out.Top.Report) {
		t.Error("two runs share an id")
	}
}

// The file is written into the folder, among the run's outputs.
func TestWrite(t *testing.T) {
	out := fixtures.Load(t, "real-fail")
	fixtures.Writes(t, FileName, Write, out, valid(t, fixtures.KCIDBSchema(t), Of(out)))
}
