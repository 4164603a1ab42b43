package bisect

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// history is n commits after a good one; verdicts by index, default from
// firstBad: good before it, bad from it on.
type history struct {
	commits  []Commit
	firstBad int
	skip     map[int]bool
	calls    []int
}

func newHistory(n, firstBad int, skip ...int) *history {
	h := &history{firstBad: firstBad, skip: map[int]bool{}}
	for i := 0; i < n; i++ {
		h.commits = append(h.commits, Commit{Hash: fmt.Sprintf("%040x", i+1), Subject: fmt.Sprintf("commit %d", i)})
	}
	for _, s := range skip {
		h.skip[s] = true
	}
	return h
}

var goodCommit = Commit{Hash: strings.Repeat("0", 40), Subject: "the good one"}

func (h *history) index(c Commit) int {
	for i, x := range h.commits {
		if x.Hash == c.Hash {
			return i
		}
	}
	return -1 // the good commit
}

func (h *history) step(_ context.Context, c Commit) (Result, error) {
	i := h.index(c)
	h.calls = append(h.calls, i)
	switch {
	case h.skip[i]:
		return Result{Verdict: Skip, Reason: "build failed"}, nil
	case i >= h.firstBad:
		return Result{Verdict: Bad, BuildS: 30, Failed: []string{"x: check"}}, nil
	}
	return Result{Verdict: Good, CacheHit: true}, nil
}

func (h *history) options(t *testing.T) Options {
	return Options{Good: goodCommit, Commits: h.commits, Step: h.step, Log: filepath.Join(t.TempDir(), "bisect.log")}
}

func TestBisectFindsFirstBad(t *testing.T) {
	for _, n := range []int{1, 2, 3, 7, 100, 1000} {
		limit := int(math.Ceil(math.Log2(float64(n))))
		for _, fb := range []int{0, n / 3, n / 2, n - 1} {
			h := newHistory(n, fb)
			out, err := Run(context.Background(), h.options(t))
			if err != nil {
				t.Fatalf("n=%d first bad %d: %v", n, fb, err)
			}
			if out.FirstBad == nil || *out.FirstBad != h.commits[fb] {
				t.Errorf("n=%d: first bad %+v, want %d", n, out.FirstBad, fb)
			}
			wantGood := goodCommit
			if fb > 0 {
				wantGood = h.commits[fb-1]
			}
			if out.LastGood != wantGood {
				t.Errorf("n=%d first bad %d: last good %+v", n, fb, out.LastGood)
			}
			// Binary search: at most ceil(log2 n) steps, never the bad end.
			if out.Steps > limit || len(h.calls) != out.Steps {
				t.Errorf("n=%d first bad %d: %d steps (%d calls), want at most %d", n, fb, out.Steps, len(h.calls), limit)
			}
			for _, c := range h.calls {
				if c == n-1 {
					t.Errorf("n=%d: tested the bad end", n)
				}
			}
		}
	}
}

func TestBisectFirstCommitBad(t *testing.T) {
	h := newHistory(8, 0)
	o := h.options(t)
	o.Confirm = true
	out, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if *out.FirstBad != h.commits[0] || out.LastGood != goodCommit {
		t.Errorf("first bad %+v last good %+v", out.FirstBad, out.LastGood)
	}
	// The good end is the last good and no search step tested it.
	if out.Confirms != 1 || h.calls[len(h.calls)-1] != -1 {
		t.Errorf("confirms %d, calls %v: want the good end tested last", out.Confirms, h.calls)
	}
}

func TestBisectConfirmWrongEnd(t *testing.T) {
	h := newHistory(4, 0)
	h.firstBad = -1 // the "good" end fails too
	o := h.options(t)
	o.Confirm = true
	_, err := Run(context.Background(), o)
	if !errors.Is(err, ErrWrongEnd) || !strings.Contains(err.Error(), "given as good but tests bad") {
		t.Errorf("err %v, want the good end refuted", err)
	}
}

