package scenario

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
)

// Step kinds of a scripted scenario.
const (
	StepSend      = "send"      // loopback: the next N bytes of the stream
	StepSegment   = "segment"   // the peer sends a byte range of the stream
	StepRecv      = "recv"      // read exactly N bytes
	StepPoll      = "poll"      // epoll_wait with timeout 0 returns N
	StepRcvlowat  = "rcvlowat"  // getsockopt SO_RCVLOWAT returns N
	StepAutolowat = "autolowat" // the per-socket autolowat opt-in
)

var stepKinds = []string{StepSend, StepSegment, StepRecv, StepPoll, StepRcvlowat, StepAutolowat}

// Step is one action of a scripted scenario. In a file it is an object
// with exactly one key: {send: N}, {segment: {offset, len, syn_data}},
// {recv: N}, {poll: N}, {rcvlowat: V} or {autolowat: true}.
type Step struct {
	Kind string
	// N is the bytes of send and recv, the ready descriptors poll
	// expects and the value rcvlowat expects.
	N       int
	Segment Segment
	// err is what was wrong with the step as written. Decoding keeps
	// going so that Validate can name the scenario and the step.
	err error
}

// StepError is what is wrong with one step of a script, numbered from 1,
// so that a file's loader can point at the step.
type StepError struct {
	Step int
	Kind string // empty when the step could not be read
	Err  error
}

func (e *StepError) Error() string {
	if e.Kind == "" {
		return fmt.Sprintf("step %d: %v", e.Step, e.Err)
	}
	return fmt.Sprintf("step %d (%s): %v", e.Step, e.Kind, e.Err)
}

func (e *StepError) Unwrap() error { return e.Err }

// UnmarshalJSON reads a step; a malformed one is kept with its error.
func (st *Step) UnmarshalJSON(b []byte) error {
	*st = Step{}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil || len(m) != 1 {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		switch {
		case err != nil || m == nil:
			st.err = fmt.Errorf("%s is not a step: want an object with one key, such as {send: 8}", b)
		case len(m) == 0:
			st.err = fmt.Errorf("empty: want one of %s", strings.Join(stepKinds, ", "))
		default:
			st.err = fmt.Errorf("has %d keys (%s): a step does one thing, give one of %s", len(m), strings.Join(keys, ", "), strings.Join(stepKinds, ", "))
		}
		return nil
	}
	for k, v := range m {
		st.Kind = k
		switch k {
		case StepSend, StepRecv, StepPoll, StepRcvlowat:
			if err := json.Unmarshal(v, &st.N); err != nil {
				st.err = fmt.Errorf("%s: want a whole number, got %s", k, v)
			}
		case StepSegment:
			dec := json.NewDecoder(bytes.NewReader(v))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&st.Segment); err != nil {
				st.err = fmt.Errorf("segment: want {offset, len, syn_data}: %w", err)
			}
		case StepAutolowat:
			var on bool
			if err := json.Unmarshal(v, &on); err != nil || !on {
				st.err = fmt.Errorf("autolowat: want true, got %s (leave the step out to keep it off)", v)
			}
		default:
			st.err = fmt.Errorf("unknown step %q: want one of %s", k, strings.Join(stepKinds, ", "))
		}
	}
	return nil
}

// MarshalJSON writes a step back as its one-key object.
func (st Step) MarshalJSON() ([]byte, error) {
	var v any = st.N
	switch st.Kind {
	case StepSegment:
		v = st.Segment
	case StepAutolowat:
		v = true
	}
	return json.Marshal(map[string]any{st.Kind: v})
}

// String is the step as a person would write it.
func (st Step) String() string {
	switch st.Kind {
	case StepSegment:
		syn := ""
		if st.Segment.SynData {
			syn = " in the SYN"
		}
		return fmt.Sprintf("segment %d..%d%s", st.Segment.Offset, st.Segment.Offset+st.Segment.Len, syn)
	case StepAutolowat:
		return "autolowat"
	}
	return fmt.Sprintf("%s %d", st.Kind, st.N)
}

// Scripted says whether the scenario is a list of explicit steps.
func (s Scenario) Scripted() bool { return len(s.Script) > 0 }

// Modes lists the modes the scenario runs in: both for derived
// scenarios; for a scripted one, autolowat when a step turns it on, else
// baseline, since the steps' expectations hold in one mode only.
func (s Scenario) Modes() []string {
	if !s.Scripted() {
		return []string{Baseline, Autolowat}
	}
	for _, st := range s.Script {
		if st.Kind == StepAutolowat {
			return []string{Autolowat}
		}
	}
	return []string{Baseline}
}

// OptInBeforeData says whether a scripted scenario turns autolowat on
// before any byte is sent.
func (s Scenario) OptInBeforeData() bool {
	for _, st := range s.Script {
		switch st.Kind {
		case StepAutolowat:
			return true
		case StepSend, StepSegment:
			return false
		}
	}
	return false
}

// DataBeforeAccept says whether bytes of the stream reach the socket
// before accept() returns it: data in the SYN (Fast Open).
func (s Scenario) DataBeforeAccept() bool {
	steps := s.Steps()
	return len(steps) > 0 && steps[0].SynData
}

