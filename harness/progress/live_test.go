package progress

import (
	"bytes"
	"strings"
	"testing"
)

// Off a terminal the lines are the ones programs parse, byte for byte.
func TestLiveOffTerminal(t *testing.T) {
	var b bytes.Buffer
	lv := NewLive(&b)
	if lv != nil {
		t.Fatal("a buffer is not a terminal")
	}
	lv.Status("boot: 6.12 ...")
	lv.Printf(&b, "kernel: %s", "6.12")
	lv.Outcome(&b, true, "[%d/%d] %s: %s", 1, 2, "split-frame/ipv4/baseline", "ran")
	lv.Outcome(&b, false, "[%d/%d] %s: %s", 2, 2, "split-frame/ipv4/autolowat", "unsupported")
	lv.Close()
	lv.Printf(nil, "nowhere")
	want := "kernel: 6.12\n[1/2] split-frame/ipv4/baseline: ran\n[2/2] split-frame/ipv4/autolowat: unsupported\n"
	if b.String() != want {
		t.Errorf("got %q\nwant %q", b.String(), want)
	}
}

// On a terminal lines go above the status, which is erased and redrawn
// around them, cut to the width, and gone at the end.
func TestLiveOnTerminal(t *testing.T) {
	var b bytes.Buffer
	lv := &Live{w: &b, width: func() int { return 40 }}
	lv.Printf(&b, "kernel: 6.12")
	lv.Status("[1/60] ofo-descriptor-last/ipv6/autolowat ...")
	lv.Printf(&b, "guest: up")
	lv.Outcome(&b, true, "[1/60] x: ran")
	lv.Outcome(&b, false, "[2/60] y: error")
	lv.Close()
	out := b.String()
	const erase = "\r\033[K"
	want := []string{
		"kernel: 6.12\n",
		"[1/60] ofo-descriptor-last/ipv6/auto...", // 39 columns: never wraps
		erase + "guest: up\n[1/60] ofo",
		erase + "[1/60] x: ran 0s",
		erase + "[2/60] y: error\n[1/60] x: ran 0s" + erase,
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%q", w, out)
		}
	}
	if strings.Contains(out, "[1/60] x: ran\n") {
		t.Errorf("an unremarkable outcome was printed as a line:\n%q", out)
	}
	if !strings.HasSuffix(out, erase) {
		t.Errorf("the status is not erased at the end:\n%q", out)
	}
}

// What a line says is made printable: QEMU's relayed words or a name
// with escapes cannot drive the terminal; the status line's own erase
// codes stay.
func TestLinesPrintable(t *testing.T) {
	var b bytes.Buffer
	Say(&b)("qemu: %s", "\x1b]0;title\x07\x1b[2J")
	var l *Live
	l.Printf(&b, "guest: %s", "bell\x07")
	if want := "qemu: \\x1b]0;title\\a\\x1b[2J\nguest: bell\\a\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
	b.Reset()
	lv := &Live{w: &b, width: func() int { return 80 }}
	lv.Status("[1/2] \x1b[31mred")
	lv.Close()
	if !strings.Contains(b.String(), `[1/2] \x1b[31mred`) || !strings.HasSuffix(b.String(), "\r\033[K") {
		t.Errorf("status %q", b.String())
	}
}
