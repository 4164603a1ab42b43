package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/kernel-harness/harness/harness/ghactions"
	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/run"
	"github.com/kernel-harness/harness/harness/scenario"
)

// parseShard reads --shard; empty is the whole plan.
func parseShard(s string) (scenario.Shard, error) {
	if s == "" {
		return scenario.Shard{}, nil
	}
	return scenario.ParseShard(s)
}

// githubActions, under GITHUB_ACTIONS=true, folds the run's progress into
// groups by stage and returns what to do once the run is over: annotate
// the failures and append the step summary. Elsewhere it does nothing.
func githubActions(verb string, p *run.Plan) func(*report.Report, error) {
	o := &p.Options
	if !ghactions.Enabled(os.Getenv) {
		return func(*report.Report, error) {}
	}
	groups := ghactions.NewGroups(o.Progress)
	o.Progress = groups
	return func(rep *report.Report, err error) {
		groups.Stage("analysis")
		defer groups.Close()
		if rep == nil || (err != nil && rep.Error == "") {
			fmt.Fprintln(groups, ghactions.Annotation{Title: "harness " + verb + " could not be done", Message: fmt.Sprint(err)})
		}
		if rep == nil {
			return
		}
		ws := os.Getenv("GITHUB_WORKSPACE")
		src := ghactions.Sources{Consoles: ghactions.LoadConsoles(o.Out, ws)}
		src.Scenarios = ghactions.ScenarioLocations(p.ScenarioSources, ws)
		for _, a := range ghactions.Annotations(rep, src) {
			fmt.Fprintln(groups, a)
		}
		if path := os.Getenv("GITHUB_STEP_SUMMARY"); path != "" {
			h := *o
			if h.Build.Profile == "" && rep.Build != nil {
				h.Build.Profile = rep.Build.Profile // the backend chose it
			}
			if err := ghactions.AppendSummary(path, rep, jobHeading(h)); err != nil {
				fmt.Fprintf(groups, "harness %s: %v\n", verb, err)
			}
		}
	}
}

// jobHeading tells apart the summaries of a matrix's jobs.
func jobHeading(o run.Options) string {
	var parts []string
	if o.Shard.N > 0 {
		parts = append(parts, "shard "+o.Shard.String())
	}
	if o.Build.Tree != "" {
		parts = append(parts, o.Build.Profile+" profile")
	}
	if o.Scenario != "" {
		parts = append(parts, "--scenario "+o.Scenario)
	}
	return strings.Join(parts, ", ")
}
