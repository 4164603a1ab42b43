package run

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/kernel-harness/harness/harness/analysis"
	"github.com/kernel-harness/harness/harness/features"
	"github.com/kernel-harness/harness/harness/image"
	"github.com/kernel-harness/harness/harness/kernel"
	"github.com/kernel-harness/harness/harness/progress"
	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/scenario"
	"github.com/kernel-harness/harness/harness/userbpf"
	"github.com/kernel-harness/harness/harness/wire"
)

// runOne is one boot of the plan's scenarios.
func runOne(ctx context.Context, p *Plan) (*report.Report, []wire.Event, error) {
	s := newStage(p)
	if p.BPF != nil {
		b := *p.BPF // the report's own: the guest's answers go into it
		s.rep.BPF = &b
	}
	if p.ShardNote != "" {
		s.say("%s", p.ShardNote)
	}
	cases := &progress.Cases{Live: s.live, W: p.Progress, N: len(p.Cases)}
	return pipeline(ctx, s, &scenarios{stage: s, plan: scenario.Plan{Cases: p.Cases, StepTimeoutMS: 5000, StallTimeoutMS: int(p.stall().Milliseconds())}, cases: cases})
}

// scenarios is the payload of harness run: the plan's cases, run by the
// agent, decided by the analysis.
type scenarios struct {
	*stage
	plan  scenario.Plan
	cases *progress.Cases
}

func (sc *scenarios) inTree() func(context.Context, string, kernel.Kernel) error {
	if sc.p.BPFSource == "" || sc.p.Build.Tree == "" {
		return nil // a build that needs no worktree may come from the cache
	}
	return func(ctx context.Context, wt string, k kernel.Kernel) (err error) {
		sc.rep.BPF, err = userbpf.CompileSource(ctx, sc.p.BPFSource, wt, k.Image, filepath.Join(sc.p.Out, "bpf"), sc.say)
		return err
	}
}

func (sc *scenarios) files(ctx context.Context, k kernel.Kernel) ([]image.File, error) {
	if sc.p.BPFSource != "" && sc.p.Build.Tree == "" {
		var err error
		if sc.rep.BPF, err = userbpf.CompileSource(ctx, sc.p.BPFSource, "", k.Image, filepath.Join(sc.p.Out, "bpf"), sc.say); err != nil {
			return nil, err
		}
	}
	if k.Modules != "" {
		sc.plan.ModulesList = image.GuestLoadList
	}
	bpf := sc.rep.BPF
	if bpf != nil {
		sc.plan.NoChildState = bpf.NoChildState
		if bpf.NoChildState != "" {
			sc.say("bpf: Fast Open autolowat cases are unsupported: %s", bpf.NoChildState)
		}
	}
	plan, err := planFile(sc.plan)
	if err != nil {
		return nil, err
	}
	files := []image.File{plan}
	if bpf != nil && bpf.Object != "" {
		obj, err := os.ReadFile(bpf.Object)
		if err != nil {
			return nil, err
		}
		files = append(files, image.File{Path: wire.BPFObjectPath, Mode: 0o644, Data: obj})
	}
	return files, nil
}

func (sc *scenarios) running() string { return sc.cases.Running() }

func (sc *scenarios) event(e wire.Event) { sc.cases.Event(e) }

func (sc *scenarios) analyse(evs []wire.Event) error {
	rep := sc.rep
	rep.Features = analysis.Features(evs)
	rep.BPF = analysis.BPF(rep.BPF, evs, rep.Features)
	rcvqTraced := false
	for _, f := range rep.Features {
		if f.Name == features.RcvqEntry {
			rcvqTraced = f.Value
		}
	}
	rep.Scenarios = analysis.Analyze(sc.plan, evs, rcvqTraced)
	rep.Repeat = report.Aggregate(rep.Scenarios, false)
	return nil
}

// stall is the reader's bound for each wake-up after its last step.
func (p *Plan) stall() time.Duration {
	if p.StallTimeout == 0 {
		return DefaultStall
	}
	return p.StallTimeout
}
