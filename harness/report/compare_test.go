package report_test

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kernel-harness/harness/harness/report"
)

func TestCompare(t *testing.T) {
	base := &report.Report{Kernel: report.Kernel{Release: "6.12.117"}, Verdict: report.Pass, Scenarios: []report.Scenario{
		{Name: "split-frame", Family: "ipv4", Path: "in-order", Mode: "baseline", Verdict: report.Pass, Frames: 2, EpollinUser: 6, PartialReads: 4, Rcvlowat: []int{1, 1, 1}},
		{Name: "split-frame", Family: "ipv4", Path: "in-order", Mode: "autolowat", Verdict: report.Unsupported, Frames: 2},
	}}
	patched := &report.Report{Kernel: report.Kernel{Release: "6.12.117+"}, Verdict: report.Pass, Scenarios: []report.Scenario{
		{Name: "split-frame", Family: "ipv4", Path: "in-order", Mode: "baseline", Verdict: report.Pass, Frames: 2, EpollinUser: 6},
		{Name: "split-frame", Family: "ipv4", Path: "in-order", Mode: "autolowat", Verdict: report.Pass, Frames: 2, EpollinUser: 2, Rcvlowat: []int{1, 8, 232, 232, 8}},
	}}
	c := report.Compare(base, patched)
	if len(c.Rows) != 1 {
		t.Fatalf("rows %+v", c.Rows)
	}
	r := c.Rows[0]
	if r.Base.EpollinPerFrame != 3 || r.Series.EpollinPerFrame != 1 || r.Base.PartialReads != 4 || r.Series.RcvlowatChanges != 3 || r.Series.Mode != "autolowat" {
		t.Fatalf("row %+v", r)
	}
	var b strings.Builder
	c.SideBySide(&b)
	if !strings.Contains(b.String(), "split-frame") || !strings.Contains(b.String(), "3.00") || !strings.Contains(b.String(), "1.00") {
		t.Fatalf("side by side:\n%s", b.String())
	}

	path := filepath.Join(t.TempDir(), "junit.xml")
	if err := patched.WriteJUnitPair(base, path); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	var ju struct {
		Tests  int `xml:"tests,attr"`
		Suites []struct {
			Name string `xml:"name,attr"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(raw, &ju); err != nil {
		t.Fatal(err)
	}
	if ju.Tests != 4 || len(ju.Suites) != 2 || ju.Suites[0].Name != "base.harness" || ju.Suites[1].Name != "series.harness" {
		t.Fatalf("junit %+v\n%s", ju, raw)
	}
}
