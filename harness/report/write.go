package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/jstemmer/go-junit-report/v2/junit"

	"github.com/kernel-harness/harness/harness/text"
	"github.com/kernel-harness/harness/internal/fileutil"
)

// Finish settles the run verdict and each scenario's FailedChecks. A verdict
// of "error" set by the caller is kept: it means the run itself broke.
func (r *Report) Finish() {
	for i := range r.Scenarios {
		s := &r.Scenarios[i]
		if s.FailedChecks == nil {
			s.FailedChecks = failedChecks(s.Checks)
		}
	}
	r.Hook = hookOf(r.Scenarios)
	if r.Verdict == Error {
		return
	}
	var fail, errs bool
	for _, s := range r.Scenarios {
		switch s.Verdict {
		case Pass, Unsupported:
		case Fail:
			fail = true
		default: // error, and any verdict nobody set, must not pass
			errs = true
		}
	}
	switch {
	case fail, len(r.Splats) > 0: // a kernel splat is a finding even if every check held
		r.Verdict = Fail
	case errs:
		r.Verdict = Error
	default:
		r.Verdict = Pass
	}
}

// Exit maps a run verdict to the process exit status: 0 pass, 1 fail, and 2
// for error or anything unrecognised, so a broken report never looks green.
func Exit(verdict string) int {
	switch verdict {
	case Pass:
		return 0
	case Fail:
		return 1
	default:
		return 2
	}
}

// failedChecks returns the checks that did not hold, nil if none.
func failedChecks(cs []Check) []Check {
	var out []Check
	for _, c := range cs {
		if !c.Pass {
			out = append(out, c)
		}
	}
	return out
}

// Failed is the scenario's failed checks, also before Finish has run.
func (s Scenario) Failed() []Check {
	if s.FailedChecks != nil {
		return s.FailedChecks
	}
	return failedChecks(s.Checks)
}

// WriteJSON writes report.json atomically, so readers never see half a file.
func (r *Report) WriteJSON(path string) error {
	c := *r
	if c.Schema == "" {
		c.Schema = Schema
	}
	// Consumers should see [] rather than null for the always-present lists.
	if c.Features == nil {
		c.Features = []Feature{}
	}
	c.Scenarios = append([]Scenario{}, r.Scenarios...)
	for i := range c.Scenarios {
		if c.Scenarios[i].Checks == nil {
			c.Scenarios[i].Checks = []Check{}
		}
	}
	b, err := json.MarshalIndent(&c, "", "  ")
	if err != nil {
		return fmt.Errorf("report: encode json: %w", err)
	}
	return writeFile(path, append(b, '\n'))
}

// JUnit renders the report as one testsuite "harness", one testcase per
// scenario.
func (r *Report) JUnit() junit.Testsuites {
	suite := junit.Testsuite{
		Name: "harness",
		Time: seconds(r.DurationS),
	}
	suite.AddProperty("kernel.release", r.Kernel.Release)
	suite.AddProperty("kernel.accel", r.Kernel.Accel)
	for _, f := range r.Features {
		suite.AddProperty("feature."+f.Name, fmt.Sprint(f.Value))
	}
	if r.Hook != nil {
		suite.AddProperty("series.exercised", fmt.Sprint(r.Hook.Exercised))
		suite.AddProperty("series.headline", r.Headline())
	}
	if r.Repeat != nil {
		// One testcase per scenario over the runs: flaky is a failure.
		suite.AddProperty("repeat.runs", fmt.Sprint(r.Repeat.Runs))
		for _, s := range r.Repeat.Scenarios {
			suite.AddTestcase(s.testcase())
		}
	} else {
		for _, s := range r.Scenarios {
			suite.AddTestcase(testcase(s))
		}
	}
	if r.Verdict == Error && len(r.Scenarios) == 0 {
		suite.AddTestcase(junit.Testcase{
			Name:      "run",
			Classname: "harness",
			Time:      seconds(r.DurationS),
			Error:     &junit.Result{Message: text.OneLine(r.Error), Data: xmlSafe(r.Error)},
		})
	}
	// Run-wide notes have no testcase of their own; keep them visible to CI.
	if out := suiteErr(r); out != "" {
		suite.SystemErr = &junit.Output{Data: xmlSafe(out)}
	}
	var ts junit.Testsuites
	ts.Time = suite.Time
	ts.AddSuite(suite)
	return ts
}

