// Package verdict names the verdicts of a case and of a run, which the
// guest agent sends and the reports write: a package of its own so that
// both sides share the words without the agent depending on reporting.
package verdict

// Verdicts of a scenario and of a whole run.
const (
	Pass        = "pass"
	Fail        = "fail"
	Unsupported = "unsupported" // the kernel lacks what the checks need
	Error       = "error"       // the scenario or run could not be carried out
)
