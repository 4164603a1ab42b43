package outputs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kernel-harness/harness/harness/outdir"
	"github.com/kernel-harness/harness/harness/report"
)

const fixtures = "../htmlreport/testdata"

var files = []string{"report.json", "junit.xml", "results.ktap", "kcidb.json", "report.html", "trace.json"}

// read is every file of the list, which must all have been written.
func read(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		out[f] = string(b)
	}
	return out
}

// One run's files come from the report and events in memory, and
// reading them back gives the same report.
func TestWrite(t *testing.T) {
	in, err := outdir.Load(filepath.Join(fixtures, "run"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := Write(dir, in.Top.Report, in.Top.Events); err != nil {
		t.Fatal(err)
	}
	got := read(t, dir)
	s := in.Top.Report.Scenarios[0]
	id := s.ID()
	if !strings.Contains(got["report.html"], `data-case="`+id+`"`) || !strings.Contains(got["trace.json"], id) || !strings.Contains(got["junit.xml"], "<testsuite") ||
		!strings.Contains(got["results.ktap"], "# Subtest: "+s.Name+"\n") || !strings.Contains(got["kcidb.json"], `"case": "`+id+`"`) {
		t.Errorf("%s is not drawn in every file", id)
	}
	back, err := outdir.LoadRun(dir)
	if err != nil || len(back.Report.Scenarios) != len(in.Top.Report.Scenarios) || back.Events != nil {
		t.Errorf("read back: %+v, %v", back, err)
	}
}

// --baseline: both runs' cases in junit.xml and the page, the patched
// run's timelines in trace.json.
func TestWriteBaseline(t *testing.T) {
	in, err := outdir.Load(filepath.Join(fixtures, "baseline"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := WriteBaseline(dir, in.Top.Report, *in.Base, *in.Patched); err != nil {
		t.Fatal(err)
	}
	got := read(t, dir)
	if !strings.Contains(got["report.html"], `data-side="base"`) || !strings.Contains(got["report.html"], `data-side="patched"`) {
		t.Error("report.html lacks a side")
	}
	if !strings.Contains(got["junit.xml"], "base.") || !strings.Contains(got["trace.json"], `"process_name"`) {
		t.Errorf("junit.xml or trace.json lacks a run:\n%s", got["junit.xml"])
	}
	if !strings.Contains(got["results.ktap"], "    # Subtest: base\n") || !strings.Contains(got["results.ktap"], "    # Subtest: series\n") {
		t.Errorf("results.ktap lacks a run:\n%s", got["results.ktap"])
	}
	if !strings.Contains(got["kcidb.json"], `:base"`) || !strings.Contains(got["kcidb.json"], `:series"`) {
		t.Errorf("kcidb.json lacks a run:\n%s", got["kcidb.json"])
	}
}

// A writer that fails does not keep the others from writing: each says
// what it could not write.
func TestWriteErrorsJoined(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "gone")
	err := Write(missing, &report.Report{Schema: report.Schema}, nil)
	if err == nil {
		t.Fatal("writing into a missing folder succeeded")
	}
	for _, f := range files {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error does not name %s: %v", f, err)
		}
	}
}