func TestBisectSkips(t *testing.T) {
	// 0..15, first bad 9; the middles 7 and 11 do not build.
	h := newHistory(16, 9, 7, 11)
	out, err := Run(context.Background(), h.options(t))
	if err != nil {
		t.Fatal(err)
	}
	if out.FirstBad == nil || *out.FirstBad != h.commits[9] || out.LastGood != h.commits[8] {
		t.Errorf("first bad %+v last good %+v; calls %v", out.FirstBad, out.LastGood, h.calls)
	}
	if out.Steps > 4+2 {
		t.Errorf("%d steps for 16 commits and 2 skips", out.Steps)
	}
}

func TestBisectSkipHidesFirstBad(t *testing.T) {
	// As git bisect: with 7 and 8 skipped and 6 good, 9 bad, any of
	// 7, 8, 9 may be the first bad.
	h0 := newHistory(16, 9, 7, 8)
	out0, err := Run(context.Background(), h0.options(t))
	if err != nil || out0.FirstBad != nil || len(out0.Candidates) != 3 || out0.LastGood != h0.commits[6] {
		t.Errorf("err %v first bad %+v candidates %+v", err, out0.FirstBad, out0.Candidates)
	}
	// The first bad commit does not build: the answer is "one of these".
	h := newHistory(10, 5, 4, 5)
	out, err := Run(context.Background(), h.options(t))
	if err != nil {
		t.Fatal(err)
	}
	if out.FirstBad != nil || len(out.Candidates) != 3 || out.Candidates[0] != h.commits[4] || out.Candidates[2] != h.commits[6] {
		t.Errorf("first bad %+v, candidates %+v; calls %v", out.FirstBad, out.Candidates, h.calls)
	}
}

func TestBisectAllSkip(t *testing.T) {
	h := newHistory(6, 3, 0, 1, 2, 3, 4)
	out, err := Run(context.Background(), h.options(t))
	if err != nil {
		t.Fatal(err)
	}
	if out.FirstBad != nil || len(out.Candidates) != 6 || out.LastGood != goodCommit || out.Steps != 5 {
		t.Errorf("first bad %+v candidates %d last good %+v steps %d", out.FirstBad, len(out.Candidates), out.LastGood, out.Steps)
	}
}

func TestBisectLogAndResume(t *testing.T) {
	h := newHistory(64, 40)
	o := h.options(t)
	o.Header = map[string]string{"scenario": "ofo"}
	// Stop after three steps, as a killed bisect would.
	stop := errors.New("interrupted")
	full := h.step
	o.Step = func(ctx context.Context, c Commit) (Result, error) {
		if len(h.calls) == 3 {
			return Result{}, stop
		}
		return full(ctx, c)
	}
	if _, err := Run(context.Background(), o); !errors.Is(err, stop) {
		t.Fatalf("err %v", err)
	}
	entries, err := ReadLog(o.Log)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 4 || entries[0].Kind != kindStart || entries[3].Step != 3 || entries[1].Verdict == "" {
		t.Fatalf("log %+v", entries)
	}
	// A crash in the middle of a line leaves half a line: dropped.
	f, _ := os.OpenFile(o.Log, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"kind":"step","step":4,"commit":"`)
	f.Close()

	// Without --resume the log is not overwritten.
	o.Step = full
	if _, err := Run(context.Background(), o); err == nil || !strings.Contains(err.Error(), "--resume") {
		t.Errorf("second run without resume: %v", err)
	}
	// Another bisect's log is refused.
	other := o
	other.Resume, other.Header = true, map[string]string{"scenario": "other"}
	if _, err := Run(context.Background(), other); err == nil || !strings.Contains(err.Error(), "another bisect") {
		t.Errorf("resume with another header: %v", err)
	}

	o.Resume = true
	h.calls = nil
	out, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if *out.FirstBad != h.commits[40] || out.Resumed != 3 {
		t.Errorf("first bad %+v, resumed %d", out.FirstBad, out.Resumed)
	}
	// The resumed steps were not done again, and the total is still a
	// binary search's.
	if out.Steps != 3+len(h.calls) || out.Steps > 6 {
		t.Errorf("%d steps, %d new: %v", out.Steps, len(h.calls), h.calls)
	}
	entries, _ = ReadLog(o.Log)
	if last := entries[len(entries)-1]; last.Step != out.Steps || last.Kind != kindStep {
		t.Errorf("last entry %+v, want step %d", last, out.Steps)
	}
}
