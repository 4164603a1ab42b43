package ghactions

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"syscall"

	"github.com/kernel-harness/harness/harness/input"
	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/text"
)

// verdictOrder is the order of the verdict table: what needs looking at first.
var verdictOrder = []string{report.Fail, report.Error, report.Pass, report.Unsupported}

// Summary writes the run as markdown for the job's step summary: the
// verdict, the scenarios by verdict, what failed and why, the base
// against the series with --baseline, and every scenario folded away.
// heading names the job (a shard, a profile) among a matrix's.
func Summary(w io.Writer, rep *report.Report, heading string) error {
	var b bytes.Buffer
	title := "harness: " + rep.Verdict
	if heading != "" {
		title += " (" + heading + ")"
	}
	fmt.Fprintf(&b, "### %s\n\n", md(title))
	if h := rep.Headline(); h != "" {
		fmt.Fprintf(&b, "**%s**\n\n", md(h))
	}
	k := rep.Kernel
	if k.Release != "" {
		accel := k.Accel
		if accel == "" {
			accel = "no accelerator"
		}
		fmt.Fprintf(&b, "Kernel %s (%s, %s)", code(k.Release), md(k.Source), md(accel))
		if rep.Build != nil && rep.Build.Key != "" {
			hit := "built"
			if rep.Build.CacheHit {
				hit = "cache hit"
			}
			fmt.Fprintf(&b, ", build %s (%s, %s profile)", code(rep.Build.Key), hit, md(rep.Build.Profile))
		}
		fmt.Fprintf(&b, "; %d scenarios in %.1fs.\n\n", len(rep.Scenarios), rep.DurationS)
	}
	if rep.Error != "" {
		fmt.Fprintf(&b, "**The run could not be done:** %s\n\n", md(rep.Error))
	}

	count := map[string]int{}
	for _, s := range rep.Scenarios {
		count[s.Verdict]++
	}
	if len(rep.Scenarios) > 0 {
		b.WriteString("| Verdict | Scenarios |\n|:--|--:|\n")
		for _, v := range verdictOrder {
			if count[v] > 0 {
				fmt.Fprintf(&b, "| %s | %d |\n", v, count[v])
			}
		}
		var other []string // verdicts nobody should have set, still counted
		for v := range count {
			if !known(v) {
				other = append(other, v)
			}
		}
		sort.Strings(other)
		for _, v := range other {
			fmt.Fprintf(&b, "| %s | %d |\n", md(v), count[v])
		}
		b.WriteString("\n")
	}

	failedTable(&b, rep)
	if len(rep.Splats) > 0 {
		b.WriteString("#### Kernel reports\n\n")
		for _, sp := range rep.Splats {
			during := ""
			if sp.Scenario != "" {
				during = " during " + code(sp.Scenario)
			}
			fmt.Fprintf(&b, "- **%s**%s: %s\n", md(sp.Kind), during, code(text.FirstLine(sp.Text)))
		}
		b.WriteString("\n")
	}
	reasons(&b, rep, report.Error, "Could not run")
	reasons(&b, rep, report.Unsupported, "Unsupported")
	if rep.Repeat != nil && rep.Repeat.Runs > 1 {
		flaky := rep.Repeat.Flaky()
		fmt.Fprintf(&b, "%d runs of every scenario; %d flaky", rep.Repeat.Runs, len(flaky))
		for i, id := range flaky {
			sep := ": "
			if i > 0 {
				sep = ", "
			}
			b.WriteString(sep + code(id))
		}
		b.WriteString(".\n\n")
	}
	if rep.Baseline != nil {
		comparison(&b, rep.Baseline)
	}
	if rep.EachPatch != nil {
		b.WriteString("#### After each patch\n\n```text\n")
		rep.EachPatch.Table(&b)
		b.WriteString("```\n\n")
	}
	if len(rep.Scenarios) > 0 {
		allScenarios(&b, rep)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// AppendSummary appends the summary to the file GitHub names in
// $GITHUB_STEP_SUMMARY.
func AppendSummary(path string, rep *report.Report, heading string) error {
	// A FIFO or a device there must not hang the end of the run.
	if _, err := os.Stat(path); err == nil {
		if err := input.Regular(path); err != nil {
			return fmt.Errorf("step summary: %w", err)
		}
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND|syscall.O_NONBLOCK, 0o644)
	if err != nil {
		return fmt.Errorf("step summary: %w", err)
	}
	if err := Summary(f, rep, heading); err != nil {
		f.Close()
		return fmt.Errorf("step summary: %w", err)
	}
	return f.Close()
}

func known(v string) bool {
	for _, k := range verdictOrder {
		if v == k {
			return true
		}
	}
	return false
}

func failedTable(b *bytes.Buffer, rep *report.Report) {
	var rows []string
	for _, s := range rep.Scenarios {
		if s.Verdict != report.Fail {
			continue
		}
		failed := failedChecks(s)
		for _, c := range failed {
			rows = append(rows, fmt.Sprintf("| %s | %s | %s | %s | %s |", code(s.ID()), md(c.Name), md(c.Want), md(c.Got), md(c.Detail)))
		}
		if len(failed) == 0 {
			why := s.Reason
			if why == "" && len(s.Splats) > 0 {
				why = "the kernel reported a splat while it ran"
			}
			rows = append(rows, fmt.Sprintf("| %s | | | | %s |", code(s.ID()), md(why)))
		}
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("#### Failed\n\n| Scenario | Check | Want | Got | Detail |\n|:--|:--|:--|:--|:--|\n")
	b.WriteString(strings.Join(rows, "\n") + "\n\n")
}

// reasons lists the scenarios of one verdict by reason, as the terminal
// summary does: a run that died takes every scenario with it.
func reasons(b *bytes.Buffer, rep *report.Report, verdict, heading string) {
	n := map[string]int{}
	var order []string
	for _, s := range rep.Scenarios {
		if s.Verdict != verdict {
			continue
		}
		if n[s.Reason] == 0 {
			order = append(order, s.Reason)
		}
		n[s.Reason]++
	}
	if len(order) == 0 {
		return
	}
	fmt.Fprintf(b, "#### %s\n\n", heading)
	for _, r := range order {
		noun := "scenarios"
		if n[r] == 1 {
			noun = "scenario"
		}
		why := r
		if why == "" {
			why = "no reason given"
		}
		fmt.Fprintf(b, "- %d %s: %s\n", n[r], noun, md(why))
	}
	b.WriteString("\n")
}

func comparison(b *bytes.Buffer, c *report.Comparison) {
	fmt.Fprintf(b, "#### Base against the series\n\nBase %s (stock kernel, baseline mode, verdict %s) against base+series %s (autolowat mode, verdict %s).\n\n",
		code(c.BaseRelease), md(c.BaseVerdict), code(c.PatchedRelease), md(c.PatchedVerdict))
	if len(c.Rows) == 0 {
		b.WriteString("No scenario ran on both.\n\n")
		return
	}
	b.WriteString("| Scenario | Family | Path | Frames | Base EPOLLIN/frame | Base partial reads | Base verdict | Series EPOLLIN/frame | Series partial reads | rcvlowat changes | Series verdict |\n")
	b.WriteString("|:--|:--|:--|--:|--:|--:|:--|--:|--:|--:|:--|\n")
	for _, r := range c.Rows {
		fmt.Fprintf(b, "| %s | %s | %s | %d | %.2f | %d | %s | %.2f | %d | %d | %s |\n",
			code(r.Name), md(r.Family), md(r.Path), r.Frames,
			r.Base.EpollinPerFrame, r.Base.PartialReads, md(r.Base.Verdict),
			r.Series.EpollinPerFrame, r.Series.PartialReads, r.Series.RcvlowatChanges, md(r.Series.Verdict))
	}
	b.WriteString("\n")
}

func allScenarios(b *bytes.Buffer, rep *report.Report) {
	fmt.Fprintf(b, "<details><summary>All %d scenarios</summary>\n\n", len(rep.Scenarios))
	b.WriteString("| Scenario | Path | Family | Mode | Verdict | EPOLLIN user/kernel | Partial reads | Frames |\n")
	b.WriteString("|:--|:--|:--|:--|:--|--:|--:|--:|\n")
	for _, s := range rep.Scenarios {
		epollin, partial, frames := "-", "-", "-"
		// An unsupported scenario never ran, and a selftest measures none
		// of these; zeros would read as measurements.
		if s.Verdict != report.Unsupported && !s.Selftest() {
			epollin = fmt.Sprintf("%d/%d", s.EpollinUser, s.EpollinKernel)
			partial, frames = fmt.Sprint(s.PartialReads), fmt.Sprint(s.Frames)
		}
		name := s.Name
		if s.Run > 0 {
			name = fmt.Sprintf("%s#%d", s.Name, s.Run)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n",
			code(name), md(s.Path), md(s.Family), md(s.Mode), md(s.Verdict), epollin, partial, frames)
	}
	b.WriteString("\n</details>\n\n")
}

// md makes text safe in a markdown table cell: one line, no pipes, no
// HTML. Kernel and check text is not ours to trust.
var mdEscaper = strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;", "\r", "", "\n", " ", "`", "'")

func md(s string) string { return strings.TrimSpace(mdEscaper.Replace(s)) }

// code is s as inline code, in a table cell too.
func code(s string) string {
	s = strings.NewReplacer("`", "'", "\r", "", "\n", " ", "|", `\|`).Replace(strings.TrimSpace(s))
	if s == "" {
		return ""
	}
	return "`" + s + "`"
}
