package console

import (
	"strings"
	"testing"
)

func feed(d *Detector, scenario, text string) {
	for _, l := range strings.Split(strings.TrimSpace(text), "\n") {
		d.Feed(l, scenario)
	}
}

func TestDetector(t *testing.T) {
	tests := []struct {
		name, console string
		kinds         []string
	}{
		{"quiet boot", "[    0.000000] Linux version 6.12\n[    1.0] Run /init as init process", nil},
		{"warning", "[   12.5] ------------[ cut here ]------------\n[   12.5] WARNING: CPU: 0 PID: 1 at net/ipv4/tcp.c:100 tcp_foo+0x1/0x2\n[   12.6] ---[ end trace 0000000000000000 ]---", []string{"warning"}},
		{"panic before init", "[    1.3] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)\n[    1.3] ---[ end Kernel panic - not syncing: VFS ]---", []string{"panic"}},
		{"oops then panic is one report", "[    5.0] Oops: general protection fault, probably for non-canonical address\n[    5.1] RIP: 0010:tcp_ofo_queue\n[    5.2] Kernel panic - not syncing: Fatal exception", []string{"oops"}},
		{"kasan", "[    3.0] BUG: KASAN: slab-use-after-free in tcp_queue_rcv+0x10/0x20", []string{"kasan"}},
		{"lockdep", "[    3.0] WARNING: possible circular locking dependency detected", []string{"lockdep"}},
		{"bug", "[    3.0] kernel BUG at net/core/skbuff.c:123!", []string{"bug"}},
		{"two warnings", "[1.0] WARNING: CPU: 0 at a\n[1.1] ---[ end trace 1 ]---\n[2.0] WARNING: CPU: 1 at b", []string{"warning", "warning"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d Detector
			feed(&d, "one-frame-per-send/ipv4/baseline", tt.console)
			got := d.Splats()
			if len(got) != len(tt.kinds) {
				t.Fatalf("got %d splats %+v, want kinds %v", len(got), got, tt.kinds)
			}
			for i, s := range got {
				if s.Kind != tt.kinds[i] {
					t.Errorf("splat %d kind %q, want %q", i, s.Kind, tt.kinds[i])
				}
				if s.Scenario != "one-frame-per-send/ipv4/baseline" {
					t.Errorf("splat %d scenario %q", i, s.Scenario)
				}
				if strings.HasPrefix(s.Text, "[") {
					t.Errorf("timestamp kept: %q", s.Text)
				}
			}
		})
	}
}

func TestDetectorQuotesWholeReport(t *testing.T) {
	var d Detector
	feed(&d, "", "[1.0] WARNING: CPU: 0 at a\n[1.0] Modules linked in: tun\n[1.0] Call Trace:\n[1.1] ---[ end trace 1 ]---\n[1.2] unrelated line")
	s := d.Splats()
	if len(s) != 1 || !strings.Contains(s[0].Text, "Call Trace:") || strings.Contains(s[0].Text, "unrelated") {
		t.Fatalf("report text %q", s[0].Text)
	}
}
