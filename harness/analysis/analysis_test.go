package analysis

import (
	"hash/crc32"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/scenario"
	"github.com/kernel-harness/harness/harness/wire"
)

// guest simulates a correct guest agent running one case: the events it
// sends, stamped in the order the real agent stamps them. Kernel events
// happen inside the write and the read, so they are stamped before the
// send and recv events that follow those calls.
func guest(c scenario.Case, rcvq bool) []wire.Event {
	id := c.ID()
	s := c.Scenario
	stream := s.Stream()
	want := Model(c)
	var evs []wire.Event
	now := int64(1_000_000)
	emit := func(e wire.Event) {
		now += 1000
		e.TimeNS, e.Scenario = now, id
		evs = append(evs, e)
	}
	emit(wire.Event{Kind: wire.ScenarioStart})
	emit(wire.Event{Kind: wire.Rcvlowat, Cookie: 4242, Lowat: 1})
	sent, read := 0, 0
	for i, n := range s.Sends {
		step, w := i+1, want[i]
		if rcvq {
			emit(wire.Event{Kind: wire.KernelRcvq, Cookie: 4242, Path: scenario.PathInOrder})
		}
		if w.Ready {
			// tcp_data_ready wakes the reader only when rcvlowat is met.
			emit(wire.Event{Kind: wire.KernelWake, Cookie: 4242, Queued: sent + n - read})
		}
		emit(wire.Event{Kind: wire.Send, Step: step, Offset: int64(sent), Bytes: n})
		sent += n
		ready := 0
		if w.Ready {
			ready = 1
		}
		emit(wire.Event{Kind: wire.Poll, Step: step, Ready: ready, Queued: sent - read, Lowat: w.LowatAfterSend})
		if !w.Ready {
			continue
		}
		if rcvq {
			emit(wire.Event{Kind: wire.KernelRcvq, Cookie: 4242, Path: "recvmsg"})
		}
		emit(wire.Event{Kind: wire.Recv, Step: step, Offset: int64(read), Bytes: sent - read,
			CRC32: crc32.ChecksumIEEE(stream[read:sent]), Lowat: w.LowatAfterRecv})
		read = sent
	}
	emit(wire.Event{Kind: wire.Settle, Step: len(s.Sends) + 1, Value: "drained"})
	emit(wire.Event{Kind: wire.ScenarioEnd, OK: true})
	return evs
}

func mkCase(t *testing.T, name, mode string) scenario.Case {
	return scenario.Case{Scenario: builtin(t, name), Family: scenario.IPv4, Mode: mode}
}

func analyzeOne(c scenario.Case, evs []wire.Event, rcvq bool) report.Scenario {
	return Analyze(scenario.Plan{Cases: []scenario.Case{c}}, evs, rcvq)[0]
}

func checkNames(cs []report.Check) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

func findCheck(t *testing.T, r report.Scenario, name string) report.Check {
	t.Helper()
	for _, c := range r.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no check %q among %q", name, checkNames(r.Checks))
	return report.Check{}
}

// index finds the event of a kind at a step; for kernel events, which
// carry no step, the first one after the send of that step's predecessor.
func index(t *testing.T, evs []wire.Event, kind wire.Kind, step int) int {
	t.Helper()
	seen := 0 // sends seen so far
	for i, e := range evs {
		if e.Kind == wire.Send {
			seen = e.Step
		}
		if e.Kind != kind {
			continue
		}
		if e.Step == step || (e.Step == 0 && seen == step-1) {
			return i
		}
	}
	t.Fatalf("no %s event for step %d", kind, step)
	return -1
}

// wantFailed asserts the verdict is fail and exactly these checks failed.
func wantFailed(t *testing.T, r report.Scenario, names ...string) {
	t.Helper()
	if r.Verdict != report.Fail {
		t.Errorf("verdict %q (%s), want fail", r.Verdict, r.Reason)
	}
	if got := checkNames(r.FailedChecks); !slices.Equal(got, names) {
		t.Errorf("failed checks %q, want %q", got, names)
	}
}

