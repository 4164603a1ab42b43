// Package scenario describes TCP scenarios as data: the RPC frames of the
// stream, how the writer cuts it into sends, and in which modes and
// address families it runs. The guest carries a Plan out; the host's
// analysis checks what it reported against the same data.
package scenario

import (
	"encoding/binary"
	"errors"
	"fmt"
	"regexp"

	"github.com/kernel-harness/harness/harness/input"
)

// Modes a scenario runs in. The traffic is the same; the expectation differs.
const (
	Baseline  = "baseline"  // no autolowat program: the stock kernel's behaviour
	Autolowat = "autolowat" // our autolowat program sets rcvlowat per frame
)

// Address families.
const (
	IPv4 = "ipv4"
	IPv6 = "ipv6"
)

// Kernel paths a scenario's data takes to the receive queue.
const (
	PathInOrder  = "in-order"
	PathOFO      = "ofo"
	PathFastOpen = "fastopen"
)

// DescLen is the size of a frame's descriptor {u32 header_len; u32 payload_len}.
const DescLen = 8

// Frame is one RPC frame of the series' wire format.
type Frame struct {
	Header  int `json:"header"`  // header bytes after the descriptor
	Payload int `json:"payload"` // payload bytes after the header
	// Desc, when given, is the descriptor as sent, [header_len,
	// payload_len], in place of the true lengths: a frame that lies
	// about its size, or lengths that overflow.
	Desc []uint32 `json:"desc,omitempty"`
}

// Len is the frame's size on the wire, descriptor included.
func (f Frame) Len() int { return DescLen + f.Header + f.Payload }

// Scenario is one way of sending a stream of frames.
type Scenario struct {
	// Name is unique, without control characters; --scenario selects by it.
	Name string `json:"name"`
	// Description is one line for people.
	Description string `json:"description"`
	// Path is the kernel receive path the data must take: in-order, ofo or
	// fastopen.
	Path string `json:"path"`
	// Frames are the stream: each an 8-byte descriptor, then its header
	// and payload.
	Frames []Frame `json:"frames"`
	// Sends cuts the stream into writes over loopback; after each one the
	// reader polls and, when ready, reads everything queued.
	Sends []int `json:"sends,omitempty"`
	// Segments, instead of Sends, are byte ranges of the stream a TCP peer
	// sends in this order: a later offset first is out of order, a range
	// sent twice is a retransmission, SynData rides in the SYN.
	Segments []Segment `json:"segments,omitempty"`
	// FastOpen is the server's Fast Open mode for peer scenarios with SYN
	// data: "no-cookie" accepts data in any SYN (tcp_fastopen 0x202),
	// "cookie" first hands the peer a cookie on a connection of its own.
	FastOpen string `json:"fastopen,omitempty"`
	// MTU of the namespace's loopback device; 0 keeps the kernel's default.
	MTU int `json:"mtu,omitempty"`
	// Script, instead of Sends or Segments, is explicit steps: the guest
	// does exactly these, and the analysis checks what they expect.
	Script []Step `json:"steps,omitempty"`
	// Close ends the connection after the last step: fin or rst. The
	// steps may then stop short of the stream's end.
	Close string `json:"close,omitempty"`
	// RcvBuf is the reader's SO_RCVBUF, set on the listener before
	// listen() so that the accepted socket has it, locked.
	RcvBuf int `json:"rcvbuf,omitempty"`
	// RMem is the namespace's net.ipv4.tcp_rmem: min, default, max.
	RMem []int `json:"rmem,omitempty"`
	// Reader is how the automatic reader reads once woken (default:
	// recv() of everything queued).
	Reader *Reader `json:"reader,omitempty"`
	// AppRcvlowat is the application's own SO_RCVLOWAT on the reader.
	AppRcvlowat *AppRcvlowat `json:"app_rcvlowat,omitempty"`
	// OptInAfter makes the autolowat opt-in after this step instead of
	// before the first: mid-stream, maybe with bytes unread.
	OptInAfter int `json:"optin_after,omitempty"`
	// OptOutAfter repeats the opt-in with the value 0 after this step:
	// the series' program reads no value, so autolowat stays on.
	OptOutAfter int `json:"optout_after,omitempty"`
	// Connections is how many loopback connections carry the stream at
	// once under the case's cgroup (default 1): the others beside the
	// reader under test, each read the same way and checked whole.
	Connections int `json:"connections,omitempty"`
}

// Segment is one TCP segment of the stream, by offset.
type Segment struct {
	Offset  int  `json:"offset"`
	Len     int  `json:"len"`
	SynData bool `json:"syn_data,omitempty"`
	// FIN rides on the segment: the last one only.
	FIN bool `json:"fin,omitempty"`
}

// Steps returns what is sent, in order, as stream ranges: the loopback
// sends one after the other, or the peer's segments as given; for a
// scripted scenario its send or segment steps.
func (s Scenario) Steps() []Segment {
	if s.Scripted() {
		return s.scriptTransfers()
	}
	if len(s.Segments) > 0 {
		return s.Segments
	}
	steps := make([]Segment, len(s.Sends))
	off := 0
	for i, n := range s.Sends {
		steps[i] = Segment{Offset: off, Len: n}
		off += n
	}
	return steps
}

