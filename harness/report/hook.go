package report

import (
	"fmt"
	"strings"

	"github.com/kernel-harness/harness/harness/text"
)

// Autolowat is the mode whose cases run the series' hook.
const Autolowat = "autolowat"

// Hook says whether a run exercised the series: whether its autolowat
// cases ran, on a kernel with the hook, or were all unsupported. A green
// run that never reached the hook must not read as the series passing.
type Hook struct {
	// Exercised is true when at least one autolowat case ran.
	Exercised bool `json:"exercised"`
	// Cases counts the autolowat cases that ran; Unsupported those that
	// could not.
	Cases       int `json:"cases"`
	Unsupported int `json:"unsupported"`
	// Errored counts those the run could not carry out.
	Errored int `json:"errored,omitempty"`
	// Paths are the receive paths of the cases that ran, in first-seen
	// order (in-order, ofo, fastopen).
	Paths []string `json:"paths,omitempty"`
	// Why says why the series was not exercised, or why some cases
	// could not run: the first unsupported case's reason.
	Why string `json:"why,omitempty"`
}

// hookOf sums up the autolowat cases; nil when the run had none (a
// selftests run, or a --scenario filter without them).
func hookOf(scenarios []Scenario) *Hook {
	var h Hook
	seen := map[string]bool{}
	found := false
	for _, s := range scenarios {
		if s.Mode != Autolowat {
			continue
		}
		found = true
		switch s.Verdict {
		case Pass, Fail:
		case Unsupported:
			h.Unsupported++
			if h.Why == "" {
				h.Why = s.Reason
			}
			continue
		default:
			h.Errored++
			continue
		}
		h.Cases++
		if !seen[s.Path] {
			seen[s.Path] = true
			h.Paths = append(h.Paths, s.Path)
		}
	}
	if !found {
		return nil
	}
	h.Exercised = h.Cases > 0
	return &h
}

// Headline says in words what the run tested: that the series' hook ran
// and on which paths, or that it did not and why. Empty for a run with no
// autolowat cases.
func (r *Report) Headline() string {
	h := r.Hook
	if h == nil {
		h = hookOf(r.Scenarios) // a report.json written before Hook was
	}
	if h == nil {
		return ""
	}
	if !h.Exercised && h.Unsupported == 0 {
		return fmt.Sprintf("the series was NOT exercised: its %s did not run", cases(h.Errored))
	}
	if !h.Exercised {
		return fmt.Sprintf("the series was NOT exercised: %s (%s unsupported)", firstReason(h.Why), cases(h.Unsupported))
	}
	s := fmt.Sprintf("the series' hook ran in %s (%s)", cases(h.Cases), strings.Join(h.Paths, ", "))
	if h.Unsupported > 0 {
		s += fmt.Sprintf("; %d unsupported: %s", h.Unsupported, firstReason(h.Why))
	}
	return s
}

// firstReason is the first of a list of reasons ("a; b; c"), without
// its parenthesised detail: the headline says what, report.json says all.
func firstReason(why string) string {
	why = text.OneLine(why)
	if i := strings.Index(why, "; "); i >= 0 {
		why = why[:i]
	}
	if i := strings.Index(why, " ("); i > 0 {
		why = why[:i]
	}
	return why
}

func cases(n int) string {
	if n == 1 {
		return "1 autolowat case"
	}
	return fmt.Sprintf("%d autolowat cases", n)
}