func TestAnalyzeCorrectBaseline(t *testing.T) {
	c := mkCase(t, "split-frame", scenario.Baseline)
	r := analyzeOne(c, guest(c, false), false)
	if r.Verdict != report.Pass {
		t.Fatalf("verdict %q, failed %+v", r.Verdict, r.FailedChecks)
	}
	wantChecks := []string{"all-delivered", "bytes-intact", "epollin-backed-by-kernel",
		"epollin-equals-kernel-wakeups", "epollin-per-send", "rcvlowat", "kernel-path", "no-stall"}
	if got := checkNames(r.Checks); !slices.Equal(got, wantChecks) {
		t.Errorf("checks %q, want %q", got, wantChecks)
	}
	for _, ch := range r.Checks {
		if !ch.Pass {
			t.Errorf("check %s failed: %s", ch.Name, ch.Got)
		}
	}
	if r.EpollinUser != 6 || r.EpollinKernel != 6 {
		t.Errorf("EPOLLIN user %d kernel %d, want 6 and 6", r.EpollinUser, r.EpollinKernel)
	}
	// Reads of 3, 5, 40 and 100 bytes complete no frame; the stock kernel
	// wakes the reader for each.
	if r.PartialReads != 4 {
		t.Errorf("partial reads %d, want 4", r.PartialReads)
	}
	// The initial value, then after each of the 6 sends and 6 reads.
	if want := slices.Repeat([]int{1}, 13); !slices.Equal(r.Rcvlowat, want) {
		t.Errorf("rcvlowat %v, want %v", r.Rcvlowat, want)
	}
	if got := findCheck(t, r, "epollin-per-send").Got; got != "EPOLLIN after sends 1,2,3,4,5,6" {
		t.Errorf("epollin-per-send got %q", got)
	}
	if got := findCheck(t, r, "bytes-intact").Got; got != "464 bytes intact" {
		t.Errorf("bytes-intact got %q", got)
	}
	if r.Name != "split-frame" || r.Family != scenario.IPv4 || r.Mode != scenario.Baseline || r.Frames != 2 || r.Sends != 6 {
		t.Errorf("case fields %+v", r)
	}
}

func TestAnalyzeCorrectAutolowat(t *testing.T) {
	c := mkCase(t, "split-frame", scenario.Autolowat)
	r := analyzeOne(c, guest(c, false), false)
	if r.Verdict != report.Pass {
		t.Fatalf("verdict %q, failed %+v", r.Verdict, r.FailedChecks)
	}
	wantChecks := []string{"all-delivered", "bytes-intact", "epollin-backed-by-kernel",
		"epollin-equals-kernel-wakeups", "epollin-per-frame", "rcvlowat", "kernel-path", "no-partial-reads", "no-stall"}
	if got := checkNames(r.Checks); !slices.Equal(got, wantChecks) {
		t.Errorf("checks %q, want %q", got, wantChecks)
	}
	if r.EpollinUser != 2 || r.EpollinKernel != 2 || r.PartialReads != 0 {
		t.Errorf("EPOLLIN user %d kernel %d, partial reads %d; want 2, 2, 0", r.EpollinUser, r.EpollinKernel, r.PartialReads)
	}
	if want := []int{1, 8, 232, 232, 232, 232, 8, 232, 8}; !slices.Equal(r.Rcvlowat, want) {
		t.Errorf("rcvlowat %v, want %v", r.Rcvlowat, want)
	}
	if got := findCheck(t, r, "epollin-per-frame").Got; got != "EPOLLIN after sends 5,6" {
		t.Errorf("epollin-per-frame got %q", got)
	}
}

