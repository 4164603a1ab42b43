package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/kernel-harness/harness/harness/text"
)

// PatchTable is --each-patch: the scenarios' verdicts after the first 1,
// 2, ... patches of the series.
type PatchTable struct {
	Series string `json:"series"`
	// Scenarios are the rows, case IDs in plan order.
	Scenarios []string `json:"scenarios"`
	Prefixes  []Prefix `json:"prefixes"`
}

// Prefix is the tree with the first Patches patches.
type Prefix struct {
	Patches int    `json:"patches"`
	Subject string `json:"subject"` // of the last patch of the prefix
	// Build is "built", "cache hit", "build failed: <first error>", or
	// "does not apply: ..." / "error: ..." when no kernel was made.
	Build    string  `json:"build"`
	BuildS   float64 `json:"build_s,omitempty"`
	CacheHit bool    `json:"cache_hit,omitempty"`
	// Verdict is the run's verdict, empty when there was no kernel to boot.
	Verdict string `json:"verdict,omitempty"`
	// Verdicts maps case IDs to their verdicts.
	Verdicts map[string]string `json:"verdicts,omitempty"`
	Error    string            `json:"error,omitempty"`
}

// Built says whether the prefix gave a kernel.
func (p Prefix) Built() bool { return p.Build == "built" || p.Build == "cache hit" }

// AddRow adds case IDs not yet in the table, keeping the order of first
// appearance.
func (t *PatchTable) AddRow(ids ...string) {
	for _, id := range ids {
		found := false
		for _, s := range t.Scenarios {
			if s == id {
				found = true
				break
			}
		}
		if !found {
			t.Scenarios = append(t.Scenarios, id)
		}
	}
}

// Table prints the prefixes, then the scenarios by prefix, for people.
func (t *PatchTable) Table(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PATCHES\tLAST PATCH\tBUILD\tVERDICT")
	for _, p := range t.Prefixes {
		build := p.Build
		if p.Build == "built" {
			build = fmt.Sprintf("built in %.0fs", p.BuildS)
		}
		v := p.Verdict
		if v == "" {
			v = "-"
		}
		fmt.Fprintf(tw, "1-%d\t%s\t%s\t%s\n", p.Patches, text.Trunc(p.Subject, 60), text.OneLine(build), v)
	}
	tw.Flush()
	fmt.Fprintln(w)
	head := []string{"SCENARIO"}
	for _, p := range t.Prefixes {
		head = append(head, fmt.Sprintf("1-%d", p.Patches))
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, id := range t.Scenarios {
		row := []string{id}
		for _, p := range t.Prefixes {
			cell := p.Verdicts[id]
			switch {
			case !p.Built():
				cell = "no kernel"
			case cell == "":
				cell = "-"
			case cell == Fail:
				cell = "FAIL"
			}
			row = append(row, cell)
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
	for _, p := range t.Prefixes {
		if p.Error != "" {
			fmt.Fprintf(w, "1-%d: %s\n", p.Patches, text.OneLine(p.Error))
		}
	}
}

// PrefixOf sums up the run of the series' first k patches: r its report
// (nil when there is none), err how it ended, compile or conflict why it
// gave no kernel (the compiler's first error, the patch that does not
// apply).
func PrefixOf(k int, subject string, r *Report, err error, compile, conflict string) Prefix {
	p := Prefix{Patches: k, Subject: subject}
	if r != nil && r.Build != nil {
		p.BuildS, p.CacheHit = r.Build.Seconds, r.Build.CacheHit
	}
	switch {
	case compile != "":
		p.Build, p.Error = "build failed: "+compile, err.Error()
		return p
	case conflict != "":
		p.Build, p.Error = "does not apply: "+conflict, conflict
		return p
	case r == nil || r.Kernel.Path == "":
		p.Build = "error"
		if err != nil {
			p.Build, p.Error = "error: "+err.Error(), err.Error()
		}
		return p
	}
	p.Build = "built"
	if p.CacheHit {
		p.Build = "cache hit"
	}
	p.Verdict = r.Verdict
	if err != nil {
		p.Error = err.Error()
	}
	p.Verdicts = map[string]string{}
	for _, sc := range r.Scenarios {
		p.Verdicts[sc.ID()] = sc.Verdict
	}
	return p
}
