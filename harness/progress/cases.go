package progress

import (
	"fmt"
	"io"
	"sync"

	"github.com/kernel-harness/harness/harness/wire"
)

// Cases follows a boot of scenario cases from the guest's events: the
// case running now on the status line, each outcome, and what the agent
// says along the way, as lines on W.
type Cases struct {
	Live *Live // nil off a terminal
	W    io.Writer
	N    int // the cases of the boot

	mu      sync.Mutex
	current string
	done    int
}

// Running names the case running now, empty between cases.
func (c *Cases) Running() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.current
}

// Event follows one event of the guest.
func (c *Cases) Event(e wire.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	say := func(format string, args ...any) { c.Live.Printf(c.W, format, args...) }
	switch e.Kind {
	case wire.Hello:
		say("guest: up, kernel %s", e.Release)
	case wire.ScenarioStart:
		c.current = e.Scenario
		c.Live.Status(fmt.Sprintf("[%d/%d] %s ...", c.done+1, c.N, e.Scenario))
	case wire.ScenarioEnd:
		c.current = ""
		c.done++
		state := "ran"
		if !e.OK {
			state = e.Value
		}
		c.Live.Outcome(c.W, e.OK, "[%d/%d] %s: %s", c.done, c.N, e.Scenario, state)
	case wire.Module:
		if !e.OK {
			say("guest: module %s: %s", e.Name, e.Message)
		}
	case wire.Error:
		say("guest: error: %s", e.Message)
	case wire.BPF:
		if e.OK {
			say("guest: loaded %s", e.Value)
		} else {
			say("guest: the autolowat programs did not load:\n%s", e.Message)
		}
	}
}