// Every builtin case from a correct guest passes, whichever order the
// events arrive in and with other cases' events mixed in.
func TestAnalyzeAllBuiltinsPass(t *testing.T) {
	plan := scenario.Plan{Cases: scenario.Expand(scenario.Builtin(), nil)}
	var evs []wire.Event
	for _, c := range plan.Cases {
		evs = append(evs, guest(c, true)...)
	}
	rand.New(rand.NewSource(1)).Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
	got := Analyze(plan, evs, true)
	if len(got) != len(plan.Cases) {
		t.Fatalf("%d results for %d cases", len(got), len(plan.Cases))
	}
	for i, r := range got {
		c := plan.Cases[i]
		if r.Name != c.Scenario.Name || r.Family != c.Family || r.Mode != c.Mode {
			t.Errorf("result %d is %s/%s/%s, want %s", i, r.Name, r.Family, r.Mode, c.ID())
		}
		if r.Verdict != report.Pass {
			t.Errorf("%s: verdict %q, failed %+v", c.ID(), r.Verdict, r.FailedChecks)
		}
	}
}

// A send bigger than one segment may take several wake-ups, so the counts
// are not compared there.
func TestAnalyzeNoWakeupCountAboveMSS(t *testing.T) {
	c := mkCase(t, "frame-larger-than-mss", scenario.Baseline)
	r := analyzeOne(c, guest(c, false), false)
	if slices.Contains(checkNames(r.Checks), "epollin-equals-kernel-wakeups") {
		t.Errorf("checks %q compare wake-up counts for a 6072-byte send over a 1428-byte MSS", checkNames(r.Checks))
	}
}

func TestAnalyzeMissingKernelWake(t *testing.T) {
	c := mkCase(t, "split-frame", scenario.Baseline)
	evs := guest(c, false)
	i := index(t, evs, wire.KernelWake, 3)
	evs = slices.Delete(evs, i, i+1)
	r := analyzeOne(c, evs, false)
	wantFailed(t, r, "epollin-backed-by-kernel", "epollin-equals-kernel-wakeups")
	if got := findCheck(t, r, "epollin-backed-by-kernel").Got; got != "step 3: EPOLLIN with no kernel wake-up since the previous poll" {
		t.Errorf("epollin-backed-by-kernel got %q", got)
	}
	if r.EpollinKernel != 5 {
		t.Errorf("EpollinKernel %d, want 5", r.EpollinKernel)
	}
}

func TestAnalyzeCorruptBytes(t *testing.T) {
	c := mkCase(t, "split-frame", scenario.Baseline)
	evs := guest(c, false)
	evs[index(t, evs, wire.Recv, 2)].CRC32 ^= 1
	r := analyzeOne(c, evs, false)
	wantFailed(t, r, "bytes-intact")
	if ch := findCheck(t, r, "bytes-intact"); ch.Got != "step 2: bytes 3..8 differ from what was sent" {
		t.Errorf("bytes-intact got %q", ch.Got)
	}
	// Every byte still arrived; the count must not stop at the fault.
	if ch := findCheck(t, r, "all-delivered"); ch.Got != "464 bytes sent in 6 sends, 464 read" {
		t.Errorf("all-delivered got %q", ch.Got)
	}
}

func TestAnalyzeReadAtWrongOffset(t *testing.T) {
	c := mkCase(t, "one-frame-per-send", scenario.Baseline)
	evs := guest(c, false)
	evs[index(t, evs, wire.Recv, 2)].Offset = 100
	r := analyzeOne(c, evs, false)
	wantFailed(t, r, "bytes-intact")
	if ch := findCheck(t, r, "bytes-intact"); ch.Got != "step 2 read at offset 100, expected 124" {
		t.Errorf("bytes-intact got %q", ch.Got)
	}
}

