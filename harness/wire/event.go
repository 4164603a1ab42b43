// Package wire is what the host and the guest agent share: the events
// the agent sends, one JSON object per line over a named virtio-serial
// port (or a shared file under vng), with the code that writes and reads
// them; the verdict words; and the paths under /harness where the host
// puts the agent's files. The stream ends with an explicit done event so
// that a guest that falls silent is an error and never a pass.
package wire

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sync"
)

// Kind names what an event reports.
type Kind string

const (
	// Guest life cycle.
	Hello   Kind = "hello"   // agent started: kernel release
	Module  Kind = "module"  // a kernel module was loaded, or failed to
	Feature Kind = "feature" // one feature probe's answer
	Log     Kind = "log"     // a line from the agent worth keeping
	Error   Kind = "error"   // the agent hit an error it could not recover from
	Done    Kind = "done"    // the agent finished; nothing follows
	// BPF: the autolowat programs were loaded, or the kernel refused
	// them; Message holds the verifier's whole log.
	BPF Kind = "bpf"

	// Scenario bracketing.
	ScenarioStart Kind = "scenario-start"
	ScenarioEnd   Kind = "scenario-end"

	// User-space side of a scenario.
	Send     Kind = "send"     // the writer sent bytes
	Poll     Kind = "poll"     // an epoll_wait returned
	Recv     Kind = "recv"     // the reader read bytes
	Rcvlowat Kind = "rcvlowat" // SO_RCVLOWAT as the reader sees it after a step
	// Close: the writer ended the connection after its last step (Value
	// fin or rst). Settle: how the reader ended after the last step
	// (Value drained, eof, reset or stalled).
	Close  Kind = "close"
	Settle Kind = "settle"
	// Others: the connections beside the reader under test, summed up
	// at the end (Value ok or what went wrong, Bytes read by them all).
	Others Kind = "others"

	// AutolowatOn: a scripted step made the autolowat opt-in; Value says
	// on which socket ("listener" or "reader").
	AutolowatOn Kind = "autolowat-on"

	// The TCP peer's packets: what it sent and what came back.
	PeerOut Kind = "peer-out"
	PeerIn  Kind = "peer-in"

	// Kernel side, from the tracer BPF programs.
	KernelWake     Kind = "kwake"  // the kernel woke readers (sock_def_readable)
	KernelRcvlowat Kind = "klowat" // sk_rcvlowat was set
	KernelRcvq     Kind = "krcvq"  // a BPF_SOCK_OPS_RCVQ_CB call
	KernelLost     Kind = "klost"  // the tracer dropped events

	// TestProgs carries a run of test_progs: its Message is a
	// testprogsout.Output in JSON.
	TestProgs Kind = "test-progs"
)

