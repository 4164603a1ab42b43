// Package report holds what a run found and writes it out: report.json for
// programs, junit.xml for CI systems and a summary table for people.
package report

// Schema names the layout of report.json; bump it on incompatible changes.
const Schema = "harness.report/v1"

// Verdicts of a scenario and of a whole run.
const (
	Pass        = "pass"
	Fail        = "fail"
	Unsupported = "unsupported" // the kernel lacks what the checks need
	Error       = "error"       // the scenario or run could not be carried out
)

// Report is the whole of report.json.
type Report struct {
	Schema string `json:"schema"`
	Kernel Kernel `json:"kernel"`
	// Build says how the kernel was made, when the harness built it.
	Build *Build `json:"build,omitempty"`
	// Baseline compares with the base, for --baseline.
	Baseline  *Comparison `json:"baseline,omitempty"`
	Boot      Boot        `json:"boot"`
	Features  []Feature   `json:"features"`
	Scenarios []Scenario  `json:"scenarios"`
	Splats    []Splat     `json:"splats,omitempty"`
	DurationS float64     `json:"duration_s"`
	Verdict   string      `json:"verdict"`
	// Error says why the run could not be done (verdict "error").
	Error string `json:"error,omitempty"`
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

	Frames        int `json:"frames"`
	Sends         int `json:"sends"`
	EpollinUser   int `json:"epollin_user"`
	EpollinKernel int `json:"epollin_kernel"`
	PartialReads  int `json:"partial_reads"`
	// Rcvlowat lists SO_RCVLOWAT as the reader saw it after every step.
	Rcvlowat []int `json:"rcvlowat,omitempty"`

	Checks       []Check `json:"checks"`
	FailedChecks []Check `json:"failed_checks,omitempty"`
	// Splats quotes kernel reports that appeared while this scenario ran.
	Splats    []string `json:"splats,omitempty"`
	DurationS float64  `json:"duration_s"`
}

// ID is the scenario's unique name in a run: name/family/mode.
func (s Scenario) ID() string { return s.Name + "/" + s.Family + "/" + s.Mode }

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
}
