package scenario

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestLoadFileExample(t *testing.T) {
	got, err := LoadFile("../../docs/examples/scenarios.yaml", map[string]bool{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 || got[1].Name != "ofo-two-holes" || !got[1].Peer() || got[0].Peer() {
		t.Fatalf("%+v", got)
	}
	// The scripted examples: one over loopback in autolowat mode, two
	// through the peer out of order, one in each mode.
	for i, want := range []struct {
		name, mode string
		peer       bool
	}{{"scripted-split-descriptor", Autolowat, false}, {"scripted-ofo-fill", Baseline, true}, {"scripted-ofo-autolowat", Autolowat, true}} {
		s := got[2+i]
		if s.Name != want.name || !s.Scripted() || s.Peer() != want.peer || !slices.Equal(s.Modes(), []string{want.mode}) {
			t.Errorf("example %d: %s scripted %v peer %v modes %v, want %+v", 2+i, s.Name, s.Scripted(), s.Peer(), s.Modes(), want)
		}
	}
	if p := got[1].Prefix(); p[0] != 10 || p[3] != 10 || p[4] != 64 {
		t.Fatalf("prefix %v", p)
	}
}

func TestLoadFileErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	for _, tt := range []struct{ name, file, body, want string }{
		{"unknown field", "a.json", `{"scenarios":[{"name":"x","pathh":"in-order"}]}`, `unknown field "pathh"`},
		{"bad scenario", "b.yaml", "scenarios:\n  - name: x\n    path: in-order\n    frames: [{header: 1, payload: 1}]\n    sends: [3]\n", `scenario 1: scenario "x": sends add up to 3 bytes but the frames are 10 bytes`},
		{"taken name", "c.yaml", "scenarios:\n  - name: split-frame\n    path: in-order\n    frames: [{header: 1, payload: 1}]\n    sends: [10]\n", `name "split-frame" is already taken`},
		{"empty", "d.json", `{}`, "no scenarios"},
		{"not yaml", "e.yaml", "scenarios: [", "e.yaml"},
		{"empty file", "f.json", " \n", "the file is empty"},
		{"empty yaml", "f.yaml", "", "the file is empty"},
		{"second yaml document", "o.yaml", "---\nscenarios:\n  - name: x\n    path: in-order\n    frames: [{header: 1, payload: 1}]\n    sends: [10]\n---\nmore: 1\n", "o.yaml:7:1: a second YAML document"},
		{"trailing garbage", "g.json", `{"scenarios":[{"name":"x","path":"in-order","frames":[{"header":1,"payload":1}],"sends":[10]}]} trailing`, "more after the scenarios"},
		{"second object", "h.json", `{"scenarios":[{"name":"x","path":"in-order","frames":[{"header":1,"payload":1}],"sends":[10]}]}{}`, "more after the scenarios"},
		// 2^62 + 2^62 + 8 overflows to a small number: each part is bounded alone.
		{"huge frame", "i.json", `{"scenarios":[{"name":"x","path":"in-order","frames":[{"header":4611686018427387904,"payload":4611686018427387904}],"sends":[8]}]}`, "must be between 0 and 1 MiB"},
		{"too many bytes", "j.yaml", "scenarios:\n  - name: x\n    path: in-order\n    frames: [" + strings.Repeat("{header: 1000000, payload: 0},", 17) + "]\n    sends: [17000136]\n", "at most 16 MiB"},
		{"huge segment", "k.json", `{"scenarios":[{"name":"x","path":"ofo","frames":[{"header":1,"payload":1}],"segments":[{"offset":4611686018427387904,"len":4611686018427387904}]}]}`, "outside the 10-byte stream"},
		{"huge sends", "l.json", `{"scenarios":[{"name":"x","path":"in-order","frames":[{"header":1,"payload":1}],"sends":[9223372036854775807, 9223372036854775807, 2]}]}`, "sends add up to"},
		{"huge step", "m.json", `{"scenarios":[{"name":"x","path":"in-order","frames":[{"header":1,"payload":1}],"steps":[{"send":9223372036854775807},{"send":9223372036854775807},{"recv":9223372036854775807}]}]}`, "a number outside the 10-byte stream"},
		{"escape in name", "n.json", `{"scenarios":[{"name":"x\u001b[2J","path":"in-order","frames":[{"header":1,"payload":1}],"sends":[10]}]}`, `scenario "x\x1b[2J": name has control characters`},
	} {
		taken := map[string]bool{"split-frame": true}
		_, err := LoadFile(write(tt.file, tt.body), taken)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.file) {
			t.Errorf("%s: %v, want the file and %q", tt.name, err, tt.want)
		}
	}
}

