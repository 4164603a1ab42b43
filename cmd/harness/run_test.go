package main

import (
	"testing"

	"github.com/kernel-harness/harness/harness/analysis"
	"github.com/kernel-harness/harness/harness/report"
)

// A boot that failed before any case is one error line: no matrix.
func TestAnyStarted(t *testing.T) {
	never := report.Scenario{Verdict: report.Error, Reason: analysis.NeverStarted}
	rep := &report.Report{Scenarios: []report.Scenario{never, never}}
	if anyStarted(rep) {
		t.Error("no case started, yet a summary would be printed")
	}
	rep.Scenarios = append(rep.Scenarios, report.Scenario{Verdict: report.Error, Reason: "the guest stopped during this scenario"})
	if !anyStarted(rep) {
		t.Error("a case started: its summary is wanted")
	}
}
