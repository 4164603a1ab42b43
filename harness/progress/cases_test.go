package progress

import (
	"bytes"
	"testing"

	"github.com/kernel-harness/harness/harness/wire"
)

// Off a terminal every event worth a line gets one, numbered over the
// boot's cases; the case running is named between its start and end.
func TestCases(t *testing.T) {
	var b bytes.Buffer
	c := &Cases{W: &b, N: 2}
	c.Event(wire.Event{Kind: wire.Hello, Release: "7.3.4"})
	c.Event(wire.Event{Kind: wire.ScenarioStart, Scenario: "a/ipv4/baseline"})
	if got := c.Running(); got != "a/ipv4/baseline" {
		t.Errorf("running %q during a", got)
	}
	c.Event(wire.Event{Kind: wire.ScenarioEnd, Scenario: "a/ipv4/baseline", OK: true})
	c.Event(wire.Event{Kind: wire.ScenarioEnd, Scenario: "a/ipv4/autolowat", Value: "unsupported"})
	c.Event(wire.Event{Kind: wire.Module, Name: "tun", Message: "not found"})
	c.Event(wire.Event{Kind: wire.Module, Name: "ipv6", OK: true})
	if got := c.Running(); got != "" {
		t.Errorf("running %q between cases", got)
	}
	want := "guest: up, kernel 7.3.4\n[1/2] a/ipv4/baseline: ran\n[2/2] a/ipv4/autolowat: unsupported\nguest: module tun: not found\n"
	if b.String() != want {
		t.Errorf("got %q\nwant %q", b.String(), want)
	}
}
