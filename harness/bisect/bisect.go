// Package bisect finds the first bad commit of a range by binary search,
// as git bisect does, with skips: it knows nothing of kernels. A step
// function says whether one commit is good, bad or to be skipped; every
// step is logged as a JSON line, and a bisect can resume from its log.
package bisect

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Verdict is what a step says of a commit.
type Verdict string

const (
	Good Verdict = "good"
	Bad  Verdict = "bad"
	// Skip: the commit cannot be judged (does not build, does not boot,
	// lacks what the test needs); the search goes around it.
	Skip Verdict = "skip"
)

// Commit is one commit of the range.
type Commit struct {
	Hash    string `json:"commit"`
	Subject string `json:"subject"`
}

// Short is the hash's first 12 characters.
func (c Commit) Short() string {
	if len(c.Hash) > 12 {
		return c.Hash[:12]
	}
	return c.Hash
}

// Result is what a step found.
type Result struct {
	Verdict Verdict `json:"verdict"`
	Reason  string  `json:"reason,omitempty"`
	// BuildS is the build time; CacheHit says there was no build.
	BuildS   float64 `json:"build_s"`
	CacheHit bool    `json:"cache_hit"`
	// Seconds is the whole step.
	Seconds float64 `json:"seconds"`
	// Out is where the step left its outputs.
	Out string `json:"out,omitempty"`
	// Failed names what failed: "scenario: check, check".
	Failed []string `json:"failed,omitempty"`
}

// StepFunc tests one commit. An error stops the bisect (cancelled,
// broken setup); a commit that cannot be tested is a Skip, not an error.
type StepFunc func(ctx context.Context, c Commit) (Result, error)

// Options is one bisect.
type Options struct {
	// Good is the known good commit; Commits are those after it up to
	// and including the known bad one, oldest first (git rev-list
	// --reverse good..bad).
	Good    Commit
	Commits []Commit
	Step    StepFunc
	// Log is the bisect.log path; Resume takes the steps already in it.
	Log    string
	Resume bool
	// Confirm tests, after the search, the ends of the answer that no
	// step tested: the good commit, when it is the last good, and the bad
	// one, when it is the first bad. A wrong end is an error.
	Confirm bool
	// Header is more of what identifies the bisect (scenario, series):
	// resuming with another header is refused.
	Header map[string]string
	// OnStep is told of every step, resumed ones included.
	OnStep func(Entry)
}

// Outcome is what the bisect found.
type Outcome struct {
	// FirstBad is the first bad commit, nil when skipped commits hide it:
	// then it is one of Candidates.
	FirstBad   *Commit  `json:"first_bad,omitempty"`
	LastGood   Commit   `json:"last_good"`
	Candidates []Commit `json:"candidates,omitempty"`
	// Steps counts the search's steps, resumed ones included; Confirms
	// the steps that tested the ends.
	Steps    int     `json:"steps"`
	Confirms int     `json:"confirms"`
	Resumed  int     `json:"resumed"`
	Entries  []Entry `json:"entries"`
}

// Result returns the logged result for a commit.
func (o *Outcome) Result(hash string) (Entry, bool) {
	for i := len(o.Entries) - 1; i >= 0; i-- {
		if o.Entries[i].Commit.Hash == hash {
			return o.Entries[i], true
		}
	}
	return Entry{}, false
}

// ErrWrongEnd is returned, wrapped, when Confirm finds the good end bad
// or the bad end good.
var ErrWrongEnd = errors.New("an end of the range is not what it was said to be")

// Run carries out the bisect.
func Run(ctx context.Context, o Options) (*Outcome, error) {
	if len(o.Commits) == 0 {
		return nil, errors.New("bisect: no commits between good and bad")
	}
	if o.Step == nil {
		return nil, errors.New("bisect: no step function")
	}
	l, known, err := openLog(o)
	if err != nil {
		return nil, err
	}
	defer l.Close()

	out := &Outcome{}
	test := func(c Commit, confirm bool) (Verdict, error) {
		if e, ok := known[c.Hash]; ok {
			out.Resumed++
			out.Entries = append(out.Entries, e)
			if o.OnStep != nil {
				o.OnStep(e)
			}
			return e.Verdict, nil
		}
		start := time.Now()
		r, err := o.Step(ctx, c)
		if err != nil {
			return "", fmt.Errorf("bisect: step %s (%s): %w", c.Short(), c.Subject, err)
		}
		switch r.Verdict {
		case Good, Bad, Skip:
		default:
			return "", fmt.Errorf("bisect: step %s: verdict %q is not good, bad or skip", c.Short(), r.Verdict)
		}
		if r.Seconds == 0 {
			r.Seconds = time.Since(start).Seconds()
		}
		e := Entry{Kind: kindStep, Step: len(out.Entries) + 1, Commit: c, Result: r, Confirm: confirm, Time: time.Now().UTC()}
		if err := l.write(e); err != nil {
			return "", err
		}
		known[c.Hash] = e
		out.Entries = append(out.Entries, e)
		if o.OnStep != nil {
			o.OnStep(e)
		}
		return r.Verdict, nil
	}

	// lo is the last known good (-1: o.Good), hi the first known bad.
	lo, hi := -1, len(o.Commits)-1
	skipped := map[int]bool{}
	for hi-lo > 1 {
		m, ok := pick(lo, hi, skipped)
		if !ok {
			break
		}
		v, err := test(o.Commits[m], false)
		if err != nil {
			return out, err
		}
		out.Steps++
		switch v {
		case Good:
			lo = m
		case Bad:
			hi = m
		case Skip:
			skipped[m] = true
		}
	}
	out.LastGood = o.Good
	if lo >= 0 {
		out.LastGood = o.Commits[lo]
	}
	if hi-lo > 1 {
		// Only skipped commits are left between the last good and the
		// first bad: any of them, or the bad one, may be the culprit.
		out.Candidates = append([]Commit(nil), o.Commits[lo+1:hi+1]...)
		return out, nil
	}
	first := o.Commits[hi]
	out.FirstBad = &first
	if !o.Confirm {
		return out, nil
	}
	for _, end := range []struct {
		c    Commit
		want Verdict
	}{{out.LastGood, Good}, {first, Bad}} {
		if _, ok := known[end.c.Hash]; ok {
			continue
		}
		v, err := test(end.c, true)
		if err != nil {
			return out, err
		}
		out.Confirms++
		if v != end.want {
			return out, fmt.Errorf("%w: %s (%s) was given as %s but tests %s", ErrWrongEnd, end.c.Short(), end.c.Subject, end.want, v)
		}
	}
	return out, nil
}

// pick is the commit to test between lo and hi: the middle, else the
// untested one nearest to it, alternating later and earlier, as git
// bisect moves away from skipped commits. ok is false when every commit
// in between is skipped.
func pick(lo, hi int, skipped map[int]bool) (int, bool) {
	mid := (lo + hi) / 2
	for d := 0; mid+d < hi || mid-d > lo; d++ {
		if m := mid + d; m < hi && m > lo && !skipped[m] {
			return m, true
		}
		if m := mid - d; m > lo && m < hi && !skipped[m] {
			return m, true
		}
	}
	return 0, false
}