// An EPOLLIN while a frame is incomplete, backed by a kernel wake-up: only
// the per-frame check can see it.
func TestAnalyzeExtraEpollinAutolowat(t *testing.T) {
	c := mkCase(t, "split-frame", scenario.Autolowat)
	evs := guest(c, false)
	p := index(t, evs, wire.Poll, 1)
	evs[p].Ready = 1
	wake := wire.Event{Kind: wire.KernelWake, TimeNS: evs[p].TimeNS - 1, Scenario: c.ID(), Cookie: 4242}
	evs = slices.Insert(evs, p, wake)
	r := analyzeOne(c, evs, false)
	wantFailed(t, r, "epollin-per-frame")
	ch := findCheck(t, r, "epollin-per-frame")
	if ch.Want != "EPOLLIN after sends 5,6" || ch.Got != "EPOLLIN after sends 1,5,6" {
		t.Errorf("epollin-per-frame want %q got %q", ch.Want, ch.Got)
	}
}

func TestAnalyzeWrongLowat(t *testing.T) {
	c := mkCase(t, "split-frame", scenario.Autolowat)
	tests := []struct {
		name   string
		mutate func(evs []wire.Event)
		got    string
	}{
		{"after send", func(evs []wire.Event) { evs[index(t, evs, wire.Poll, 2)].Lowat = 8 },
			"step 2 after the send: 8, the series' rule says 232 (-224)"},
		{"after read", func(evs []wire.Event) { evs[index(t, evs, wire.Recv, 5)].Lowat = 232 },
			"step 5 after the read: 232, the series' rule says 8 (+224)"},
		{"initial", func(evs []wire.Event) { evs[index(t, evs, wire.Rcvlowat, 0)].Lowat = 8 },
			"when the reader first looks: 8, the series' rule says 1 (+7)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs := guest(c, false)
			tt.mutate(evs)
			r := analyzeOne(c, evs, false)
			wantFailed(t, r, "rcvlowat")
			if got := findCheck(t, r, "rcvlowat").Got; got != tt.got {
				t.Errorf("rcvlowat got %q, want %q", got, tt.got)
			}
		})
	}
}

// A program of the user's that sets other values than the series' rule
// while waking the reader exactly per frame passes: the report says where
// and by how much its values differ. Ours, with the same values, fails.
func TestAnalyzeUserProgramRuleDifferences(t *testing.T) {
	c := mkCase(t, "many-small-frames", scenario.Autolowat)
	evs := guest(c, false)
	// After the first read, frame 5 has 4 of its descriptor's 8 bytes in;
	// a program that asks for the rest of it says 4, the rule 8.
	evs[index(t, evs, wire.Recv, 1)].Lowat = 4
	if r := analyzeOne(c, evs, false); r.Verdict != report.Fail || findCheck(t, r, "rcvlowat").Pass {
		t.Fatalf("our program: verdict %s, checks %+v", r.Verdict, r.Checks)
	}
	user := append([]wire.Event{{Kind: wire.BPF, OK: true, Name: "/harness/bpf/object.o"}}, evs...)
	plan := scenario.Plan{Cases: []scenario.Case{c}}
	r := Analyze(plan, user, false)[0]
	if r.Verdict != report.Pass {
		t.Fatalf("user's program: verdict %s, failed %+v", r.Verdict, r.FailedChecks)
	}
	for _, ch := range r.Checks {
		if ch.Name == "rcvlowat" {
			t.Errorf("user's program: a rcvlowat check %+v decides the verdict", ch)
		}
	}
	want := []string{"step 1 after the read: 4, the series' rule says 8 (-4)"}
	if !slices.Equal(r.RuleDifferences, want) {
		t.Errorf("rule differences %q, want %q", r.RuleDifferences, want)
	}
	// A wake-up the rule would not give still fails a user's program.
	user[index(t, user, wire.Poll, 1)].Ready = 0
	if r := Analyze(plan, user, false)[0]; r.Verdict != report.Fail {
		t.Errorf("user's program, a wake-up missed: verdict %s", r.Verdict)
	}
}

