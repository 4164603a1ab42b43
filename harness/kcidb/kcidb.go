// Package kcidb writes kcidb.json: the run as a KCIDB I/O document
// (kernelci's kcidb-io, schema v5.3), the checkout, build and tests
// KernelCI's database takes from CI systems, ready for kcidb-submit.
// What the report does not know (a repository URL, a compiler) is left
// out rather than guessed.
package kcidb

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/kernel-harness/harness/harness/outdir"
	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/text"
	"github.com/kernel-harness/harness/internal/fileutil"
)

// FileName is the file in the output folder.
const FileName = "kcidb.json"

// The schema version written, and what every object says of itself.
const (
	Major, Minor = 5, 3
	Origin       = "harness"
	// Architecture is the only one the harness boots (QEMU x86_64).
	Architecture = "x86_64"
	// maxExcerpt is the schema's longest log_excerpt, in characters.
	maxExcerpt = 16384
)

// Test statuses (the schema's status).
const (
	StatusPass  = "PASS"
	StatusFail  = "FAIL"
	StatusError = "ERROR"
	StatusMiss  = "MISS"
	StatusSkip  = "SKIP"
)

// Document is a KCIDB I/O document.
type Document struct {
	Version   Version    `json:"version"`
	Checkouts []Checkout `json:"checkouts,omitempty"`
	Builds    []Build    `json:"builds,omitempty"`
	Tests     []Test     `json:"tests,omitempty"`
}

// Version is the schema version.
type Version struct {
	Major int `json:"major"`
	Minor int `json:"minor"`
}

// Checkout is the source tested: the tree's commit and the series.
type Checkout struct {
	ID            string `json:"id"`
	Origin        string `json:"origin"`
	GitCommitHash string `json:"git_commit_hash,omitempty"`
	Comment       string `json:"comment,omitempty"`
	// PatchsetHash is "" for no patches: nil when it is not known.
	PatchsetHash *string        `json:"patchset_hash,omitempty"`
	StartTime    string         `json:"start_time,omitempty"`
	Valid        *bool          `json:"valid,omitempty"`
	Misc         map[string]any `json:"misc,omitempty"`
}

// Build is the kernel the tests ran on.
type Build struct {
	ID           string         `json:"id"`
	Origin       string         `json:"origin"`
	CheckoutID   string         `json:"checkout_id"`
	Architecture string         `json:"architecture"`
	ConfigName   string         `json:"config_name,omitempty"`
	Comment      string         `json:"comment,omitempty"`
	Duration     float64        `json:"duration,omitempty"`
	Status       string         `json:"status,omitempty"`
	LogExcerpt   string         `json:"log_excerpt,omitempty"`
	Misc         map[string]any `json:"misc,omitempty"`
}

// Test is one case, or the boot.
type Test struct {
	ID          string         `json:"id"`
	Origin      string         `json:"origin"`
	BuildID     string         `json:"build_id"`
	Path        string         `json:"path"`
	Status      string         `json:"status"`
	Comment     string         `json:"comment,omitempty"`
	Duration    float64        `json:"duration,omitempty"`
	LogExcerpt  string         `json:"log_excerpt,omitempty"`
	Environment *Environment   `json:"environment,omitempty"`
	Misc        map[string]any `json:"misc,omitempty"`
}

// Environment is where a test ran.
type Environment struct {
	Comment string         `json:"comment,omitempty"`
	Misc    map[string]any `json:"misc,omitempty"`
}

// Write writes kcidb.json to dir.
func Write(dir string, out outdir.Output) error {
	b, err := json.MarshalIndent(Of(out), "", "  ")
	if err == nil {
		err = fileutil.WriteFile(filepath.Join(dir, FileName), append(b, '\n'), 0o644)
	}
	if err != nil {
		return fmt.Errorf("kcidb: %w", err)
	}
	return nil
}

// Of is the document of out: one checkout, build and its tests per run,
// for --baseline the base's and the series' (ids ending :base and
// :series, as junit.xml's classnames).
func Of(out outdir.Output) Document {
	d := Document{Version: Version{Major, Minor}}
	id := RunID(out.Top.Report)
	if out.Base != nil && out.Base.Report != nil {
		d.add(out.Base.Report, id+":base")
		d.add(out.Top.Report, id+":series")
	} else {
		d.add(out.Top.Report, id)
	}
	return d
}

