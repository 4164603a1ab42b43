package main

import (
	"errors"
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

// Exit statuses: --exit-untestable takes the place of 2 for a run that
// could not test its kernel, not for one stopped by a signal, nor for
// failed cases or a run without the series' hook under --require-hook.
func TestRunExit(t *testing.T) {
	buildFailed := errors.New("kernel build: make bzImage: net/ipv4/tcp_input.c:1:1: error: expected ';'")
	pass := &report.Report{Verdict: report.Pass, Hook: &report.Hook{Exercised: true}}
	notExercised := &report.Report{Verdict: report.Pass, Hook: &report.Hook{}}
	for _, c := range []struct {
		name      string
		rep       *report.Report
		err       error
		stopped   bool
		untest    int
		requireHk bool
		want      int
	}{
		{"pass", pass, nil, false, 125, false, 0},
		{"failed case", &report.Report{Verdict: report.Fail}, nil, false, 125, false, 1},
		{"build failed", &report.Report{Verdict: report.Error}, buildFailed, false, 125, false, 125},
		{"build failed, no flag", &report.Report{Verdict: report.Error}, buildFailed, false, 0, false, 2},
		{"cases in error", &report.Report{Verdict: report.Error}, nil, false, 125, false, 125},
		{"no report", nil, buildFailed, false, 125, false, 125},
		{"stopped by a signal", &report.Report{Verdict: report.Error}, errors.New("interrupted by SIGINT"), true, 125, false, 2},
		{"hook not exercised", notExercised, nil, false, 125, true, 1},
		{"hook exercised", pass, nil, false, 125, true, 0},
	} {
		code, why := runExit(c.rep, c.err, c.stopped, &runFlags{exitUntestable: c.untest, requireHook: c.requireHk})
		if code != c.want || (code != 0 && code != 2 && code != report.Exit(report.Fail) && why == "") {
			t.Errorf("%s: exit %d (%q), want %d", c.name, code, why, c.want)
		}
	}
}