// Every kind of step reads from YAML as written.
func TestLoadFileSteps(t *testing.T) {
	p := filepath.Join(t.TempDir(), "steps.yaml")
	os.WriteFile(p, []byte(`scenarios:
  - name: all-kinds
    path: fastopen
    fastopen: no-cookie
    frames: [{header: 4, payload: 20}]
    steps:
      - autolowat: true
      - segment: {offset: 0, len: 12, syn_data: true}
      - rcvlowat: 32
      - poll: 0
      - segment: {offset: 12, len: 20}
      - poll: 1
      - recv: 32
`), 0o644)
	got, err := LoadFile(p, map[string]bool{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Step{
		{Kind: StepAutolowat},
		{Kind: StepSegment, Segment: Segment{Offset: 0, Len: 12, SynData: true}},
		{Kind: StepRcvlowat, N: 32},
		{Kind: StepPoll, N: 0},
		{Kind: StepSegment, Segment: Segment{Offset: 12, Len: 20}},
		{Kind: StepPoll, N: 1},
		{Kind: StepRecv, N: 32},
	}
	if !slices.Equal(got[0].Script, want) {
		t.Errorf("steps %v, want %v", got[0].Script, want)
	}
	if !got[0].OptInBeforeData() || !got[0].Peer() || !slices.Equal(got[0].Modes(), []string{Autolowat}) {
		t.Errorf("opt-in first %v, peer %v, modes %v", got[0].OptInBeforeData(), got[0].Peer(), got[0].Modes())
	}
}

// A malformed step is refused naming the file, the scenario, the step
// and the reason.
func TestLoadFileBadSteps(t *testing.T) {
	const head = "scenarios:\n  - name: s\n    path: %s\n    frames: [{header: 4, payload: 20}, {header: 4, payload: 20}]\n    steps:\n"
	for _, tt := range []struct {
		name, path, steps, want string
	}{
		{"unknown kind", "in-order", "      - sned: 64\n", `step 1: unknown step "sned": want one of send, segment, recv, poll, rcvlowat, autolowat`},
		{"two keys", "in-order", "      - {send: 64, poll: 1}\n", "step 1: has 2 keys (poll, send): a step does one thing"},
		{"empty", "in-order", "      - send: 64\n      - {}\n", "step 2: empty"},
		{"not an object", "in-order", "      - send: 64\n      - poll\n", `step 2: "poll" is not a step`},
		{"send not a number", "in-order", "      - send: many\n", `step 1: send: want a whole number, got "many"`},
		{"send zero", "in-order", "      - send: 0\n      - send: 64\n", "step 1 (send): 0 bytes; every send must carry data"},
		{"send past the end", "in-order", "      - send: 60\n      - send: 8\n", "step 2 (send): 8 bytes from offset 60 go past the end of the 64-byte stream"},
		{"sends short", "in-order", "      - send: 60\n", "send steps add up to 60 bytes but the frames are 64 bytes"},
		{"segment field", "ofo", "      - segment: {offset: 0, length: 64}\n", `step 1: segment: want {offset, len, syn_data}: json: unknown field "length"`},
		{"segment outside", "ofo", "      - segment: {offset: 60, len: 8}\n", "step 1 (segment): bytes 60..68 outside the 64-byte stream"},
		{"segments leave a hole", "ofo", "      - segment: {offset: 0, len: 10}\n      - segment: {offset: 20, len: 44}\n", "segment steps leave byte 10 of 64 unsent"},
		{"late syn", "fastopen", "      - segment: {offset: 0, len: 10}\n      - segment: {offset: 10, len: 54, syn_data: true}\n", "step 2 (segment): only the first step, or the first after autolowat, can ride in the SYN"},
		{"mixed", "in-order", "      - send: 10\n      - segment: {offset: 10, len: 54}\n", "steps mix send and segment"},
		{"ofo over loopback", "ofo", "      - send: 64\n", `path "ofo" needs segments sent by the TCP peer`},
		{"nothing sent", "in-order", "      - poll: 0\n", "no send or segment step"},
		{"recv zero", "in-order", "      - send: 64\n      - recv: 0\n", "step 2 (recv): 0 bytes; a read asks for at least 1"},
		{"recv too much", "in-order", "      - send: 10\n      - recv: 4\n      - recv: 7\n      - send: 54\n", "step 3 (recv): 7 bytes, but the steps before it leave 6 unread bytes readable"},
		{"recv beyond a hole", "ofo", "      - segment: {offset: 10, len: 54}\n      - recv: 1\n      - segment: {offset: 0, len: 10}\n", "step 2 (recv): 1 bytes, but the steps before it leave 0 unread bytes readable"},
		{"poll two", "in-order", "      - send: 64\n      - poll: 2\n", "step 2 (poll): 2 ready: the epoll set holds only the reader, so expect 0 or 1"},
		{"rcvlowat zero", "in-order", "      - send: 64\n      - rcvlowat: 0\n", "step 2 (rcvlowat): 0: the kernel never lets SO_RCVLOWAT go below 1"},
		{"autolowat false", "in-order", "      - autolowat: false\n      - send: 64\n", "step 1: autolowat: want true, got false"},
		{"autolowat twice", "in-order", "      - autolowat: true\n      - send: 64\n      - autolowat: true\n", "step 3 (autolowat): given twice"},
		{"autolowat mid-frame", "in-order", "      - send: 10\n      - autolowat: true\n      - send: 54\n", "step 2 (autolowat): after 10 bytes of the stream, inside a frame"},
		{"steps and sends", "in-order", "      - send: 64\n    sends: [64]\n", "give steps, or sends or segments, not both"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "bad.yaml")
			os.WriteFile(p, []byte(fmt.Sprintf(head, tt.path)+tt.steps), 0o644)
			_, err := LoadFile(p, map[string]bool{})
			if err == nil {
				t.Fatalf("accepted, want %q", tt.want)
			}
			// At the step the error names (the head's 5 lines, then a step
			// a line), else at the scenario.
			pos := ":2:5:"
			if m := regexp.MustCompile(`^step (\d+)`).FindStringSubmatch(tt.want); m != nil {
				n, _ := strconv.Atoi(m[1])
				pos = fmt.Sprintf(":%d:9:", 5+n)
			}
			if !strings.Contains(err.Error(), p+pos+` scenario 1: scenario "s": `+tt.want) {
				t.Errorf("error %q\nwant the file at %s, the scenario and %q", err, pos, tt.want)
			}
		})
	}
}

