package testprogsout

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/kernel-harness/harness/harness/wire"
)

// Output is what the agent saw of one run of test_progs.
type Output struct {
	Stdout string `json:"stdout"` // stdout and stderr, as printed
	JSON   string `json:"json,omitempty"`
	Exit   string `json:"exit"` // "exit status 0", or how it ended
}

// FromEvent parses the run a wire.TestProgs event carries.
func FromEvent(e wire.Event) (*Run, Output, error) {
	var o Output
	if err := json.Unmarshal([]byte(e.Message), &o); err != nil {
		return nil, o, fmt.Errorf("test_progs event: %w", err)
	}
	var js []byte
	if o.JSON != "" {
		js = []byte(o.JSON)
	}
	r, err := Parse([]byte(o.Stdout), js)
	if err != nil {
		// Its last words say why (a setup error, a missing test).
		lines := strings.Split(strings.TrimSpace(o.Stdout), "\n")
		if len(lines) > 5 {
			lines = lines[len(lines)-5:]
		}
		return r, o, fmt.Errorf("%w; test_progs ended with %s, after:\n  %s", err, o.Exit, strings.Join(lines, "\n  "))
	}
	return r, o, nil
}
