package report

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/jstemmer/go-junit-report/v2/junit"
)

// Flaky is the verdict, over the runs of --repeat, of a scenario that
// passed in some runs and failed (or broke) in others.
const Flaky = "flaky"

// Repeat is --repeat: every scenario run several times, in one boot or in
// a fresh boot each time.
type Repeat struct {
	Runs      int              `json:"runs"`
	Boots     bool             `json:"fresh_boots"` // --repeat-boot
	Scenarios []RepeatScenario `json:"scenarios"`
}

// RepeatScenario is one scenario on one family in one mode over all runs.
type RepeatScenario struct {
	Name   string `json:"name"`
	Family string `json:"family"`
	Path   string `json:"path"`
	Mode   string `json:"mode"`
	// Verdict is pass, fail, flaky (passed and failed), unsupported or error.
	Verdict     string  `json:"verdict"`
	Runs        int     `json:"runs"`
	Passes      int     `json:"passes"`
	Fails       int     `json:"fails"`
	Errors      int     `json:"errors"`
	Unsupported int     `json:"unsupported"`
	PassRate    float64 `json:"pass_rate"`
	// The spreads are over the runs that measured: pass or fail.
	EpollinUser  Spread `json:"epollin_user"`
	PartialReads Spread `json:"partial_reads"`
	DurationS    Spread `json:"duration_s"`
	// FailedChecks counts, per check name, the runs where it failed.
	FailedChecks map[string]int `json:"failed_checks,omitempty"`
	// FailedRuns lists the run numbers that did not pass.
	FailedRuns []int `json:"failed_runs,omitempty"`
}

// ID is name/family/mode.
func (s RepeatScenario) ID() string { return s.Name + "/" + s.Family + "/" + s.Mode }

// Spread is the minimum, median and maximum of a figure over runs; N is
// how many runs it is over.
type Spread struct {
	N      int     `json:"n"`
	Min    float64 `json:"min"`
	Median float64 `json:"median"`
	Max    float64 `json:"max"`
}

// NewSpread sums up values; the median of an even count is the mean of
// the middle two.
func NewSpread(values []float64) Spread {
	if len(values) == 0 {
		return Spread{}
	}
	v := append([]float64(nil), values...)
	sort.Float64s(v)
	n := len(v)
	med := v[n/2]
	if n%2 == 0 {
		med = (v[n/2-1] + v[n/2]) / 2
	}
	return Spread{N: n, Min: v[0], Median: med, Max: v[n-1]}
}

// String is "min/median/max", or "-" when nothing was measured.
func (s Spread) String() string {
	if s.N == 0 {
		return "-"
	}
	return num(s.Min) + "/" + num(s.Median) + "/" + num(s.Max)
}

func num(f float64) string {
	if f == float64(int64(f)) {
		return fmt.Sprint(int64(f))
	}
	return fmt.Sprintf("%.2f", f)
}

// Aggregate sums up scenarios of several runs (Run > 0) per case, in the
// order cases first appear. It returns nil when no scenario is a
// repetition.
func Aggregate(scenarios []Scenario, boots bool) *Repeat {
	type acc struct {
		RepeatScenario
		epollin, partial, dur []float64
	}
	var order []string
	by := map[string]*acc{}
	runs := map[int]bool{}
	for _, s := range scenarios {
		if s.Run == 0 {
			continue
		}
		runs[s.Run] = true
		a := by[s.CaseID()]
		if a == nil {
			a = &acc{RepeatScenario: RepeatScenario{Name: s.Name, Family: s.Family, Path: s.Path, Mode: s.Mode}}
			by[s.CaseID()] = a
			order = append(order, s.CaseID())
		}
		a.Runs++
		switch s.Verdict {
		case Pass:
			a.Passes++
		case Fail:
			a.Fails++
		case Unsupported:
			a.Unsupported++
		default:
			a.Errors++
		}
		if s.Verdict != Pass && s.Verdict != Unsupported {
			a.FailedRuns = append(a.FailedRuns, s.Run)
		}
		for _, c := range s.Failed() {
			if a.FailedChecks == nil {
				a.FailedChecks = map[string]int{}
			}
			a.FailedChecks[c.Name]++
		}
		if s.Verdict == Pass || s.Verdict == Fail {
			a.epollin = append(a.epollin, float64(s.EpollinUser))
			a.partial = append(a.partial, float64(s.PartialReads))
			a.dur = append(a.dur, s.DurationS)
		}
	}
	if len(order) == 0 {
		return nil
	}
	r := &Repeat{Runs: len(runs), Boots: boots}
	for _, id := range order {
		a := by[id]
		s := a.RepeatScenario
		s.PassRate = float64(s.Passes) / float64(s.Runs)
		s.EpollinUser, s.PartialReads, s.DurationS = NewSpread(a.epollin), NewSpread(a.partial), NewSpread(a.dur)
		s.Verdict = repeatVerdict(s)
		r.Scenarios = append(r.Scenarios, s)
	}
	return r
}