// Prefix returns, after each step, how many bytes from the start of the
// stream have arrived without a hole: what the kernel can hand the reader.
func (s Scenario) Prefix() []int {
	steps := s.Steps()
	n := s.StreamLen()
	var got received
	out := make([]int, len(steps))
	for i, st := range steps {
		got.add(min(max(st.Offset, 0), n), min(max(st.Offset+st.Len, 0), n))
		out[i] = got.prefix()
	}
	return out
}

// StreamLen is the total number of bytes of the scenario's frames.
func (s Scenario) StreamLen() int {
	n := 0
	for _, f := range s.Frames {
		n += f.Len()
	}
	return n
}

// FrameEnds lists the stream offset at which each frame ends.
func (s Scenario) FrameEnds() []int {
	ends := make([]int, len(s.Frames))
	off := 0
	for i, f := range s.Frames {
		off += f.Len()
		ends[i] = off
	}
	return ends
}

// Stream returns the scenario's bytes: each frame's descriptor in host
// (little-endian x86) byte order, then header and payload bytes from a
// generator that never repeats within a stream, so that a lost or
// reordered byte changes every checksum after it.
func (s Scenario) Stream() []byte {
	out := make([]byte, 0, s.StreamLen())
	x := uint32(2463534242)
	for _, f := range s.Frames {
		hdr, pay := uint32(f.Header), uint32(f.Payload)
		if len(f.Desc) == 2 {
			hdr, pay = f.Desc[0], f.Desc[1]
		}
		out = binary.LittleEndian.AppendUint32(out, hdr)
		out = binary.LittleEndian.AppendUint32(out, pay)
		for i := 0; i < f.Header+f.Payload; i++ {
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			out = append(out, byte(x))
		}
	}
	return out
}

// Validate reports what is wrong with a scenario, naming it.
func (s Scenario) Validate() error {
	var errs []error
	switch {
	case s.Name == "":
		errs = append(errs, errors.New("no name"))
	case input.HasControl(s.Name):
		// Names reach terminals, file names and GitHub annotations.
		errs = append(errs, errors.New("name has control characters"))
	}
	// Sizes first: everything after adds them up and allocates by them.
	if err := s.validateSizes(); err != nil {
		return fmt.Errorf("scenario %q: %w", s.Name, errors.Join(append(errs, err)...))
	}
	switch s.Path {
	case PathInOrder:
	case PathOFO, PathFastOpen:
		if !s.Peer() {
			errs = append(errs, fmt.Errorf("path %q needs segments sent by the TCP peer, not loopback sends", s.Path))
		}
	default:
		errs = append(errs, fmt.Errorf("unknown path %q (want %s, %s or %s)", s.Path, PathInOrder, PathOFO, PathFastOpen))
	}
	steps := s.Steps()
	synData := s.Peer() && len(steps) > 0 && steps[0].SynData
	switch s.FastOpen {
	case "":
		if synData {
			errs = append(errs, errors.New("SYN data needs fastopen \"cookie\" or \"no-cookie\""))
		}
	case "cookie", "no-cookie":
		if !synData {
			errs = append(errs, fmt.Errorf("fastopen %q without SYN data in the first segment", s.FastOpen))
		}
	default:
		errs = append(errs, fmt.Errorf("unknown fastopen mode %q (want cookie or no-cookie)", s.FastOpen))
	}
	switch {
	case s.Scripted():
		if len(s.Sends) > 0 || len(s.Segments) > 0 {
			errs = append(errs, errors.New("give steps, or sends or segments, not both"))
		}
		errs = append(errs, s.validateScript()...)
	case len(s.Sends) > 0 && len(s.Segments) > 0:
		errs = append(errs, errors.New("give sends or segments, not both"))
	case len(s.Segments) > 0:
		for i, g := range s.Segments {
			if g.Len <= 0 || g.Offset < 0 || g.Offset > s.StreamLen() || g.Len > s.StreamLen()-g.Offset {
				errs = append(errs, fmt.Errorf("segment %d: bytes %d..%d outside the %d-byte stream", i, g.Offset, g.Offset+g.Len, s.StreamLen()))
			}
			if g.SynData && i != 0 {
				errs = append(errs, fmt.Errorf("segment %d: only the first segment can ride in the SYN", i))
			}
		}
		highest := 0
		for _, g := range s.Segments {
			highest = max(highest, g.Offset+g.Len)
		}
		if err := s.coverageError("segments", s.SentLen(), highest); err != nil {
			errs = append(errs, err)
		}
	default:
		sum, n, over := 0, s.StreamLen(), false
		for i, b := range s.Sends {
			switch {
			case b <= 0:
				errs = append(errs, fmt.Errorf("send %d: %d bytes; every send must carry data", i, b))
			case b > n: // summed, it could overflow
				over = true
			default:
				sum += b
			}
		}
		switch {
		case over:
			errs = append(errs, fmt.Errorf("sends add up to more than the %d bytes of the frames", n))
		case s.Closes() != "" && sum > n:
			errs = append(errs, fmt.Errorf("sends add up to %d bytes but the frames are %d bytes", sum, n))
		case s.Closes() == "" && sum != n:
			errs = append(errs, fmt.Errorf("sends add up to %d bytes but the frames are %d bytes (with close: fin or rst the stream may end early)", sum, n))
		}
	}
	errs = append(errs, s.validateEdges()...)
	if s.MTU != 0 && (s.MTU < 1280 || s.MTU > 65536) {
		errs = append(errs, fmt.Errorf("mtu %d outside 1280..65536", s.MTU))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("scenario %q: %w", s.Name, err)
	}
	return nil
}