// A device or a FIFO is refused at once, not read until memory runs out.
func TestLoadFileNotRegular(t *testing.T) {
	_, err := LoadFile("/dev/zero", map[string]bool{})
	if err == nil || !strings.Contains(err.Error(), "/dev/zero is a character device, not a regular file") {
		t.Errorf("%v", err)
	}
}

// BenchmarkLoadSteps loads a script of the most steps a scenario may
// have: a file the bounds allow must load in about the time it takes to
// read, whatever its number of steps.
func BenchmarkLoadSteps(b *testing.B) {
	path := filepath.Join(b.TempDir(), "steps.json")
	doc := `{"scenarios":[{"name":"x","path":"in-order","frames":[{"header":4,"payload":65524}],"steps":[` +
		strings.Repeat(`{"send":1},`, MaxSteps-1) + `{"send":1}]}]}`
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := LoadFile(path, map[string]bool{}); err != nil {
			b.Fatal(err)
		}
	}
}

// A file nested deeper than any scenario needs is refused before the
// parser sees it (its memory grew by gigabytes), in YAML and in JSON.
func TestNestingRefused(t *testing.T) {
	dir := t.TempDir()
	for name, doc := range map[string]string{
		"flow.yaml":  "scenarios: " + strings.Repeat("[", 50000) + strings.Repeat("]", 50000) + "\n",
		"flow.json":  `{"scenarios": ` + strings.Repeat("[", 50000) + strings.Repeat("]", 50000) + `}`,
		"dash.yaml":  "scenarios:\n  " + strings.Repeat("- ", 50000) + "x\n",
		"mixed.yaml": "scenarios:\n  - name: a # [[[[ not counted\n    note: \"{{{{ nor this\"\n" + strings.Repeat("[", 70) + strings.Repeat("]", 70) + "\n",
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(doc), 0o644)
		_, err := LoadFile(p, map[string]bool{})
		if err == nil || !strings.Contains(err.Error(), "levels deep: a scenario file needs a few, at most 64") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, d := nesting([]byte("a: \"[[[[\" # {{{{\nb: '[[[['\n")); d != 0 {
		t.Errorf("quoted and commented brackets counted: depth %d", d)
	}
}

// What a careless hand writes gets words that say what is wrong, or is
// read as meant: a byte order mark, YAML in a file not named .yaml, a
// name YAML would turn into a number, a send longer than the stream.
func TestLoadFileCarelessHands(t *testing.T) {
	dir := t.TempDir()
	const yamlDoc = "# mine\nscenarios:\n  - name: x\n    path: in-order\n    frames: [{header: 4, payload: 4}]\n    sends: [16]\n"
	for name, tc := range map[string]struct{ doc, want string }{
		"bom.json":  {"\xef\xbb\xbf" + `{"scenarios":[{"name":"x","path":"in-order","frames":[{"header":4,"payload":4}],"sends":[16]}]}`, ""},
		"yaml.txt":  {yamlDoc, ""},
		"hex.yaml":  {strings.Replace(yamlDoc, "name: x", "name: 0x1F", 1), "name: want text, got 0x1F; put it in quotes"},
		"inf.yaml":  {strings.Replace(yamlDoc, "sends: [16]", "sends: [.inf]", 1), "want a whole number, got .inf"},
		"long.yaml": {strings.Replace(yamlDoc, "sends: [16]", "sends: [100]", 1), "sends add up to more than the 16 bytes of the frames"},
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(tc.doc), 0o644)
		scs, err := LoadFile(p, map[string]bool{})
		switch {
		case tc.want == "" && (err != nil || len(scs) != 1 || scs[0].Name != "x"):
			t.Errorf("%s: %v, %v", name, scs, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}
