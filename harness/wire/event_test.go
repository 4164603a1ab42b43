package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"sync"
	"testing"
)

var sample = []Event{
	{Kind: Hello, TimeNS: 1, Release: "6.12.0-test"},
	{Kind: ScenarioStart, TimeNS: 2, Scenario: "split-frame/ipv4/autolowat"},
	{Kind: Send, TimeNS: 3, Scenario: "split-frame/ipv4/autolowat", Step: 1, Offset: 0, Bytes: 3},
	{Kind: Recv, TimeNS: 4, Scenario: "split-frame/ipv4/autolowat", Step: 5, Offset: 232, Bytes: 232, CRC32: 0xdeadbeef, Lowat: 8},
	{Kind: KernelRcvq, TimeNS: 5, Cookie: 1 << 40, Seq: 4000000000, Len: 1448, Path: "in-order"},
	{Kind: Feature, TimeNS: 6, Name: "rcvq-op", Value: "12", OK: true, Counters: map[string]int64{"a": 1, "b": -2}},
	{Kind: Done, TimeNS: 7},
}

func TestRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for _, e := range sample {
		if err := w.Emit(e); err != nil {
			t.Fatal(err)
		}
	}
	// One JSON object per line.
	if n := strings.Count(buf.String(), "\n"); n != len(sample) {
		t.Fatalf("%d lines for %d events", n, len(sample))
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	r := NewReader(&buf)
	for i, want := range sample {
		got, raw, err := r.Next()
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("event %d: got %+v, want %+v", i, got, want)
		}
		// The raw line is kept as written, for events.jsonl.
		if string(raw) != lines[i] {
			t.Errorf("event %d raw %q, want %q", i, raw, lines[i])
		}
	}
	if _, _, err := r.Next(); err != io.EOF {
		t.Errorf("after the last event: %v, want io.EOF", err)
	}
}

// Fields that do not apply are left out, so the lines stay short.
func TestOmitEmpty(t *testing.T) {
	var buf bytes.Buffer
	NewWriter(&buf).Emit(Event{Kind: Done, TimeNS: 7})
	if got := strings.TrimSpace(buf.String()); got != `{"kind":"done","t_ns":7}` {
		t.Errorf("done event written as %s", got)
	}
}

func TestReaderErrors(t *testing.T) {
	tests := []struct {
		name, input, want string
		good              int // events read before the error
	}{
		{"corrupt line", `{"kind":"hello","t_ns":1}` + "\n" + `{"kind":"send","t_ns":` + "\n", "event line 2:", 1},
		{"not json", "garbage\n", "event line 1:", 0},
		{"no kind", `{"t_ns":5,"bytes":3}` + "\n", "event line 1: no kind", 0},
		// Blank lines are skipped but still counted.
		{"after blank lines", "\n\n" + `{"kind":"hello"}` + "\n\n{\n", "event line 5:", 1},
		{"wrong type", `{"kind":"send","bytes":"many"}` + "\n", "event line 1:", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := ReadAll(strings.NewReader(tt.input))
			if err == nil {
				t.Fatalf("no error; read %+v", evs)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
			if len(evs) != tt.good {
				t.Errorf("%d events before the error, want %d", len(evs), tt.good)
			}
		})
	}
}

func TestReadAll(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for _, e := range sample {
		w.Emit(e)
	}
	buf.WriteString("\n") // a trailing blank line is not an event
	got, err := ReadAll(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, sample) {
		t.Errorf("ReadAll:\n got %+v\nwant %+v", got, sample)
	}
	if got, err := ReadAll(strings.NewReader("")); err != nil || len(got) != 0 {
		t.Errorf("empty stream: %v, %v", got, err)
	}
}

// A line longer than bufio's default 64 KiB still reads.
func TestLongLine(t *testing.T) {
	e := Event{Kind: Log, Message: strings.Repeat("x", 200<<10)}
	var buf bytes.Buffer
	NewWriter(&buf).Emit(e)
	got, err := ReadAll(&buf)
	if err != nil || len(got) != 1 || got[0].Message != e.Message {
		t.Fatalf("long line: %d events, %v", len(got), err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("port gone") }

func TestEmitError(t *testing.T) {
	err := NewWriter(failWriter{}).Emit(Event{Kind: Hello})
	if err == nil || !strings.Contains(err.Error(), "write event: port gone") {
		t.Errorf("Emit = %v", err)
	}
}

// Concurrent emits never interleave within a line.
func TestConcurrentEmit(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				w.Emit(Event{Kind: Log, Step: g, Message: strings.Repeat("m", 100)})
			}
		}()
	}
	wg.Wait()
	evs, err := ReadAll(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 800 {
		t.Errorf("%d events, want 800", len(evs))
	}
	for _, e := range evs {
		if b, _ := json.Marshal(e); len(e.Message) != 100 {
			t.Errorf("mangled event %s", b)
			break
		}
	}
}

// A scripted step's expectation is kept even when it is 0, and events
// written before the field existed read back without one.
func TestExpect(t *testing.T) {
	zero := 0
	var buf bytes.Buffer
	NewWriter(&buf).Emit(Event{Kind: Poll, TimeNS: 1, Step: 2, Expect: &zero})
	if got := strings.TrimSpace(buf.String()); got != `{"kind":"poll","t_ns":1,"step":2,"expect":0}` {
		t.Errorf("line %s", got)
	}
	e, _, err := NewReader(&buf).Next()
	if err != nil || e.Expect == nil || *e.Expect != 0 {
		t.Fatalf("read back %+v, %v", e, err)
	}
	old, _, err := NewReader(strings.NewReader(`{"kind":"poll","t_ns":1,"step":2,"ready":1}` + "\n")).Next()
	if err != nil || old.Expect != nil || old.Ready != 1 {
		t.Errorf("old line read as %+v, %v", old, err)
	}
}
