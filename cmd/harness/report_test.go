package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kernel-harness/harness/harness/outdir"
)

// harness report writes this harness's files into an older run's folder
// (one without results.ktap, kcidb.json): a later run given it as --out
// replaces them with the rest.
func TestReportRecordsItsFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	d, err := outdir.Claim(dir, outdir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{outdir.ReportName, outdir.EventsName} {
		b, err := os.ReadFile(filepath.Join("../../harness/htmlreport/testdata/run", f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, f), b, 0o644)
	}
	d.Close()
	if code, _, errs := harness(t, "report", dir); code != 0 {
		t.Fatalf("harness report: exit %d: %s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "kcidb.json")); err != nil {
		t.Fatal(err)
	}
	d, err = outdir.Claim(dir, outdir.Options{})
	if err != nil {
		t.Fatalf("a run given the folder after harness report: %v", err)
	}
	d.Close()
}
