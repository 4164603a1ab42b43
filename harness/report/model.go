// Package report holds what a run found and writes it out: report.json for
// programs, junit.xml for CI systems and a summary table for people.
package report

import (
	"fmt"
	"time"

	"github.com/kernel-harness/harness/harness/wire"
)

// Schema names the layout of report.json; bump it on incompatible changes.
const Schema = "harness.report/v1"

// Verdicts of a scenario and of a whole run (package verdict).
const (
	Pass        = wire.VerdictPass
	Fail        = wire.VerdictFail
	Unsupported = wire.VerdictUnsupported
	Error       = wire.VerdictError
)

// Report is the whole of report.json.
type Report struct {
	Schema string `json:"schema"`
	// HarnessVersion is the version of the harness that ran (its module
	// version and VCS revision); Started is when the run began, Command
	// the command line it was given.
	HarnessVersion string    `json:"harness_version,omitempty"`
	Started        time.Time `json:"started,omitzero"`
	Command        []string  `json:"command,omitempty"`
	// Host is the machine the harness ran on.
	Host   string `json:"host,omitempty"`
	Kernel Kernel `json:"kernel"`
	// Build says how the kernel was made, when the harness built it.
	Build *Build `json:"build,omitempty"`
	// Baseline compares with the base, for --baseline.
	Baseline *Comparison `json:"baseline,omitempty"`
	// Repeat sums up each scenario over the runs of --repeat.
	Repeat *Repeat `json:"repeat,omitempty"`
	// EachPatch is the verdicts after each prefix of the series, for
	// --each-patch.
	EachPatch *PatchTable `json:"each_patch,omitempty"`
	Boot      Boot        `json:"boot"`
	// BPF says which autolowat programs the guest loaded, and what the
	// kernel said when it refused them.
	BPF *BPF `json:"bpf,omitempty"`
	// Selftests is the tree's test_progs, for harness selftests.
	Selftests *Selftests `json:"selftests,omitempty"`
	Features  []Feature  `json:"features"`
	// Hook says whether the autolowat cases ran, i.e. whether the run
	// tested the series at all; Headline puts it in words.
	Hook      *Hook      `json:"hook,omitempty"`
	Scenarios []Scenario `json:"scenarios"`
	Splats    []Splat    `json:"splats,omitempty"`
	DurationS float64    `json:"duration_s"`
	Verdict   string     `json:"verdict"`
	// Error says why the run could not be done (verdict "error").
	Error string `json:"error,omitempty"`
}

// Selftests says how harness selftests built and ran test_progs.
type Selftests struct {
	Tests []string `json:"tests"` // the -t selectors
	// BuildS is how long the test_progs build took (0 when up to date).
	BuildS float64 `json:"build_s"`
	// Dropped are the tree's test files that did not compile, and that
	// test_progs was built without (none of them held a chosen test).
	Dropped []DroppedTest `json:"dropped,omitempty"`
}

// DroppedTest is a test file left out of test_progs, with its error.
type DroppedTest struct {
	File  string `json:"file"`
	Error string `json:"error"`
}

// BPF is the autolowat programs of a run: the harness's own, or the
// user's (--bpf-object, or --bpf-source compiled by the harness).
type BPF struct {
	// Source is the C file compiled, with the clang command line.
	Source  string   `json:"source,omitempty"`
	Command []string `json:"command,omitempty"`
	// Object is the object loaded; empty for the harness's own.
	Object   string       `json:"object,omitempty"`
	Programs []BPFProgram `json:"programs,omitempty"`
	// Loaded is whether the kernel took them; Log is, when it did not,
	// the loader's error with the verifier's whole log.
	Loaded bool   `json:"loaded"`
	Log    string `json:"log,omitempty"`
	// Note says why they were not loaded at all (a kernel without the hook).
	Note string `json:"note,omitempty"`
	// NoChildState says why the programs give a listener's children no
	// state (their socket storage is not BPF_F_CLONE): the Fast Open
	// autolowat cases are unsupported with it.
	NoChildState string `json:"no_child_state,omitempty"`
}

// BPFProgram is one program of an object and how it is attached.
type BPFProgram struct {
	Name    string `json:"name"`
	Section string `json:"section"`
	Type    string `json:"type"`
	Attach  string `json:"attach"`
}

// Kernel says which kernel ran and how.
type Kernel struct {
	Release string `json:"release"`
	Path    string `json:"path"`
	Modules string `json:"modules,omitempty"`
	// Source says how the kernel was chosen: "flag", "host", "debian".
	Source string `json:"source"`
	Accel  string `json:"accel"`
	// AccelNote says why the accelerator differs from the one asked for.
	AccelNote string `json:"accel_note,omitempty"`
}