// repeatVerdict: a scenario that passed and also failed or broke is
// flaky; otherwise the worst of its runs.
func repeatVerdict(s RepeatScenario) string {
	switch {
	case s.Passes > 0 && s.Fails+s.Errors > 0:
		return Flaky
	case s.Fails > 0:
		return Fail
	case s.Errors > 0:
		return Error
	case s.Passes > 0:
		return Pass
	default:
		return Unsupported
	}
}

// Flaky lists the IDs of the flaky scenarios.
func (r *Repeat) Flaky() []string {
	var out []string
	for _, s := range r.Scenarios {
		if s.Verdict == Flaky {
			out = append(out, s.ID())
		}
	}
	return out
}

// Table writes one line per scenario over the runs.
func (r *Repeat) Table(w io.Writer) {
	how := "in one boot"
	if r.Boots {
		how = "in a fresh boot each"
	}
	fmt.Fprintf(w, "%d runs %s; figures are min/median/max over the runs that measured\n", r.Runs, how)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tPATH\tFAMILY\tMODE\tVERDICT\tPASSED\tEPOLLIN\tPARTIAL\tSECONDS")
	for _, s := range r.Scenarios {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d/%d\t%s\t%s\t%s\n", s.Name, s.Path, s.Family, s.Mode, s.Verdict,
			s.Passes, s.Runs, s.EpollinUser, s.PartialReads, seconds2(s.DurationS))
	}
	tw.Flush()
	for _, s := range r.Scenarios {
		if s.Verdict == Flaky {
			fmt.Fprintf(w, "FLAKY %s: passed %d of %d runs; %s\n", s.ID(), s.Passes, s.Runs, s.failures())
		}
	}
}

func seconds2(s Spread) string {
	if s.N == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f/%.2f/%.2f", s.Min, s.Median, s.Max)
}

// failures says which runs failed and which checks, for people.
func (s RepeatScenario) failures() string {
	runs := make([]string, len(s.FailedRuns))
	for i, n := range s.FailedRuns {
		runs[i] = fmt.Sprint(n)
	}
	msg := "failed in run " + strings.Join(runs, ", ")
	var names []string
	for n := range s.FailedChecks {
		names = append(names, n)
	}
	sort.Strings(names)
	for i, n := range names {
		names[i] = fmt.Sprintf("%s (%d)", n, s.FailedChecks[n])
	}
	if len(names) > 0 {
		msg += ": " + strings.Join(names, ", ")
	}
	return msg
}

// testcase is one JUnit testcase for a scenario over all runs: a flaky
// one is a failure whose message starts with "flaky", so that CI shows it
// red and says why.
func (s RepeatScenario) testcase() junit.Testcase {
	tc := junit.Testcase{
		Classname: s.Path + "." + s.Family,
		Name:      s.Name + "/" + s.Mode,
		Time:      seconds(s.DurationS.Median * float64(s.DurationS.N)),
	}
	out := fmt.Sprintf("passed %d of %d runs; EPOLLIN %s, partial reads %s (min/median/max)", s.Passes, s.Runs, s.EpollinUser, s.PartialReads)
	switch s.Verdict {
	case Pass:
		tc.SystemOut = &junit.Output{Data: out}
	case Flaky, Fail:
		tc.Failure = &junit.Result{Type: s.Verdict, Message: s.Verdict + ": " + out, Data: s.failures()}
	case Unsupported:
		tc.Skipped = &junit.Result{Message: fmt.Sprintf("unsupported in %d of %d runs", s.Unsupported, s.Runs)}
	default:
		tc.Error = &junit.Result{Message: "error: " + out, Data: s.failures()}
	}
	return tc
}
