package scenario

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestBuiltinValid(t *testing.T) {
	names := map[string]bool{}
	for _, s := range Builtin() {
		if err := s.Validate(); err != nil {
			t.Errorf("builtin %s: %v", s.Name, err)
		}
		if names[s.Name] {
			t.Errorf("builtin name %s used twice", s.Name)
		}
		names[s.Name] = true
	}
	if len(names) != 5 {
		t.Errorf("%d builtin scenarios, want 5", len(names))
	}
}

func good() Scenario {
	return Scenario{Name: "t", Path: PathInOrder, Frames: []Frame{{Header: 2, Payload: 10}}, Sends: []int{5, 15}}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(s *Scenario)
		want   string // "" for valid
	}{
		{"good", func(s *Scenario) {}, ""},
		{"sends short", func(s *Scenario) { s.Sends = []int{5, 14} }, "sends add up to 19 bytes but the frames are 20 bytes"},
		{"sends long", func(s *Scenario) { s.Sends = []int{5, 16} }, "sends add up to 21 bytes but the frames are 20 bytes"},
		{"zero send", func(s *Scenario) { s.Sends = []int{5, 0, 15} }, "send 1: 0 bytes; every send must carry data"},
		{"negative send", func(s *Scenario) { s.Sends = []int{25, -5} }, "send 1: -5 bytes"},
		{"unknown path", func(s *Scenario) { s.Path = "sideways" }, `unknown path "sideways"`},
		{"no path", func(s *Scenario) { s.Path = "" }, `unknown path ""`},
		{"ofo", func(s *Scenario) { s.Path = PathOFO }, `path "ofo" needs segments sent by the TCP peer`},
		{"fastopen", func(s *Scenario) { s.Path = PathFastOpen }, `path "fastopen" needs segments sent by the TCP peer`},
		{"no frames", func(s *Scenario) { s.Frames = nil; s.Sends = nil }, "no frames"},
		{"negative header", func(s *Scenario) { s.Frames[0].Header = -1; s.Sends = []int{17} }, "frame 0: header -1"},
		{"frame too big", func(s *Scenario) { s.Frames[0].Payload = 1 << 20; s.Sends = []int{10 + 1<<20} }, "frame 0:"},
		{"mtu low", func(s *Scenario) { s.MTU = 1279 }, "mtu 1279 outside 1280..65536"},
		{"mtu high", func(s *Scenario) { s.MTU = 65537 }, "mtu 65537 outside 1280..65536"},
		{"mtu lowest", func(s *Scenario) { s.MTU = 1280 }, ""},
		{"mtu highest", func(s *Scenario) { s.MTU = 65536 }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := good()
			s.Frames = slices.Clone(s.Frames)
			tt.change(&s)
			err := s.Validate()
			if tt.want == "" {
				if err != nil {
					t.Errorf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate passed, want %q", tt.want)
			}
			// Every error names the scenario, so a bad file is easy to fix.
			if !strings.HasPrefix(err.Error(), `scenario "t": `) {
				t.Errorf("error %q does not start by naming the scenario", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
}

// All the faults of a scenario are reported at once.
func TestValidateJoinsErrors(t *testing.T) {
	s := Scenario{Name: "bad", Path: PathOFO, Frames: []Frame{{Header: 1, Payload: 1}}, Sends: []int{0}, MTU: 9}
	err := s.Validate()
	if err == nil {
		t.Fatal("Validate passed")
	}
	for _, want := range []string{"needs segments sent by the TCP peer", "send 0: 0 bytes", "sends add up to 0 bytes but the frames are 10 bytes", "mtu 9"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if err := (Scenario{Path: PathInOrder, Frames: []Frame{{}}, Sends: []int{8}}).Validate(); err == nil || !strings.Contains(err.Error(), "no name") {
		t.Errorf("nameless scenario: %v", err)
	}
}

func TestStream(t *testing.T) {
	s := Scenario{Name: "s", Frames: []Frame{{Header: 3, Payload: 20}, {Header: 0, Payload: 0}, {Header: 7, Payload: 1}, {Header: 3, Payload: 20}}}
	b := s.Stream()
	if len(b) != 31+8+16+31 || len(b) != s.StreamLen() {
		t.Fatalf("stream is %d bytes, want %d", len(b), 31+8+16+31)
	}
	if want := []int{31, 39, 55, 86}; !slices.Equal(s.FrameEnds(), want) {
		t.Errorf("FrameEnds %v, want %v", s.FrameEnds(), want)
	}
	off := 0
	for i, f := range s.Frames {
		h := binary.LittleEndian.Uint32(b[off:])
		p := binary.LittleEndian.Uint32(b[off+4:])
		if int(h) != f.Header || int(p) != f.Payload {
			t.Errorf("frame %d at %d: descriptor {%d, %d}, want {%d, %d}", i, off, h, p, f.Header, f.Payload)
		}
		off += f.Len()
	}
	// The descriptor is little-endian, byte by byte: 3 is 03 00 00 00.
	if !bytes.Equal(b[:8], []byte{3, 0, 0, 0, 20, 0, 0, 0}) {
		t.Errorf("first descriptor % x", b[:8])
	}
	if !bytes.Equal(b, s.Stream()) {
		t.Error("Stream differs between calls")
	}
	// Frames 0 and 3 have the same shape but different bytes, so a frame
	// delivered twice or in the wrong place changes the checksum.
	if bytes.Equal(b[8:31], b[63:86]) {
		t.Error("two frames of the same size carry the same bytes")
	}
}

// Every builtin stream matches its frames' descriptors and its length.
func TestBuiltinStreams(t *testing.T) {
	for _, s := range Builtin() {
		b := s.Stream()
		if len(b) != s.StreamLen() {
			t.Errorf("%s: stream %d bytes, StreamLen %d", s.Name, len(b), s.StreamLen())
		}
		ends := s.FrameEnds()
		if ends[len(ends)-1] != len(b) {
			t.Errorf("%s: last frame ends at %d, stream is %d bytes", s.Name, ends[len(ends)-1], len(b))
		}
	}
}

func TestMSS(t *testing.T) {
	if got := (Scenario{}).MSS(); got != 65536-72 {
		t.Errorf("MSS with the default MTU = %d", got)
	}
	if got := (Scenario{MTU: 1500}).MSS(); got != 1428 {
		t.Errorf("MSS at MTU 1500 = %d, want 1428", got)
	}
}

func TestExpand(t *testing.T) {
	all := Builtin()
	cases := Expand(all, nil)
	if len(cases) != 4*len(all) {
		t.Fatalf("%d cases, want %d", len(cases), 4*len(all))
	}
	// Scenario by scenario; within one, ipv4 then ipv6, baseline then autolowat.
	wantFirst := []string{
		"one-frame-per-send/ipv4/baseline",
		"one-frame-per-send/ipv4/autolowat",
		"one-frame-per-send/ipv6/baseline",
		"one-frame-per-send/ipv6/autolowat",
		"two-frames-per-send/ipv4/baseline",
	}
	ids := map[string]bool{}
	var got []string
	for _, c := range cases {
		if ids[c.ID()] {
			t.Errorf("case ID %s twice", c.ID())
		}
		ids[c.ID()] = true
		got = append(got, c.ID())
	}
	if !slices.Equal(got[:5], wantFirst) {
		t.Errorf("first cases %q, want %q", got[:5], wantFirst)
	}

	split := Expand(all, regexp.MustCompile(`^split|small`))
	var names []string
	for _, c := range split {
		names = append(names, c.ID())
	}
	want := []string{
		"split-frame/ipv4/baseline", "split-frame/ipv4/autolowat", "split-frame/ipv6/baseline", "split-frame/ipv6/autolowat",
		"many-small-frames/ipv4/baseline", "many-small-frames/ipv4/autolowat", "many-small-frames/ipv6/baseline", "many-small-frames/ipv6/autolowat",
	}
	if !slices.Equal(names, want) {
		t.Errorf("filtered cases %q, want %q", names, want)
	}
	if got := Expand(all, regexp.MustCompile(`nothing-like-this`)); len(got) != 0 {
		t.Errorf("a filter that matches nothing gave %d cases", len(got))
	}
}

func TestSegmentsValidate(t *testing.T) {
	f := Frame{Header: 4, Payload: 20}
	good := Scenario{Name: "s", Path: PathInOrder, Frames: []Frame{f}, FastOpen: "no-cookie",
		Segments: []Segment{{Offset: 0, Len: 8, SynData: true}, {Offset: 16, Len: 16}, {Offset: 4, Len: 20}}}
	if err := good.Validate(); err != nil {
		t.Fatalf("overlapping cover rejected: %v", err)
	}
	for name, s := range map[string]Scenario{
		"hole":         {Name: "s", Path: PathInOrder, Frames: []Frame{f}, Segments: []Segment{{Offset: 0, Len: 8}, {Offset: 16, Len: 16}}},
		"past the end": {Name: "s", Path: PathInOrder, Frames: []Frame{f}, Segments: []Segment{{Offset: 0, Len: 40}}},
		"late syn":     {Name: "s", Path: PathInOrder, Frames: []Frame{f}, Segments: []Segment{{Offset: 0, Len: 8}, {Offset: 8, Len: 24, SynData: true}}},
		"both":         {Name: "s", Path: PathInOrder, Frames: []Frame{f}, Sends: []int{32}, Segments: []Segment{{Offset: 0, Len: 32}}},
	} {
		if err := s.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if p := good.Prefix(); p[0] != 8 || p[1] != 8 || p[2] != 32 {
		t.Errorf("prefix %v, want [8 8 32]", p)
	}
}

func TestPeerBuiltinsValid(t *testing.T) {
	for _, s := range Peer() {
		if err := s.Validate(); err != nil {
			t.Errorf("%v", err)
		}
		if !s.Peer() {
			t.Errorf("%s: not a peer scenario", s.Name)
		}
	}
	// Each out-of-order scenario really leaves a hole first.
	for _, s := range Peer() {
		if s.Path != PathOFO {
			continue
		}
		p := s.Prefix()
		if p[0] == s.Steps()[0].Len && p[1] == p[0]+s.Steps()[1].Len {
			t.Errorf("%s: first two segments arrive in order: %v", s.Name, p)
		}
	}
}

// A scripted scenario runs once per family, in the one mode its steps
// are written for.
func TestExpandScripted(t *testing.T) {
	f := []Frame{{Header: 4, Payload: 20}}
	plain := Scenario{Name: "plain", Path: PathInOrder, Frames: f, Script: []Step{{Kind: StepSend, N: 32}, {Kind: StepPoll, N: 1}}}
	auto := Scenario{Name: "auto", Path: PathInOrder, Frames: f, Script: []Step{{Kind: StepAutolowat}, {Kind: StepSend, N: 32}}}
	var ids []string
	for _, c := range Expand([]Scenario{plain, auto}, nil) {
		ids = append(ids, c.ID())
	}
	want := []string{"plain/ipv4/baseline", "plain/ipv6/baseline", "auto/ipv4/autolowat", "auto/ipv6/autolowat"}
	if !slices.Equal(ids, want) {
		t.Errorf("cases %q, want %q", ids, want)
	}
	if auto.Peer() || !auto.OptInBeforeData() || plain.OptInBeforeData() {
		t.Errorf("peer %v, opt-in before data %v/%v", auto.Peer(), auto.OptInBeforeData(), plain.OptInBeforeData())
	}
}

// Steps travel to the guest inside the plan as JSON and come back equal.
func TestScriptPlanRoundTrip(t *testing.T) {
	s := Scenario{Name: "s", Path: PathFastOpen, FastOpen: "no-cookie", Frames: []Frame{{Header: 4, Payload: 20}}, Script: []Step{
		{Kind: StepAutolowat}, {Kind: StepSegment, Segment: Segment{Offset: 0, Len: 8, SynData: true}},
		{Kind: StepPoll, N: 0}, {Kind: StepRcvlowat, N: 32}, {Kind: StepSegment, Segment: Segment{Offset: 8, Len: 24}}, {Kind: StepRecv, N: 32},
	}}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(Plan{Cases: []Case{{Scenario: s, Family: IPv4, Mode: Autolowat}}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"steps":[{"autolowat":true},{"segment":{"offset":0,"len":8,"syn_data":true}},{"poll":0},`) {
		t.Errorf("plan JSON %s", b)
	}
	var p Plan
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	if got := p.Cases[0].Scenario.Script; !slices.Equal(got, s.Script) {
		t.Errorf("steps came back as %v, want %v", got, s.Script)
	}
	// The transfers of the script, for the guest and the analysis.
	if got := s.Steps(); !slices.Equal(got, []Segment{{Offset: 0, Len: 8, SynData: true}, {Offset: 8, Len: 24}}) {
		t.Errorf("transfers %v", got)
	}
	loop := Scenario{Script: []Step{{Kind: StepSend, N: 5}, {Kind: StepRecv, N: 5}, {Kind: StepSend, N: 7}}}
	if got := loop.Steps(); !slices.Equal(got, []Segment{{Offset: 0, Len: 5}, {Offset: 5, Len: 7}}) {
		t.Errorf("loopback transfers %v", got)
	}
}

func TestRepeat(t *testing.T) {
	cases := Expand(All()[:1], nil)
	got := Repeat(cases, 3)
	if len(got) != 3*len(cases) {
		t.Fatalf("%d cases, want %d", len(got), 3*len(cases))
	}
	seen := map[string]bool{}
	for i, c := range got {
		if want := i/len(cases) + 1; c.Run != want {
			t.Errorf("case %d run %d, want %d", i, c.Run, want)
		}
		if seen[c.ID()] {
			t.Errorf("ID %s twice", c.ID())
		}
		seen[c.ID()] = true
	}
	if id := got[len(cases)].ID(); id != cases[0].ID()+"#2" {
		t.Errorf("ID %q", id)
	}
	if one := Repeat(cases, 1); len(one) != len(cases) || one[0].Run != 0 || one[0].ID() != cases[0].ID() {
		t.Errorf("Repeat 1 changed the cases: %+v", one[0])
	}
}

func TestExpandMatchesCaseID(t *testing.T) {
	name := All()[0].Name
	got := Expand(All(), regexp.MustCompile("^"+regexp.QuoteMeta(name)+"/ipv4/baseline$"))
	if len(got) != 1 || got[0].Family != IPv4 || got[0].Mode != Baseline {
		t.Errorf("got %+v", got)
	}
}

// The opt-in goes on the listener only where data comes before accept():
// the Fast Open scenarios, and a scripted one whose autolowat step comes
// before its SYN data. Everything else opts in on the accepted socket.
func TestOptInOnListener(t *testing.T) {
	var listener []string
	for _, s := range All() {
		if s.OptInOnListener() {
			listener = append(listener, s.Name)
		}
		if s.OptInOnListener() != (s.Path == PathFastOpen) {
			t.Errorf("%s (%s): on the listener %v", s.Name, s.Path, s.OptInOnListener())
		}
	}
	if len(listener) != 5 {
		t.Errorf("on the listener: %v, want the five Fast Open scenarios", listener)
	}
	f := Frame{Header: 4, Payload: 20}
	syn := Step{Kind: StepSegment, Segment: Segment{Offset: 0, Len: 32, SynData: true}}
	plain := Step{Kind: StepSegment, Segment: Segment{Offset: 0, Len: 32}}
	on := Step{Kind: StepAutolowat}
	for _, tt := range []struct {
		steps []Step
		want  bool
	}{
		{[]Step{on, syn}, true},
		{[]Step{syn, on}, false},
		{[]Step{on, plain}, false},
	} {
		s := Scenario{Name: "x", Path: PathFastOpen, Frames: []Frame{f}, Script: tt.steps}
		if got := s.OptInOnListener(); got != tt.want {
			t.Errorf("steps %v: on the listener %v, want %v", tt.steps, got, tt.want)
		}
	}
}
