package ghactions

import (
	"bytes"
	"io"
	"strings"
	"sync"
)

// Stages of a run, named by the first words of run.Run's progress lines:
// the stages say what they do, so the groups follow them without run
// knowing about GitHub.
var stagePrefixes = []struct{ prefix, stage string }{
	{"plan:", "plan"},
	{"series:", "kernel"},
	{"config:", "kernel"},
	{"build:", "kernel"},
	{"bpf:", "kernel"},
	{"kernel:", "kernel"},
	{"fetching ", "kernel"},
	{"host kernel ", "kernel"},
	{"initramfs:", "image"},
	{"machine:", "boot"},
	{"vm:", "boot"},
	{"guest:", "boot"},
	{"[", "boot"}, // [i/n] scenario: state
	// Headings of a run of several runs: shown outside any group.
	{"baseline:", ""},
	{"repeat:", ""},
	{"each-patch:", ""},
}

// stageOf is the stage a line opens or continues: "" for a heading that
// stands outside groups, and ok false for a line of no stage of its own
// (a continuation), which stays where it is.
func stageOf(line string) (stage string, ok bool) {
	for _, p := range stagePrefixes {
		if strings.HasPrefix(line, p.prefix) {
			return p.stage, true
		}
	}
	return "", false
}

// Groups wraps the progress writer: it puts ::group::/::endgroup:: around
// each stage, so that the log of a step folds into plan, kernel, image,
// boot and analysis. Safe for concurrent writes, as progress comes from
// the guest's events and QEMU's log at once.
type Groups struct {
	mu      sync.Mutex
	w       io.Writer
	partial []byte
	open    string // the stage whose group is open, or ""
}

// NewGroups writes the progress lines to w with groups around stages.
func NewGroups(w io.Writer) *Groups {
	return &Groups{w: w}
}

// Write passes whole lines on, opening and closing groups as stages change.
func (g *Groups) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.partial = append(g.partial, p...)
	for {
		i := bytes.IndexByte(g.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := string(g.partial[:i+1])
		g.partial = g.partial[i+1:]
		if err := g.line(line); err != nil {
			return len(p), err
		}
	}
}

func (g *Groups) line(line string) error {
	if stage, ok := stageOf(line); ok {
		if err := g.enter(stage); err != nil {
			return err
		}
	}
	_, err := io.WriteString(g.w, line)
	return err
}

// enter opens the group of stage, closing the one open unless it is the
// same; "" closes and opens nothing.
func (g *Groups) enter(stage string) error {
	if stage != "" && stage == g.open {
		return nil
	}
	if g.open != "" {
		if _, err := io.WriteString(g.w, "::endgroup::\n"); err != nil {
			return err
		}
		g.open = ""
	}
	if stage == "" {
		return nil
	}
	g.open = stage
	_, err := io.WriteString(g.w, Command("group", nil, stage)+"\n")
	return err
}

// Stage opens the group of a stage that has no progress lines of its
// own, such as "analysis" after the run.
func (g *Groups) Stage(stage string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.flush(); err != nil {
		return err
	}
	return g.enter(stage)
}

// Close writes what is left of a line and closes the open group.
func (g *Groups) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.flush(); err != nil {
		return err
	}
	return g.enter("")
}

func (g *Groups) flush() error {
	if len(g.partial) == 0 {
		return nil
	}
	line := string(g.partial) + "\n"
	g.partial = nil
	return g.line(line)
}
