package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/kernel-harness/harness/harness/kcidb"
	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/internal/fixtures"
)

// readKCIDB reads the kcidb.json a run left in out, which must be valid
// against kcidb-io's schema.
func readKCIDB(t *testing.T, out string) kcidb.Document {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, kcidb.FileName))
	if err != nil {
		t.Fatal(err)
	}
	fixtures.ValidKCIDB(t, fixtures.KCIDBSchema(t), b)
	var d kcidb.Document
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// checkKCIDB checks that the run's kcidb.json holds the run: a checkout,
// a build that gave this kernel, the boot, and every case of
// report.json with its verdict.
func checkKCIDB(t *testing.T, out string, rep report.Report) {
	t.Helper()
	d := readKCIDB(t, out)
	if len(d.Checkouts) != 1 || len(d.Builds) != 1 {
		t.Fatalf("%d checkouts, %d builds", len(d.Checkouts), len(d.Builds))
	}
	bd := d.Builds[0]
	if bd.Status != kcidb.StatusPass || bd.Misc["kernel_release"] != rep.Kernel.Release || bd.CheckoutID != d.Checkouts[0].ID {
		t.Errorf("build %+v, want a kernel %s", bd, rep.Kernel.Release)
	}
	if b := rep.Build; b != nil && (d.Checkouts[0].GitCommitHash != b.Base || bd.ConfigName != b.Profile) {
		t.Errorf("checkout %+v, build %+v; report.json's build %+v", d.Checkouts[0], bd, b)
	}
	status := map[string]string{report.Pass: "PASS", report.Fail: "FAIL", report.Unsupported: "SKIP", report.Error: "ERROR"}
	want := map[string]string{"boot": "PASS"}
	for _, s := range rep.Scenarios {
		want[kcidb.Path(s)] = status[s.Verdict]
	}
	got := map[string]string{}
	for _, tt := range d.Tests {
		if tt.BuildID != bd.ID {
			t.Errorf("test %s of build %s", tt.ID, tt.BuildID)
		}
		got[tt.Path] = tt.Status
	}
	if len(d.Tests) != len(want) || len(got) != len(want) {
		t.Errorf("%d tests, want the boot and %d cases", len(d.Tests), len(rep.Scenarios))
	}
	for p, st := range want {
		if got[p] != st {
			t.Errorf("test %s: %q, want %q", p, got[p], st)
		}
	}
}
