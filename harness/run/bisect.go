package run

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/kernel-harness/harness/harness/bisect"
	"github.com/kernel-harness/harness/harness/build"
	"github.com/kernel-harness/harness/harness/input"
	"github.com/kernel-harness/harness/harness/progress"
	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/series"
	"github.com/kernel-harness/harness/harness/text"
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

// bisectPlan is what CheckBisect adds to a plan: the range, resolved.
type bisectPlan struct {
	BisectOptions
	good, bad bisect.Commit
	commits   []bisect.Commit
}

// CheckBisect is Check for harness bisect: the options, and the range
// read from the tree, before any folder is made.
func CheckBisect(ctx context.Context, bo BisectOptions) (*Plan, error) {
	o := bo.Run
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
	tree, err := filepath.Abs(o.Build.Tree)
	if err != nil {
		return nil, err
	}
	o.Build.Tree = tree
	p, err := Check(ctx, o)
	if err != nil {
		return nil, err
	}
	bp := &bisectPlan{BisectOptions: bo}
	g, b, cs, err := series.Range(ctx, tree, bo.Good, bo.Bad)
	if err != nil {
		return nil, err
	}
	bp.good, bp.bad = bisect.Commit(g), bisect.Commit(b)
	for _, c := range cs {
		bp.commits = append(bp.commits, bisect.Commit(c))
	}
	p.bisect = bp
	return p, nil
}

// Bisect finds the first commit between Good and Bad at which the
// scenarios fail. Each step builds the commit (plus the series) in the
// tree's one O= folder so that only what changed compiles, and from the
// artifact cache when it was built before; then boots it and runs the
// scenarios, in steps/<commit>/ under the output folder.
func Bisect(ctx context.Context, p *Plan) (*report.BisectReport, error) {
	bp, say := p.bisect, progress.Say(p.Progress)
	if err := os.MkdirAll(p.Out, 0o755); err != nil {
		return nil, err
	}
	good, bad, commits := bp.good, bp.bad, bp.commits
	rep := &report.BisectReport{Tree: p.Build.Tree, Good: good, Bad: bad, Commits: len(commits), Scenario: p.Scenario, Series: p.Build.Series,
		Log: filepath.Join(p.Out, "bisect.log")}
	say("bisect: %d commits after %s (%s) up to %s (%s): a search of about %d step(s)", len(commits), good.Short(), input.Quote(good.Subject),
		bad.Short(), bad.Subject, int(math.Ceil(math.Log2(float64(len(commits))))))

	step := func(ctx context.Context, c bisect.Commit) (bisect.Result, error) {
		return bisectStep(ctx, p, c)
	}
	out, err := bisect.Run(ctx, bisect.Options{
		Good: good, Commits: commits, Step: step, Log: rep.Log, Resume: bp.Resume, Confirm: true,
		Header: map[string]string{"tree": p.Build.Tree, "scenario": p.Scenario, "series": p.Build.Series, "profile": p.Build.Profile},
		OnStep: func(e bisect.Entry) { say("bisect: %s", report.StepLine(e)) },
	})
	rep.Outcome = out
	if out != nil && out.FirstBad != nil {
		g, _ := out.Result(out.LastGood.Hash)
		b, _ := out.Result(out.FirstBad.Hash)
		rep.Flips = report.Flips(report.ReadStep(g.Out), report.ReadStep(b.Out))
	}
	if werr := rep.WriteJSON(filepath.Join(p.Out, "bisect.json")); werr != nil {
		err = errors.Join(err, werr)
	}
	return rep, err
}

// bisectStep builds and tests one commit.
func bisectStep(ctx context.Context, p *Plan, c bisect.Commit) (bisect.Result, error) {
	bo := p.bisect
	dir := filepath.Join(p.Out, "steps", c.Short())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return bisect.Result{}, err
	}
	res := bisect.Result{Out: dir}
	b := p.Build
	b.Base, b.LogFile, b.Progress = c.Hash, filepath.Join(dir, "build.log"), p.Progress
	os.Remove(b.LogFile)
	k, built, err := build.Kernel(ctx, b)
	if built != nil {
		res.BuildS, res.CacheHit = built.Seconds, built.CacheHit
	}
	compile, conflict := build.Failed(err)
	switch {
	case ctx.Err() != nil:
		return res, ctx.Err()
	case compile != "":
		res.Verdict, res.Reason = bo.BuildFailure, "build failed: "+text.OneLine(compile)
		return res, nil
	case conflict != "":
		res.Verdict, res.Reason = bisect.Skip, "series does not apply: "+text.OneLine(conflict)
		return res, nil
	case err != nil:
		// Config refused at this commit, and the like: it cannot be judged.
		res.Verdict, res.Reason = bisect.Skip, "no kernel: "+text.OneLine(err.Error())
		return res, nil
	}
	// The step's report says what was built, as a run --tree's would.
	one := p.with(func(c *Plan) {
		c.Build, c.Kernel, c.Modules, c.Out, c.built = build.Options{}, k.Image, k.Modules, dir, built
	})
	rep, _, err := runOne(ctx, one)
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	res.Verdict, res.Reason, res.Failed = report.BisectVerdict(rep, err, bo.BootFailure)
	return res, nil
}