func TestAnalyzeBracketing(t *testing.T) {
	c := mkCase(t, "one-frame-per-send", scenario.Baseline)
	drop := func(kind wire.Kind) []wire.Event {
		return slices.DeleteFunc(guest(c, false), func(e wire.Event) bool { return e.Kind == kind })
	}
	endWith := func(value, msg string) []wire.Event {
		evs := guest(c, false)
		end := &evs[len(evs)-1]
		end.OK, end.Value, end.Message = false, value, msg
		return evs
	}
	tests := []struct {
		name    string
		evs     []wire.Event
		verdict string
		reason  string // a part of it
	}{
		{"no events", nil, report.Error, "never started"},
		{"no start", drop(wire.ScenarioStart), report.Error, "never started"},
		{"no end", drop(wire.ScenarioEnd), report.Error, "stopped during"},
		{"no reader", drop(wire.Rcvlowat), report.Error, "no reader socket"},
		{"unsupported", endWith(report.Unsupported, "autolowat: load: no RCVQ op"), report.Unsupported, "autolowat: load: no RCVQ op"},
		{"error", endWith(report.Error, "step 2: recv: EAGAIN"), report.Error, "step 2: recv: EAGAIN"},
		// Anything else the guest says is an error too, never a pass.
		{"odd value", endWith("pass", "confused"), report.Error, "confused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := analyzeOne(c, tt.evs, false)
			if r.Verdict != tt.verdict || !strings.Contains(r.Reason, tt.reason) {
				t.Errorf("verdict %q reason %q, want %q with %q", r.Verdict, r.Reason, tt.verdict, tt.reason)
			}
			if len(r.Checks) != 0 {
				t.Errorf("checks %q on a case that did not run", checkNames(r.Checks))
			}
		})
	}
}

func TestAnalyzeLostKernelEvents(t *testing.T) {
	c := mkCase(t, "one-frame-per-send", scenario.Baseline)
	evs := guest(c, false)
	lost := wire.Event{Kind: wire.KernelLost, TimeNS: evs[len(evs)-1].TimeNS - 1, Scenario: c.ID(), Bytes: 3}
	evs = slices.Insert(evs, len(evs)-1, lost)
	r := analyzeOne(c, evs, false)
	wantFailed(t, r, "trace-complete")
	if ch := findCheck(t, r, "trace-complete"); ch.Got != "3 lost" {
		t.Errorf("trace-complete got %q", ch.Got)
	}
}

func TestAnalyzeRcvqPath(t *testing.T) {
	c := mkCase(t, "split-frame", scenario.Autolowat)
	t.Run("in-order", func(t *testing.T) {
		r := analyzeOne(c, guest(c, true), true)
		if r.Verdict != report.Pass {
			t.Fatalf("verdict %q, failed %+v", r.Verdict, r.FailedChecks)
		}
		if ch := findCheck(t, r, "rcvq-path"); ch.Got != "as wanted" {
			t.Errorf("rcvq-path got %q", ch.Got)
		}
	})
	t.Run("ofo", func(t *testing.T) {
		evs := guest(c, true)
		for i := range evs {
			if evs[i].Kind == wire.KernelRcvq && evs[i].Path == scenario.PathInOrder {
				evs[i].Path = scenario.PathOFO
			}
		}
		r := analyzeOne(c, evs, true)
		wantFailed(t, r, "rcvq-path")
		if ch := findCheck(t, r, "rcvq-path"); ch.Got != "no callback on the in-order path" {
			t.Errorf("rcvq-path got %q", ch.Got)
		}
	})
	t.Run("no recvmsg", func(t *testing.T) {
		evs := guest(c, true)
		// Drop the recvmsg callback of the first read (step 5).
		n := 0
		evs = slices.DeleteFunc(evs, func(e wire.Event) bool {
			if e.Kind == wire.KernelRcvq && e.Path == "recvmsg" {
				n++
				return n == 1
			}
			return false
		})
		r := analyzeOne(c, evs, true)
		wantFailed(t, r, "rcvq-path")
		if ch := findCheck(t, r, "rcvq-path"); ch.Got != "step 5: no recvmsg callback after the read" {
			t.Errorf("rcvq-path got %q", ch.Got)
		}
	})
	t.Run("not traced", func(t *testing.T) {
		// Without the tracer's RCVQ probe there is nothing to check.
		r := analyzeOne(c, guest(c, false), false)
		if slices.Contains(checkNames(r.Checks), "rcvq-path") {
			t.Errorf("checks %q include rcvq-path though RCVQ is not traced", checkNames(r.Checks))
		}
	})
}