// OptInOnListener says whether the autolowat opt-in is made on the
// listener rather than on the accepted socket. The series' own test opts
// in on the accepted socket before its first byte, and so does the
// harness, except where data arrives before accept() (Fast Open): then
// only state a child inherits from its listener can see that data.
func (s Scenario) OptInOnListener() bool {
	if !s.DataBeforeAccept() {
		return false
	}
	return !s.Scripted() || s.OptInBeforeData()
}

// scriptTransfers returns the scripted sends and segments as stream ranges.
func (s Scenario) scriptTransfers() []Segment {
	var out []Segment
	off := 0
	for _, st := range s.Script {
		switch st.Kind {
		case StepSend:
			out = append(out, Segment{Offset: off, Len: st.N})
			off += st.N
		case StepSegment:
			out = append(out, st.Segment)
		}
	}
	return out
}

// validateScript checks the steps one by one, following what the socket
// can have at each: every error names the step.
func (s Scenario) validateScript() []error {
	var errs []error
	streamLen := s.StreamLen()
	boundary := map[int]bool{0: true}
	for _, e := range s.FrameEnds() {
		boundary[e] = true
	}
	var got received
	prefix, read, sent := 0, 0, 0
	var sends, segments int
	optedIn := false
	for i, st := range s.Script {
		bad := func(format string, args ...any) {
			errs = append(errs, &StepError{Step: i + 1, Kind: st.Kind, Err: fmt.Errorf(format, args...)})
		}
		if st.err != nil {
			errs = append(errs, &StepError{Step: i + 1, Err: st.err})
			continue
		}
		// Numbers beyond the stream are wrong anyway; refusing them here
		// keeps the sums below from overflowing.
		if st.N < -streamLen-1 || st.N > streamLen+1 || st.Segment.Offset < 0 || st.Segment.Offset > streamLen || st.Segment.Len > streamLen+1 {
			bad("%s: a number outside the %d-byte stream", st, streamLen)
			continue
		}
		switch st.Kind {
		case StepSend:
			sends++
			switch {
			case st.N <= 0:
				bad("%d bytes; every send must carry data", st.N)
			case sent+st.N > streamLen:
				bad("%d bytes from offset %d go past the end of the %d-byte stream", st.N, sent, streamLen)
			default:
				got.add(sent, sent+st.N)
			}
			sent += st.N
		case StepSegment:
			g := st.Segment
			segments++
			if g.Len <= 0 || g.Offset < 0 || g.Offset+g.Len > streamLen {
				bad("bytes %d..%d outside the %d-byte stream", g.Offset, g.Offset+g.Len, streamLen)
				break
			}
			if g.SynData && !s.onlyOptInBefore(i) {
				bad("only the first step, or the first after autolowat, can ride in the SYN: the reader exists only once the handshake is done")
			}
			got.add(g.Offset, g.Offset+g.Len)
		case StepRecv:
			switch {
			case st.N <= 0:
				bad("%d bytes; a read asks for at least 1", st.N)
			case st.N > prefix-read:
				bad("%d bytes, but the steps before it leave %d unread bytes readable", st.N, prefix-read)
			}
			read += max(st.N, 0)
		case StepPoll:
			if st.N != 0 && st.N != 1 {
				bad("%d ready: the epoll set holds only the reader, so expect 0 or 1", st.N)
			}
		case StepRcvlowat:
			if st.N < 1 {
				bad("%d: the kernel never lets SO_RCVLOWAT go below 1", st.N)
			}
		case StepAutolowat:
			switch {
			case optedIn:
				bad("given twice; it is on already")
			case !boundary[prefix]:
				bad("after %d bytes of the stream, inside a frame: the program parses frames from the next byte it sees, so turn it on at a frame boundary", prefix)
			}
			optedIn = true
		}
		prefix = got.prefix()
	}
	switch {
	case sends > 0 && segments > 0:
		errs = append(errs, errors.New("steps mix send and segment: a scenario goes over loopback or through the peer, not both"))
	case sends+segments == 0:
		errs = append(errs, errors.New("no send or segment step: nothing reaches the socket"))
	case sends > 0 && s.Close == "" && sent != streamLen:
		errs = append(errs, fmt.Errorf("send steps add up to %d bytes but the frames are %d bytes", sent, streamLen))
	case segments > 0:
		if err := s.coverageError("segment steps", prefix, got.highest()); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// onlyOptInBefore says whether every step before step i is autolowat.
func (s Scenario) onlyOptInBefore(i int) bool {
	for _, st := range s.Script[:i] {
		if st.Kind != StepAutolowat {
			return false
		}
	}
	return true
}

// UnmarshalYAML reads a step from a scenario file's own node, as
// UnmarshalJSON reads it: goccy/go-yaml hands a JSON unmarshaler the
// whole document formatted anew for every step, which made a file of
// 65536 steps take hours to load.
func (st *Step) UnmarshalYAML(n ast.Node) error {
	var v any
	if err := yaml.NodeToValue(n, &v); err != nil {
		*st = Step{err: fmt.Errorf("%s is not a step: want an object with one key, such as {send: 8}", n)}
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		*st = Step{err: fmt.Errorf("%s is not a step: %w", n, err)}
		return nil
	}
	return st.UnmarshalJSON(b)
}
