package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kernel-harness/harness/harness/report"
)

// checkHTMLReport checks the report.html a run left in out, and that
// `harness report` makes it again: a timeline for every case that ran,
// none for the unsupported ones.
func checkHTMLReport(t *testing.T, out string, rep report.Report) {
	t.Helper()
	page := filepath.Join(out, "report.html")
	if err := os.Remove(page); err != nil {
		t.Fatalf("harness run left no report.html: %v", err)
	}
	code, stdout, stderr := runHarness(t, "report", out)
	if code != 0 || strings.TrimSpace(stdout) != page {
		t.Fatalf("harness report exited %d: %s%s", code, stdout, stderr)
	}
	raw, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	html := string(raw)
	for _, s := range rep.Scenarios {
		drawn := strings.Contains(html, `<svg class="timeline" data-case="`+s.ID()+`"`)
		if drawn != (s.Verdict != report.Unsupported) {
			t.Errorf("%s (%s): timeline drawn %v", s.ID(), s.Verdict, drawn)
		}
	}
}