// A step whose poll the guest never reported fails the case instead of
// shortening the comparison.
func TestAnalyzeUnreportedPollFails(t *testing.T) {
	c := mkCase(t, "split-frame", scenario.Autolowat)
	var kept []wire.Event
	for _, e := range guest(c, false) {
		if e.Kind == wire.Poll && e.Step >= 5 {
			continue
		}
		kept = append(kept, e)
	}
	got := Analyze(scenario.Plan{Cases: []scenario.Case{c}}, kept, false)[0]
	if got.Verdict != report.Fail {
		t.Fatalf("verdict %s, want fail; checks %+v", got.Verdict, got.Checks)
	}
}

// The kernel's counters decide whether the data took the intended path.
func TestAnalyzeKernelPath(t *testing.T) {
	c := mkCase(t, "split-frame", scenario.Baseline)
	evs := guest(c, false)
	for i := range evs {
		if evs[i].Kind == wire.ScenarioEnd {
			evs[i].Counters = map[string]int64{"TcpExtTCPOFOQueue": 2}
		}
	}
	r := analyzeOne(c, evs, false)
	ch := findCheck(t, r, "kernel-path")
	if r.Verdict != report.Fail || ch.Pass || !strings.Contains(ch.Detail, "intended in order") {
		t.Fatalf("verdict %s, check %+v", r.Verdict, ch)
	}
	if got := checkPath(scenario.Scenario{Path: scenario.PathOFO}, nil); got.Pass || got.Detail != "intended out of order, kernel queued in order" {
		t.Fatalf("ofo without TCPOFOQueue: %+v", got)
	}
	if got := checkPath(scenario.Scenario{Path: scenario.PathFastOpen}, map[string]int64{"TcpExtTCPFastOpenPassive": 1}); !got.Pass {
		t.Fatalf("fastopen with TCPFastOpenPassive: %+v", got)
	}
}

func TestEnqueuePath(t *testing.T) {
	send := wire.Event{Kind: wire.Send, TimeNS: 100, Seq: 1041}
	for _, tt := range []struct {
		name  string
		k     wire.Event
		first bool
		want  string
	}{
		{"the segment just sent", wire.Event{TimeNS: 110, Seq: 1041, Path: "in-order"}, false, "in-order"},
		{"an skb off the ofo queue", wire.Event{TimeNS: 111, Seq: 1061, Path: "in-order"}, false, "ofo"},
		{"queued with the SYN", wire.Event{TimeNS: 50, Seq: 1001, Path: "in-order"}, true, "fastopen"},
		// Step 1 of a peer scenario without SYN data is in order, even
		// when the kernel queued it before the step was reported.
		{"first step, not SYN data", wire.Event{TimeNS: 50, Seq: 1041, Path: "in-order"}, true, "in-order"},
		{"SYN data, queued after the step was reported", wire.Event{TimeNS: 150, Seq: 1001, Path: "in-order"}, true, "fastopen"},
		{"the kernel's own label", wire.Event{TimeNS: 110, Seq: 1041, Path: "fastopen"}, false, "fastopen"},
		{"loopback: no sequence known", wire.Event{TimeNS: 110, Seq: 77, Path: "in-order"}, false, "in-order"},
	} {
		s := send
		switch tt.name {
		case "loopback: no sequence known":
			s.Seq = 0
		case "queued with the SYN":
			s.Flags = "" // a trace from before sends were marked
		case "SYN data, queued after the step was reported":
			s.Seq, s.Flags = 1001, "S"
		default:
			s.Flags = "."
		}
		if got := enqueuePath(tt.k, s, tt.first); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