func testcase(s Scenario) junit.Testcase {
	tc := junit.Testcase{
		Classname: s.Path + "." + s.Family,
		Name:      s.Name + "/" + s.Mode,
		Time:      seconds(s.DurationS),
	}
	if s.Selftest() { // classname test_progs, name test/subtest
		tc.Classname, tc.Name = s.Path, s.Name
	}
	if s.Log != "" {
		tc.SystemOut = &junit.Output{Data: xmlSafe(s.Log)}
	}
	switch s.Verdict {
	case Pass:
		if len(s.Splats) > 0 {
			tc.SystemErr = &junit.Output{Data: xmlSafe(quoteSplats(s.Splats))}
		}
	case Fail:
		failed := s.Failed()
		var short, long []string
		for _, c := range failed {
			short = append(short, c.Short())
			long = append(long, c.Long())
		}
		msg := strings.Join(short, "; ")
		if msg == "" {
			msg = s.Reason
		}
		if msg == "" && len(s.Splats) > 0 {
			msg = "kernel splat"
		}
		data := strings.Join(long, "\n")
		if len(s.Splats) > 0 {
			if data != "" {
				data += "\n\n"
			}
			data += quoteSplats(s.Splats)
		}
		tc.Failure = &junit.Result{Message: text.OneLine(msg), Data: xmlSafe(data)}
	case Unsupported:
		tc.Skipped = &junit.Result{Message: text.OneLine(s.Reason), Data: xmlSafe(quoteSplats(s.Splats))}
	default:
		msg := s.Reason
		if s.Verdict != Error {
			msg = fmt.Sprintf("unknown verdict %q: %s", s.Verdict, s.Reason)
		}
		tc.Error = &junit.Result{Message: text.OneLine(msg), Data: xmlSafe(quoteSplats(s.Splats))}
	}
	return tc
}

// suiteErr collects the run error and every kernel splat in full.
func suiteErr(r *Report) string {
	var b strings.Builder
	if r.Error != "" && len(r.Scenarios) > 0 {
		fmt.Fprintf(&b, "run error: %s\n", r.Error)
	}
	for _, sp := range r.Splats {
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "kernel %s", sp.Kind)
		if sp.Scenario != "" {
			fmt.Fprintf(&b, " during %s", sp.Scenario)
		}
		b.WriteString(":\n")
		b.WriteString(quote(sp.Text))
	}
	return b.String()
}

// WriteJUnit writes junit.xml atomically.
func (r *Report) WriteJUnit(path string) error {
	return r.writeJUnit(path, r.JUnit())
}

// writeJUnit writes ts as the junit-10 schema that Jenkins and GitLab
// read it wants: no skipped or disabled counts on testsuites (the
// testcases' skipped elements say it), a timestamp and a hostname on each
// testsuite, and the harness's version and command line as properties.
func (r *Report) writeJUnit(path string, ts junit.Testsuites) error {
	ts.Skipped, ts.Disabled = 0, 0
	started := r.Started
	if started.IsZero() {
		started = time.Now()
	}
	host := r.Host
	if host == "" {
		host, _ = os.Hostname()
	}
	for i := range ts.Suites {
		s := &ts.Suites[i]
		s.Disabled = 0
		s.Timestamp = started.UTC().Format("2006-01-02T15:04:05")
		s.Hostname = host
		if r.HarnessVersion != "" {
			s.AddProperty("harness.version", r.HarnessVersion)
		}
		if len(r.Command) > 0 {
			s.AddProperty("harness.command", strings.Join(r.Command, " "))
		}
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	if err := ts.WriteXML(&buf); err != nil {
		return fmt.Errorf("report: encode junit: %w", err)
	}
	return writeFile(path, buf.Bytes())
}

// Short is "name: want W, got G", or "name: detail" when the check has
// no want/got: one line, for messages.
func (c Check) Short() string {
	switch {
	case c.Want != "" || c.Got != "":
		return text.OneLine(fmt.Sprintf("%s: want %s, got %s", c.Name, c.Want, c.Got))
	case c.Detail != "":
		return text.OneLine(c.Name + ": " + c.Detail)
	default:
		return text.OneLine(c.Name)
	}
}

// Long is Short plus the detail in parentheses.
func (c Check) Long() string {
	s := c.Short()
	if c.Detail != "" && (c.Want != "" || c.Got != "") {
		s += " (" + text.OneLine(c.Detail) + ")"
	}
	return s
}

func quoteSplats(splats []string) string {
	var parts []string
	for _, sp := range splats {
		parts = append(parts, "kernel splat:\n"+quote(sp))
	}
	return strings.Join(parts, "\n")
}

// quote prefixes every line with "> " so splat text stands apart.
func quote(text string) string {
	text = strings.TrimRight(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	var b strings.Builder
	for _, l := range strings.Split(text, "\n") {
		b.WriteString("> ")
		b.WriteString(l)
		b.WriteString("\n")
	}
	return b.String()
}

// xmlSafe drops characters XML 1.0 forbids. encoding/xml escapes them in
// attributes but writes CDATA raw, and console text carries escape codes.
func xmlSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return r
		case r < 0x20, r == 0xFFFE, r == 0xFFFF:
			return '\uFFFD'
		case r >= 0xD800 && r <= 0xDFFF:
			return '\uFFFD'
		}
		return r
	}, s)
}

func seconds(s float64) string { return fmt.Sprintf("%.3f", s) }

// writeFile writes atomically, so that a reader never sees half a report.
func writeFile(path string, data []byte) error {
	if err := fileutil.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}
