package analysis

import (
	"strings"
	"testing"

	"github.com/kernel-harness/harness/harness/scenario"
	"github.com/kernel-harness/harness/harness/wire"
)

func edge(t *testing.T, name string) scenario.Scenario {
	t.Helper()
	for _, s := range scenario.Edges() {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no edge scenario %q", name)
	return scenario.Scenario{}
}

// no-stall fails when the reader settles asleep with bytes queued, or
// ends other than the close says; woken-on-close when the poll after the
// close finds the reader not ready.
func TestCheckLiveness(t *testing.T) {
	fin := edge(t, "fin-mid-frame") // 184 bytes sent, then a FIN
	poll := func(ready int) *wire.Event {
		return &wire.Event{Kind: wire.Poll, Value: "close", Ready: ready, Queued: 60, Lowat: 124, Epoll: "IN|RDHUP"}
	}
	settle := func(v string) *wire.Event {
		return &wire.Event{Kind: wire.Settle, Value: v, Queued: 60, Lowat: 124, Bytes: 60}
	}
	for _, tt := range []struct {
		name string
		end  ending
		read int
		fail map[string]string // check -> what its Got says
	}{
		{"woken, read, eof", ending{closePoll: poll(1), settle: settle("eof")}, 184, nil},
		{"never woken", ending{closePoll: poll(0), settle: settle("stalled")}, 124, map[string]string{
			"no-stall": "the reader was not woken with 60 bytes queued (SO_RCVLOWAT 124) and 60 of 184 unread", "woken-on-close": "not ready, with 60 bytes queued"}},
		{"a reset where a FIN was sent", ending{closePoll: poll(1), settle: settle("reset")}, 184, map[string]string{"no-stall": "ended with reset"}},
		{"not reported", ending{}, 184, map[string]string{"no-stall": "did not report", "woken-on-close": "did not poll"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			checks := checkLiveness(fin, tt.end, tt.read)
			if len(checks) != 2 {
				t.Fatalf("%d checks, want no-stall and woken-on-close", len(checks))
			}
			for _, ch := range checks {
				want, bad := tt.fail[ch.Name]
				if ch.Pass == bad || bad && !strings.Contains(ch.Got, want) {
					t.Errorf("%s: pass %v, got %q; want fail %v with %q", ch.Name, ch.Pass, ch.Got, bad, want)
				}
			}
		})
	}
	// Without a close, only no-stall.
	if checks := checkLiveness(builtin(t, "split-frame"), ending{settle: &wire.Event{Kind: wire.Settle, Value: "drained"}}, 464); len(checks) != 1 || !checks[0].Pass {
		t.Errorf("split-frame drained: %+v", checks)
	}
}

// The kernel's own reasons for a wake-up, from what the tracer saw.
func TestWakeReason(t *testing.T) {
	for _, tt := range []struct {
		e    wire.Event
		want string
	}{
		{wire.Event{RmemAlloc: 1000, Rcvbuf: 16384, Window: 60000, RcvMSS: 1000}, ""},
		{wire.Event{RmemAlloc: 14337, Rcvbuf: 16384, Window: 60000, RcvMSS: 1000}, "memory pressure: sk_rmem_alloc 14337 above 7/8 of sk_rcvbuf 16384"},
		{wire.Event{RmemAlloc: 1000, Rcvbuf: 16384, Window: 1000, RcvMSS: 1000}, "receive window 1000 down to the MSS 1000"},
		{wire.Event{Shutdown: 1}, "the peer closed"},
		{wire.Event{Path: wire.WakeState}, ""}, // the handshake's change of state
	} {
		if got := wakeReason(tt.e); got == "" && tt.want != "" || !strings.Contains(got, tt.want) {
			t.Errorf("wakeReason(%+v) = %q, want %q", tt.e, got, tt.want)
		}
	}
}

// The program gives up where the series' does: on a length over 1 MiB
// and on an skb with more parse steps than it takes; then it asks for 1.
func TestProgramGivesUp(t *testing.T) {
	for _, tt := range []struct {
		name     string
		failedAt int
	}{
		{"overflowing-descriptor", 1},
		{"many-descriptors-one-send", 1},
		{"optin-mid-stream-unread", 2},
		{"fin-mid-frame", 0},
		{"zero-length-frames", 0},
	} {
		m := model(scenario.Case{Scenario: edge(t, tt.name), Mode: scenario.Autolowat}, kernelSeen{})
		if m.failedAt != tt.failedAt {
			t.Errorf("%s: gave up at step %d, want %d", tt.name, m.failedAt, tt.failedAt)
		}
		for i, e := range m.expects {
			if tt.failedAt > 0 && i+1 >= tt.failedAt && e.LowatAfterSend != 1 {
				t.Errorf("%s step %d: rcvlowat %d after giving up, want 1", tt.name, i+1, e.LowatAfterSend)
			}
		}
	}
}

// The program followed byte for byte agrees with the rule read plainly
// (ruleLowat) wherever the stream is honest and read whole.
func TestProgramAgreesWithRule(t *testing.T) {
	for _, s := range scenario.All() {
		if s.Reader != nil || s.OptInAfter != 0 || s.AppRcvlowat != nil || !plainRule(s) {
			continue
		}
		ends := s.FrameEnds()
		c := scenario.Case{Scenario: s, Mode: scenario.Autolowat}
		copied := 0
		for i, e := range Model(c) {
			received := s.Prefix()[i]
			if want := ruleLowat(ends, received, copied); e.LowatAfterSend != want && received > 0 {
				t.Errorf("%s step %d: %d, the rule says %d", s.Name, i+1, e.LowatAfterSend, want)
			}
			if e.Ready {
				copied = received
			}
		}
	}
}

// plainRule says the rule read plainly applies to the scenario's stream:
// no raw descriptors, no more steps per skb than the program takes.
func plainRule(s scenario.Scenario) bool {
	for _, f := range s.Frames {
		if len(f.Desc) > 0 {
			return false
		}
	}
	return s.Name != "many-descriptors-one-send"
}

// A wake-up at a rcvlowat capped by tcp_set_rcvlowat() is the kernel's.
func TestExplainedWakesCapped(t *testing.T) {
	steps := []*step{{wakes: []wire.Event{{Lowat: 8192, RmemAlloc: 100, Rcvbuf: 16384, Window: 9000, RcvMSS: 1000}}}, {wakes: []wire.Event{{Lowat: 64}}}}
	got := explainedWakes(steps, 8192)
	if !strings.Contains(got[1], "rcvlowat capped at 8192") || got[2] != "" {
		t.Errorf("explained %v", got)
	}
}

// The other connections of a scenario are checked whole: one left
// asleep fails other-connections.
func TestCheckOthers(t *testing.T) {
	s := edge(t, "many-connections")
	settled := &wire.Event{Kind: wire.Settle, Value: "drained"}
	for _, tt := range []struct {
		others *wire.Event
		pass   bool
	}{
		{&wire.Event{Kind: wire.Others, Value: "ok", Bytes: 15 * s.SentLen()}, true},
		{&wire.Event{Kind: wire.Others, Value: "failed", Message: "connection 3 left asleep with 60 bytes queued"}, false},
		{&wire.Event{Kind: wire.Others, Value: "ok", Bytes: 10}, false},
		{nil, false},
	} {
		checks := checkLiveness(s, ending{settle: settled, others: tt.others}, s.SentLen())
		if len(checks) != 2 || checks[1].Name != "other-connections" || checks[1].Pass != tt.pass {
			t.Errorf("others %+v: %+v, want pass %v", tt.others, checks, tt.pass)
		}
	}
}
