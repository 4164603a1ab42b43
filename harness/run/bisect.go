package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"text/tabwriter"

	"github.com/kernel-harness/harness/harness/build"
	"github.com/kernel-harness/harness/harness/text"

	"github.com/kernel-harness/harness/harness/bisect"
	"github.com/kernel-harness/harness/harness/input"
	"github.com/kernel-harness/harness/harness/kbuild"
	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/series"
)

// BisectOptions is `harness bisect`: Run.Build names the tree (and the
// series to apply at every step), Run.Scenario the scenarios that decide.
type BisectOptions struct {
	Run       Options
	Good, Bad string
	// BuildFailure and BootFailure are what a commit that does not build
	// or does not boot counts as: bisect.Skip (default) or bisect.Bad.
	BuildFailure, BootFailure bisect.Verdict
	Resume                    bool
}

// BisectReport is the bisect's answer, also written as bisect.json.
type BisectReport struct {
	Tree     string          `json:"tree"`
	Good     bisect.Commit   `json:"good"`
	Bad      bisect.Commit   `json:"bad"`
	Commits  int             `json:"commits"`
	Scenario string          `json:"scenario,omitempty"`
	Series   string          `json:"series,omitempty"`
	Outcome  *bisect.Outcome `json:"outcome"`
	// Flips are the scenarios that failed at the first bad commit, beside
	// the same scenarios at the last good one.
	Flips []report.Flip `json:"flips,omitempty"`
	Log   string        `json:"log"`
}

// Bisect finds the first commit between Good and Bad at which the
// scenarios fail. Each step builds the commit (plus the series) with
// BuildKernel, in the tree's one O= folder so that only what changed
// compiles, and from the artifact cache when it was built before; then
// boots it and runs the scenarios, in steps/<commit>/ under Run.Out.
func Bisect(ctx context.Context, bo BisectOptions) (*BisectReport, error) {
	o := bo.Run
	say := func(format string, args ...any) {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, format+"\n", args...)
		}
	}
	if o.Build.Tree == "" || bo.Good == "" || bo.Bad == "" {
		return nil, errors.New("bisect needs --tree, --good and --bad")
	}
	if o.Build.Base != "" {
		return nil, errors.New("bisect sets the base of every step itself: drop --base")
	}
	for _, v := range []*bisect.Verdict{&bo.BuildFailure, &bo.BootFailure} {
		switch *v {
		case "":
			*v = bisect.Skip
		case bisect.Skip, bisect.Bad:
		default:
			return nil, fmt.Errorf("a build or boot failure counts as bad or skip, not %q", *v)
		}
	}
	if _, err := regexp.Compile(o.Scenario); err != nil {
		return nil, fmt.Errorf("--scenario: %w", err)
	}
	tree, err := filepath.Abs(o.Build.Tree)
	if err != nil {
		return nil, err
	}
	o.Build.Tree = tree
	good, err := commitOf(ctx, tree, bo.Good)
	if err != nil {
		return nil, fmt.Errorf("--good: %w", err)
	}
	bad, err := commitOf(ctx, tree, bo.Bad)
	if err != nil {
		return nil, fmt.Errorf("--bad: %w", err)
	}
	if err := exec.CommandContext(ctx, "git", "-C", tree, "merge-base", "--is-ancestor", good.Hash, bad.Hash).Run(); err != nil {
		return nil, fmt.Errorf("--good %s is not an ancestor of --bad %s: give a good commit older than the bad one", bo.Good, bo.Bad)
	}
	commits, err := firstParents(ctx, tree, good.Hash, bad.Hash)
	if err != nil {
		return nil, err
	}
	if len(commits) == 0 {
		return nil, fmt.Errorf("--good and --bad are the same commit %s: nothing to bisect", good.Short())
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, err
	}
	rep := &BisectReport{Tree: tree, Good: good, Bad: bad, Commits: len(commits), Scenario: o.Scenario, Series: o.Build.Series,
		Log: filepath.Join(o.Out, "bisect.log")}
	say("bisect: %d commits after %s (%s) up to %s (%s): a search of about %d step(s)", len(commits), good.Short(), input.Quote(good.Subject),
		bad.Short(), bad.Subject, int(math.Ceil(math.Log2(float64(len(commits))))))

	step := func(ctx context.Context, c bisect.Commit) (bisect.Result, error) {
		return bisectStep(ctx, o, bo, c)
	}
	out, err := bisect.Run(ctx, bisect.Options{
		Good: good, Commits: commits, Step: step, Log: rep.Log, Resume: bo.Resume, Confirm: true,
		Header: map[string]string{"tree": tree, "scenario": o.Scenario, "series": o.Build.Series, "profile": o.Build.Profile},
		OnStep: func(e bisect.Entry) { say("bisect: %s", stepLine(e)) },
	})
	rep.Outcome = out
	if out != nil && out.FirstBad != nil {
		g, _ := out.Result(out.LastGood.Hash)
		b, _ := out.Result(out.FirstBad.Hash)
		rep.Flips = report.Flips(stepReport(g.Out), stepReport(b.Out))
	}
	if werr := writeJSON(filepath.Join(o.Out, "bisect.json"), rep); werr != nil {
		err = errors.Join(err, werr)
	}
	return rep, err
}