// Bounds of a scenario. Frames are RPC messages, not bulk data, and the
// guest holds the whole stream in memory; the bounds also keep every sum
// of offsets and lengths far from overflowing.
const (
	MaxFrameBytes  = 1 << 20  // header + payload + descriptor of one frame
	MaxFrames      = 4096     // frames of one scenario
	MaxStreamBytes = 16 << 20 // all the frames of one scenario
	MaxSteps       = 1 << 16  // sends, segments or script steps
)

// validateSizes checks the counts and sizes that the rest of Validate
// adds up, so that a huge number is refused rather than overflowing.
func (s Scenario) validateSizes() error {
	var errs []error
	switch {
	case len(s.Frames) == 0:
		errs = append(errs, errors.New("no frames"))
	case len(s.Frames) > MaxFrames:
		errs = append(errs, fmt.Errorf("%d frames: at most %d", len(s.Frames), MaxFrames))
	}
	total := 0
	for i, f := range s.Frames {
		// Each part alone first: their sum could overflow.
		if f.Header < 0 || f.Payload < 0 || f.Header > MaxFrameBytes || f.Payload > MaxFrameBytes || f.Len() > MaxFrameBytes {
			errs = append(errs, fmt.Errorf("frame %d: header %d and payload %d must be between 0 and 1 MiB together", i, f.Header, f.Payload))
			continue
		}
		total += f.Len()
	}
	if total > MaxStreamBytes {
		errs = append(errs, fmt.Errorf("the frames are %d bytes: at most %d MiB a scenario", total, MaxStreamBytes>>20))
	}
	for what, n := range map[string]int{"sends": len(s.Sends), "segments": len(s.Segments), "steps": len(s.Script)} {
		if n > MaxSteps {
			errs = append(errs, fmt.Errorf("%d %s: at most %d", n, what, MaxSteps))
		}
	}
	return errors.Join(errs...)
}

// Peer says whether the scenario's segments go through the TCP peer.
func (s Scenario) Peer() bool {
	for _, st := range s.Script {
		if st.Kind == StepSegment {
			return true
		}
	}
	return len(s.Segments) > 0
}

// MSS is the largest payload one segment carries on the scenario's loopback.
func (s Scenario) MSS() int {
	mtu := s.MTU
	if mtu == 0 {
		mtu = 65536
	}
	// IPv6 header 40 + TCP header with timestamps 32: the smaller MSS of the
	// two families, so a send under it is one segment on both.
	return mtu - 72
}

// Case is one run of a scenario: in one address family and one mode.
type Case struct {
	Scenario Scenario `json:"scenario"`
	Family   string   `json:"family"`
	Mode     string   `json:"mode"`
	// Run numbers the repetitions of --repeat from 1; 0 when the case runs once.
	Run int `json:"run,omitempty"`
}

// ID names the case uniquely within a run: name/family/mode, and #run
// for a repetition.
func (c Case) ID() string { return RunID(c.Scenario.Name+"/"+c.Family+"/"+c.Mode, c.Run) }

// Expand makes the cases of scenarios for both families and the
// scenario's modes, in a stable order: those whose name, or whose case ID
// name/family/mode, matches filter (nil: all).
func Expand(scenarios []Scenario, filter *regexp.Regexp) []Case {
	var cases []Case
	for _, s := range scenarios {
		for _, fam := range []string{IPv4, IPv6} {
			for _, mode := range s.Modes() {
				c := Case{Scenario: s, Family: fam, Mode: mode}
				if filter == nil || filter.MatchString(s.Name) || filter.MatchString(c.ID()) {
					cases = append(cases, c)
				}
			}
		}
	}
	return cases
}

// Plan is everything the guest agent needs to carry out a run. It travels
// inside the initramfs as /harness/plan.json.
type Plan struct {
	Cases []Case `json:"cases"`
	// ModulesList is the initramfs file listing modules in load order.
	ModulesList string `json:"modules_list,omitempty"`
	// StepTimeoutMS bounds each blocking socket call in the guest.
	StepTimeoutMS int `json:"step_timeout_ms"`
	// StallTimeoutMS bounds each wait of a reader for a wake-up after the
	// last step (no-stall); 0: two seconds.
	StallTimeoutMS int `json:"stall_timeout_ms,omitempty"`
	// NoChildState, when set, says why the user's programs keep no state
	// for a child of a listener; the autolowat cases that opt in on the
	// listener (Fast Open) are then unsupported with this reason.
	NoChildState string `json:"no_child_state,omitempty"`
}