// Boot describes the boot attempts.
type Boot struct {
	Attempts int `json:"attempts"`
	// Retries lists why earlier attempts were abandoned.
	Retries []string `json:"retries,omitempty"`
	// FirstEventS is the time from starting QEMU to the guest's first event.
	FirstEventS float64 `json:"first_event_s"`
	Machine     string  `json:"machine"`
}

// Feature is one feature probe's answer.
type Feature struct {
	Name   string `json:"name"`
	Value  bool   `json:"value"`
	Reason string `json:"reason"`
}

// Scenario is the outcome of one scenario on one address family in one mode.
type Scenario struct {
	Name   string `json:"name"`
	Family string `json:"family"` // ipv4 | ipv6
	Path   string `json:"path"`   // in-order | ofo | fastopen
	Mode   string `json:"mode"`   // baseline | autolowat
	// Verdict is pass, fail, unsupported or error.
	Verdict string `json:"verdict"`
	// Reason explains an unsupported or error verdict.
	Reason string `json:"reason,omitempty"`
	// Run numbers the repetitions of --repeat from 1; 0 without it.
	Run int `json:"run,omitempty"`

	Frames        int `json:"frames"`
	Sends         int `json:"sends"`
	EpollinUser   int `json:"epollin_user"`
	EpollinKernel int `json:"epollin_kernel"`
	PartialReads  int `json:"partial_reads"`
	// Rcvlowat lists SO_RCVLOWAT as the reader saw it after every step.
	Rcvlowat []int `json:"rcvlowat,omitempty"`
	// RuleDifferences says where, and by how much, a program of the
	// user's set SO_RCVLOWAT to other values than the series' rule. It
	// decides nothing: the wake-ups do.
	RuleDifferences []string `json:"rule_differences,omitempty"`

	Checks       []Check `json:"checks"`
	FailedChecks []Check `json:"failed_checks,omitempty"`
	// Splats quotes kernel reports that appeared while this scenario ran.
	Splats []string `json:"splats,omitempty"`
	// Log is what a test of the tree's selftests printed (harness
	// selftests); our scenarios have their events instead.
	Log       string  `json:"log,omitempty"`
	DurationS float64 `json:"duration_s"`
}

// ID is the scenario's unique name in a run: name/family/mode, and #run
// for a repetition.
func (s Scenario) ID() string {
	id := s.CaseID()
	if s.Run > 0 {
		id += fmt.Sprintf("#%d", s.Run)
	}
	return id
}

// CaseID is the ID without the repetition: the same for every run.
// A selftest's name is its ID.
func (s Scenario) CaseID() string {
	if s.Selftest() {
		return s.Name
	}
	return s.Name + "/" + s.Family + "/" + s.Mode
}

// Selftest says the scenario is a test of the tree's own selftests
// (harness selftests), which has neither family nor mode, nor any of our
// measurements.
func (s Scenario) Selftest() bool { return s.Family == "" && s.Mode == "" }

// Check is one property that must hold, with what was wanted and got.
type Check struct {
	Name   string `json:"name"`
	Pass   bool   `json:"pass"`
	Want   string `json:"want,omitempty"`
	Got    string `json:"got,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// Splat is a kernel report found on the console: panic, Oops, BUG,
// WARNING, KASAN or lockdep.
type Splat struct {
	Kind string `json:"kind"`
	// Scenario is the scenario that was running, when one was.
	Scenario string `json:"scenario,omitempty"`
	Text     string `json:"text"`
}

// Build is how the harness made the kernel from a tree and a series.
type Build struct {
	Tree        string  `json:"tree"`
	Base        string  `json:"base"`
	BaseSubject string  `json:"base_subject"`
	Series      *Series `json:"series,omitempty"`
	Profile     string  `json:"profile"`
	Key         string  `json:"key"`
	CacheHit    bool    `json:"cache_hit"`
	Seconds     float64 `json:"seconds"`
	Objects     int     `json:"objects,omitempty"`
	// Error says why the build gave no kernel: the compiler's first
	// error, a config refused. Empty when it gave one.
	Error string `json:"error,omitempty"`
}

// Series is the applied series.
type Series struct {
	Source  string  `json:"source"`
	Version int     `json:"version"`
	Cover   string  `json:"cover,omitempty"`
	Patches []Patch `json:"patches"`
}

// Patch is one patch of the series and what became of it.
type Patch struct {
	Number  int    `json:"number"`
	Total   int    `json:"total"`
	Subject string `json:"subject"`
	State   string `json:"state"` // applied | already-present
	// SHA256 is the hash of the patch as git am was given it: what
	// names the patchset to others (KCIDB's patchset_hash).
	SHA256 string `json:"sha256,omitempty"`
}