// Event is one line of events.jsonl. Fields that do not apply to a kind
// are left out of the JSON.
type Event struct {
	Kind Kind `json:"kind"`
	// TimeNS is CLOCK_MONOTONIC in the guest, the clock bpf_ktime_get_ns
	// uses, so user-space and kernel events order on one axis.
	TimeNS int64 `json:"t_ns"`

	Scenario string `json:"scenario,omitempty"`
	Cookie   uint64 `json:"cookie,omitempty"`
	Step     int    `json:"step,omitempty"`

	Bytes    int              `json:"bytes,omitempty"`
	Offset   int64            `json:"offset,omitempty"`
	CRC32    uint32           `json:"crc32,omitempty"`
	Queued   int              `json:"queued,omitempty"`
	Lowat    int              `json:"lowat,omitempty"`
	Ready    int              `json:"ready,omitempty"`
	Seq      uint32           `json:"seq,omitempty"`
	Len      uint32           `json:"len,omitempty"`
	Path     string           `json:"path,omitempty"`
	Name     string           `json:"name,omitempty"`
	Value    string           `json:"value,omitempty"`
	OK       bool             `json:"ok,omitempty"`
	Message  string           `json:"message,omitempty"`
	Release  string           `json:"release,omitempty"`
	Counters map[string]int64 `json:"counters,omitempty"`

	// Expect is what a scripted step expects of its poll (ready
	// descriptors), recv (bytes) or rcvlowat (SO_RCVLOWAT); nil elsewhere,
	// so that an expected 0 is kept.
	Expect *int `json:"expect,omitempty"`

	// A peer packet: its TCP flags, the stream offset its ACK stands for,
	// and the window it advertises. On a peer scenario's send, Flags is
	// "S" for the SYN's data and "." for a segment.
	Flags     string `json:"flags,omitempty"`
	AckOffset int    `json:"ack_offset,omitempty"`
	Window    int    `json:"window,omitempty"`

	// A kernel wake-up: what tcp_epollin_ready() weighs besides
	// rcvlowat (sk_rmem_alloc, sk_rcvbuf, the receive window left in
	// Window, the MSS it is held against, sk_shutdown); Path is
	// WakeState for a wake-up by FIN or RST. On the reader's first
	// event, Rcvbuf is its SO_RCVBUF and Cap the most tcp_set_rcvlowat()
	// lets rcvlowat be.
	RmemAlloc int `json:"rmem_alloc,omitempty"`
	Rcvbuf    int `json:"rcvbuf,omitempty"`
	RcvMSS    int `json:"rcv_mss,omitempty"`
	Shutdown  int `json:"shutdown,omitempty"`
	Cap       int `json:"cap,omitempty"`

	// Epoll is what an epoll_wait reported: IN, RDHUP, HUP, ERR.
	Epoll string `json:"epoll,omitempty"`
}

// WakeState is the Path of a kernel wake-up by a change of state (the
// peer's FIN or RST) rather than by data.
const WakeState = "state"

// Writer serialises events onto a stream; safe for concurrent use.
type Writer struct {
	mu  sync.Mutex
	enc *json.Encoder
	w   io.Writer
}

// NewWriter writes JSON lines to w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{enc: json.NewEncoder(w), w: w}
}

// Emit writes one event.
func (w *Writer) Emit(e Event) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.enc.Encode(e); err != nil {
		return fmt.Errorf("write event: %w", err)
	}
	return nil
}

// Reader decodes events from a stream.
type Reader struct {
	sc   *bufio.Scanner
	line int
}

// NewReader reads JSON lines from r.
func NewReader(r io.Reader) *Reader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	return &Reader{sc: sc}
}

// Next returns the next event and its raw line, or io.EOF at the end of
// the stream. A line that is not an event is an error naming the line, so
// a corrupted stream is never read as a short one.
func (r *Reader) Next() (Event, []byte, error) {
	for r.sc.Scan() {
		r.line++
		raw := r.sc.Bytes()
		if len(raw) == 0 {
			continue
		}
		var e Event
		if err := json.Unmarshal(raw, &e); err != nil {
			return Event{}, nil, fmt.Errorf("event line %d: %w", r.line, err)
		}
		if e.Kind == "" {
			return Event{}, nil, fmt.Errorf("event line %d: no kind", r.line)
		}
		return e, append([]byte(nil), raw...), nil
	}
	if err := r.sc.Err(); err != nil {
		return Event{}, nil, fmt.Errorf("read events: %w", err)
	}
	return Event{}, nil, io.EOF
}

// ReadAll decodes every event of r.
func ReadAll(r io.Reader) ([]Event, error) {
	rd := NewReader(r)
	var out []Event
	for {
		e, _, err := rd.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, e)
	}
}

// Verdicts of a scenario and of a whole run: the agent sends them and the
// reports write them.
const (
	VerdictPass        = "pass"
	VerdictFail        = "fail"
	VerdictUnsupported = "unsupported" // the kernel lacks what the checks need
	VerdictError       = "error"       // the scenario or run could not be carried out
)
