package report

import (
	"os"
	"time"

	"github.com/kernel-harness/harness/harness/version"
)

// New is an empty report that says which harness ran, when, how (the
// command line) and where.
func New(command []string) *Report {
	host, _ := os.Hostname()
	return &Report{Schema: Schema, HarnessVersion: version.String(), Started: time.Now().UTC().Truncate(time.Second),
		Command: command, Host: host, Features: []Feature{}, Scenarios: []Scenario{}}
}