// bisectStep builds and tests one commit.
func bisectStep(ctx context.Context, o Options, bo BisectOptions, c bisect.Commit) (bisect.Result, error) {
	dir := filepath.Join(o.Out, "steps", c.Short())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return bisect.Result{}, err
	}
	res := bisect.Result{Out: dir}
	b := o.Build
	b.Base, b.LogFile, b.Progress = c.Hash, filepath.Join(dir, "build.log"), o.Progress
	os.Remove(b.LogFile)
	k, built, err := build.Kernel(ctx, b)
	if built != nil {
		res.BuildS, res.CacheHit = built.Seconds, built.CacheHit
	}
	var (
		be *kbuild.BuildError
		ce *series.ConflictError
	)
	switch {
	case ctx.Err() != nil:
		return res, ctx.Err()
	case errors.As(err, &be):
		first := be.First
		if first == "" {
			first = be.Err.Error()
		}
		res.Verdict, res.Reason = bo.BuildFailure, "build failed: "+oneLine(first)
		return res, nil
	case errors.As(err, &ce):
		res.Verdict, res.Reason = bisect.Skip, "series does not apply: "+oneLine(ce.Error())
		return res, nil
	case err != nil:
		// Config refused at this commit, and the like: it cannot be judged.
		res.Verdict, res.Reason = bisect.Skip, "no kernel: "+oneLine(err.Error())
		return res, nil
	}
	one := o
	one.Build, one.Kernel, one.Modules, one.Out = build.Options{}, k.Image, k.Modules, dir
	rep, err := runOne(ctx, one)
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	if rep != nil {
		// The step's report says what was built, as a run --tree's would.
		rep.Build = built
		if werr := writeOutputs(rep, dir); werr != nil && err == nil {
			err = werr
		}
	}
	res.Verdict, res.Reason, res.Failed = classify(rep, err, bo.BootFailure)
	return res, nil
}

// classify maps a run to a bisect verdict: a failed scenario or a kernel
// splat is bad, all passed is good; a run that could not be done counts
// as bootFailure; unsupported scenarios (the kernel lacks what they
// check) are neither good nor bad, so skip.
func classify(rep *report.Report, err error, bootFailure bisect.Verdict) (bisect.Verdict, string, []string) {
	if err != nil || rep == nil {
		msg := "no report"
		if err != nil {
			msg = oneLine(err.Error())
		}
		return bootFailure, "boot failed: " + msg, nil
	}
	var failed, ids, errored, unsupported []string
	for _, s := range rep.Scenarios {
		switch s.Verdict {
		case report.Pass:
		case report.Fail:
			var checks []string
			for _, c := range s.FailedChecks {
				checks = append(checks, c.Name)
			}
			failed = append(failed, s.ID()+": "+strings.Join(checks, ", "))
			ids = append(ids, s.ID())
		case report.Unsupported:
			unsupported = append(unsupported, s.ID())
		default:
			errored = append(errored, s.ID()+": "+oneLine(s.Reason))
		}
	}
	switch {
	case len(failed) > 0:
		return bisect.Bad, "failed: " + strings.Join(ids, ", "), failed
	case len(rep.Splats) > 0:
		return bisect.Bad, "kernel " + rep.Splats[0].Kind + ": " + text.FirstLine(rep.Splats[0].Text), nil
	case len(errored) > 0:
		return bootFailure, "scenario error: " + errored[0], nil
	case len(unsupported) > 0:
		return bisect.Skip, "unsupported: " + strings.Join(unsupported, ", "), nil
	}
	return bisect.Good, fmt.Sprintf("passed: %d scenarios", len(rep.Scenarios)), nil
}