// RunID names the run in every id: the same each time its report is
// written again (harness report), another for every run.
func RunID(r *report.Report) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s", r.Started.UTC().Format(time.RFC3339Nano), r.Host, strings.Join(r.Command, "\x00"))
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// add adds one run's checkout, build and tests, their ids from id.
func (d *Document) add(r *report.Report, id string) {
	id = Origin + ":" + id
	ck := checkout(r, id)
	bd := build(r, id)
	d.Checkouts = append(d.Checkouts, ck)
	d.Builds = append(d.Builds, bd)
	env := environment(r)
	tests := []Test{}
	if r.Boot.Attempts > 0 {
		tests = append(tests, boot(r, id, env))
	}
	seen := map[string]int{}
	for _, s := range r.Scenarios {
		t := caseTest(s, id, env)
		// Ids are unique in a document, whatever a merged report holds.
		if seen[t.ID]++; seen[t.ID] > 1 {
			t.ID += fmt.Sprintf("~%d", seen[t.ID])
		}
		tests = append(tests, t)
	}
	if r.Verdict == report.Error && len(r.Scenarios) == 0 && r.Boot.Attempts == 0 && bd.Status != StatusFail {
		// The harness itself stopped the run: nothing was tested.
		tests = append(tests, Test{ID: id + ":harness", Path: "harness", Status: StatusMiss, Comment: line(r.Error), LogExcerpt: excerpt(r.Error)})
	}
	for i := range tests {
		tests[i].Origin, tests[i].BuildID = Origin, bd.ID
	}
	d.Tests = append(d.Tests, tests...)
}

func checkout(r *report.Report, id string) Checkout {
	ck := Checkout{ID: id, Origin: Origin}
	if !r.Started.IsZero() {
		ck.StartTime = r.Started.UTC().Format(time.RFC3339)
	}
	b := r.Build
	if b == nil {
		return ck // a kernel image given or fetched: its source is not known
	}
	// A build section is written once the series applied.
	valid := true
	ck.Valid = &valid
	if gitHash.MatchString(b.Base) {
		ck.GitCommitHash = b.Base
	}
	ck.Comment = clean(b.BaseSubject)
	ck.Misc = map[string]any{"tree": clean(b.Tree)}
	none := ""
	ck.PatchsetHash = &none
	if s := b.Series; s != nil && len(s.Patches) > 0 {
		ck.PatchsetHash = patchsetHash(s.Patches)
		switch {
		case s.Cover != "":
			ck.Comment = clean(s.Cover)
		case len(s.Patches) == 1:
			ck.Comment = clean(s.Patches[0].Subject)
		}
		var patches []map[string]any
		for _, p := range s.Patches {
			patches = append(patches, map[string]any{"number": p.Number, "total": p.Total, "subject": clean(p.Subject), "state": p.State})
		}
		ck.Misc["series"], ck.Misc["series_version"], ck.Misc["patches"] = clean(s.Source), s.Version, patches
	}
	return ck
}

var gitHash = regexp.MustCompile(`^[0-9a-f]{40}$`)

// patchsetHash is KCIDB's: a sha256 over the newline-terminated sha256
// of each patch, in order ("sha256sum *.patch | cut -c-64 | sha256sum");
// nil when a patch's hash is not in the report (an older harness's).
func patchsetHash(patches []report.Patch) *string {
	h := sha256.New()
	for _, p := range patches {
		if p.SHA256 == "" {
			return nil
		}
		fmt.Fprintf(h, "%s\n", p.SHA256)
	}
	s := hex.EncodeToString(h.Sum(nil))
	return &s
}

func build(r *report.Report, id string) Build {
	bd := Build{ID: id, Origin: Origin, CheckoutID: id, Architecture: Architecture, Misc: map[string]any{}}
	if k := r.Kernel; k.Path != "" {
		bd.Status = StatusPass
		bd.Comment = "Linux " + clean(k.Release)
		bd.Misc["kernel_release"], bd.Misc["kernel_source"] = clean(k.Release), k.Source
	}
	if b := r.Build; b != nil {
		bd.ConfigName = b.Profile
		bd.Duration = b.Seconds
		bd.Misc["key"], bd.Misc["cache_hit"] = b.Key, b.CacheHit
		if b.Error != "" {
			bd.Status, bd.LogExcerpt = StatusFail, excerpt(b.Error)
		}
	}
	if len(bd.Misc) == 0 {
		bd.Misc = nil
	}
	return bd
}