// stepLine is one step for the terminal.
func stepLine(e bisect.Entry) string {
	build := fmt.Sprintf("built in %.0fs", e.BuildS)
	if e.CacheHit {
		build = "cache hit"
	} else if e.BuildS == 0 {
		build = "not built"
	}
	what := fmt.Sprintf("step %d", e.Step)
	if e.Confirm {
		what += " (checks an end)"
	}
	return fmt.Sprintf("%s: %s %s: %s, %s in %.0fs: %s", what, e.Commit.Short(), input.Quote(e.Subject), build, e.Verdict, e.Seconds, e.Reason)
}

// Print writes the answer for people.
func (r *BisectReport) Print(w io.Writer) {
	out := r.Outcome
	if out == nil {
		return
	}
	fmt.Fprintf(w, "bisect: %d commits, %d steps", r.Commits, out.Steps)
	if out.Confirms > 0 {
		fmt.Fprintf(w, " and %d to check the ends", out.Confirms)
	}
	if out.Resumed > 0 {
		fmt.Fprintf(w, " (%d from the log)", out.Resumed)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tCOMMIT\tSUBJECT\tBUILD\tVERDICT\tREASON")
	for _, e := range out.Entries {
		build := fmt.Sprintf("%.0fs", e.BuildS)
		if e.CacheHit {
			build = "cache hit"
		}
		step := fmt.Sprint(e.Step)
		if e.Confirm {
			step += " (end)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", step, e.Commit.Short(), trunc(input.Quote(e.Subject), 50), build, e.Verdict, trunc(e.Reason, 80))
	}
	tw.Flush()
	if out.FirstBad == nil {
		fmt.Fprintf(w, "the first bad commit could be any of (the others were skipped):\n")
		for _, c := range out.Candidates {
			fmt.Fprintf(w, "  %s %s\n", c.Hash, input.Quote(c.Subject))
		}
		return
	}
	fmt.Fprintf(w, "first bad commit: %s %s\n", out.FirstBad.Hash, input.Quote(out.FirstBad.Subject))
	fmt.Fprintf(w, "last good commit: %s %s\n", out.LastGood.Hash, input.Quote(out.LastGood.Subject))
	if len(r.Flips) > 0 {
		fmt.Fprintln(w)
		report.FlipTable(w, out.LastGood.Short(), out.FirstBad.Short(), r.Flips)
	}
}

func commitOf(ctx context.Context, tree, rev string) (bisect.Commit, error) {
	out, err := exec.CommandContext(ctx, "git", "-C", tree, "log", "-1", "--format=%H%x1f%s", "--end-of-options", rev+"^{commit}", "--").CombinedOutput()
	if err != nil {
		return bisect.Commit{}, fmt.Errorf("%s is not a commit of %s: %s", rev, tree, strings.TrimSpace(string(out)))
	}
	h, s, _ := strings.Cut(strings.TrimSpace(string(out)), "\x1f")
	return bisect.Commit{Hash: h, Subject: s}, nil
}

// firstParents lists good..bad along first parents, oldest first.
func firstParents(ctx context.Context, tree, good, bad string) ([]bisect.Commit, error) {
	out, err := exec.CommandContext(ctx, "git", "-C", tree, "log", "--reverse", "--first-parent", "--format=%H%x1f%s", good+".."+bad, "--").Output()
	if err != nil {
		return nil, fmt.Errorf("list %s..%s in %s: %w", good, bad, tree, err)
	}
	var cs []bisect.Commit
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if h, s, ok := strings.Cut(l, "\x1f"); ok {
			cs = append(cs, bisect.Commit{Hash: h, Subject: s})
		}
	}
	return cs, nil
}

// stepReport reads a step's report.json, nil when there is none.
func stepReport(dir string) *report.Report {
	if dir == "" {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		return nil
	}
	var r report.Report
	if json.Unmarshal(b, &r) != nil {
		return nil
	}
	return &r
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func trunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}