// environment is the VM the tests ran in.
func environment(r *report.Report) *Environment {
	if r.Boot.Attempts == 0 {
		return nil
	}
	vm := "QEMU " + r.Boot.Machine
	if r.Boot.Machine == "vng" {
		vm = "virtme-ng"
	}
	e := &Environment{Comment: vm, Misc: map[string]any{"machine": r.Boot.Machine, "accel": r.Kernel.Accel}}
	if r.Kernel.Accel != "" {
		e.Comment += " under " + r.Kernel.Accel
	}
	if r.Host != "" {
		e.Comment += " on " + clean(r.Host)
		e.Misc["host"] = clean(r.Host)
	}
	return e
}

// boot is KCIDB's "boot" test (its catalog's "machine booted with the
// tested kernel"): passed when the harness's agent in the guest spoke.
func boot(r *report.Report, id string, env *Environment) Test {
	t := Test{ID: id + ":boot", Path: "boot", Status: StatusPass, Environment: env, Duration: r.Boot.FirstEventS,
		Misc: map[string]any{"attempts": r.Boot.Attempts}}
	if len(r.Boot.Retries) > 0 {
		t.Misc["retries"] = r.Boot.Retries
	}
	if r.Boot.FirstEventS <= 0 {
		t.Status, t.Comment = StatusFail, line(r.Error)
	}
	// Splats no case was running during: the boot's.
	var log []string
	if t.Status == StatusFail && r.Error != "" {
		log = append(log, r.Error)
	}
	for _, sp := range r.Splats {
		if sp.Scenario == "" {
			log = append(log, "kernel "+sp.Kind+":\n"+sp.Text)
		}
	}
	t.LogExcerpt = excerpt(strings.Join(log, "\n"))
	return t
}

// caseTest is one case: path harness.<scenario>.<family>.<mode> (for a
// selftest harness.test_progs.<test>.<subtest>), its verdict as status.
func caseTest(s report.Scenario, id string, env *Environment) Test {
	t := Test{ID: id + ":" + clean(s.ID()), Path: Path(s), Status: status(s.Verdict), Duration: s.DurationS, Environment: env,
		Misc: map[string]any{"case": clean(s.ID())}}
	if s.Run > 0 {
		t.Misc["run"] = s.Run
	}
	if !s.Selftest() {
		t.Misc["path"], t.Misc["frames"], t.Misc["epollin_user"], t.Misc["epollin_kernel"], t.Misc["partial_reads"] =
			s.Path, s.Frames, s.EpollinUser, s.EpollinKernel, s.PartialReads
	}
	var short, log []string
	for _, c := range s.Failed() {
		short = append(short, c.Short())
		log = append(log, c.Long())
	}
	switch {
	case len(short) > 0:
		t.Comment = line(strings.Join(short, "; "))
	case s.Reason != "":
		t.Comment = line(s.Reason)
	}
	if s.Verdict != report.Pass && s.Log != "" {
		log = append(log, s.Log)
	}
	for _, sp := range s.Splats {
		log = append(log, "kernel splat:\n"+sp)
	}
	t.LogExcerpt = excerpt(strings.Join(log, "\n"))
	return t
}

func status(verdict string) string {
	switch verdict {
	case report.Pass:
		return StatusPass
	case report.Fail:
		return StatusFail
	case report.Unsupported:
		return StatusSkip
	}
	return StatusError // error, and a verdict nobody set
}

// Path is a case's place in KCIDB's tree of tests: dot-separated words
// of letters, digits, '_' and '-', anything else in a name made '_'.
func Path(s report.Scenario) string {
	parts := []string{Origin, s.Name, s.Family, s.Mode}
	if s.Selftest() {
		parts = append([]string{Origin, s.Path}, strings.Split(s.Name, "/")...)
	}
	for i, p := range parts {
		if p = notPath.ReplaceAllString(p, "_"); p == "" {
			p = "_"
		}
		parts[i] = p
	}
	return strings.Join(parts, ".")
}

var notPath = regexp.MustCompile(`[^a-zA-Z0-9_-]+`)

// clean drops NUL, which no string of the schema may hold.
func clean(s string) string { return strings.ReplaceAll(s, "\x00", "") }

func line(s string) string { return text.OneLine(clean(s)) }

// excerpt is s within the schema's length.
func excerpt(s string) string { return text.Trunc(clean(s), maxExcerpt) }
