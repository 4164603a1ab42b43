package peer

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// fakeLink is a Link in memory: every write is kept, and script answers it
// with the packets the socket under test would send.
type fakeLink struct {
	in     chan []byte
	writes [][]byte
	script func(pkt []byte) [][]byte
}

func newFake(script func(pkt []byte) [][]byte) *fakeLink {
	return &fakeLink{in: make(chan []byte, 64), script: script}
}

func (f *fakeLink) Read(ctx context.Context) ([]byte, error) {
	select {
	case p := <-f.in:
		return p, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (f *fakeLink) Write(pkt []byte) error {
	f.writes = append(f.writes, append([]byte{}, pkt...))
	if f.script != nil {
		for _, r := range f.script(pkt) {
			f.in <- r
		}
	}
	return nil
}

// events records OnPacket as "dir flags off/ackoff len" lines.
type events []string

func (e *events) on(dir string, s Seen) {
	*e = append(*e, fmt.Sprintf("%s %s %d/%d %d", dir, s.Flags, s.Off, s.AckOff, s.Len))
}

// kernel scripts a socket under test that answers the way Linux does for
// a connection without SYN data: SYN-ACK, then immediate ACKs with SACK for
// out-of-order data, and an ACK for the FIN. It also sends one unrelated
// packet before the SYN-ACK.
func kernel(t *testing.T, cfg Config) func([]byte) [][]byte {
	other := cfg
	other.RemotePort++
	var have []bool // which stream bytes arrived
	rcv := func() int {
		n := 0
		for n < len(have) && have[n] {
			n++
		}
		return n
	}
	return func(pkt []byte) [][]byte {
		tcp := checkWire(t, cfg, pkt)
		f := wireFlags(tcp)
		off := int(int32(tcp.Seq - (cfg.ISN + 1)))
		if f&SYN == 0 && (off < 0 || off > 1<<16) {
			t.Errorf("segment at offset %d", off)
			return nil
		}
		switch {
		case f == SYN:
			return [][]byte{remote(t, other, 1, 2, ACK, nil), synAck(t, cfg, 0, opt(layers.TCPOptionKindSACKPermitted))}
		case f&FIN != 0:
			if rcv() != off {
				return nil
			}
			return [][]byte{remote(t, cfg, testIRS+1, cfg.ISN+1+uint32(off)+1, ACK, nil)}
		case len(tcp.Payload) > 0:
			for len(have) < off+len(tcp.Payload) {
				have = append(have, false)
			}
			for i := range tcp.Payload {
				have[off+i] = true
			}
			n := rcv()
			var opts []layers.TCPOption
			if n < len(have) {
				end := len(have)
				start := end
				for start > n && have[start-1] {
					start--
				}
				opts = append(opts, opt(layers.TCPOptionKindNop), opt(layers.TCPOptionKindNop), sackOpt(cfg.ISN+1+uint32(start), cfg.ISN+1+uint32(end)))
			}
			return [][]byte{remote(t, cfg, testIRS+1, cfg.ISN+1+uint32(n), ACK, nil, opts...)}
		}
		return nil
	}
}

func TestPeerConversation(t *testing.T) {
	for _, family := range []int{4, 6} {
		t.Run(fmt.Sprintf("v%d", family), func(t *testing.T) {
			cfg := testConfig(family)
			link := newFake(kernel(t, cfg))
			p, err := New(cfg, link)
			if err != nil {
				t.Fatal(err)
			}
			var ev events
			var ignored []error
			p.OnPacket = ev.on
			p.OnIgnored = func(_ []byte, why error) { ignored = append(ignored, why) }
			p.Settle = 5 * time.Millisecond
			p.Timeout = time.Second
			ctx := context.Background()

			hs, err := p.Handshake(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if hs.Ignored != 1 || len(ignored) != 1 || !errors.Is(ignored[0], ErrUnrelated) {
				t.Errorf("ignored %d: %v", hs.Ignored, ignored)
			}
			if hs.Cookie != nil || hs.AllAcked || hs.Seen.MSS != 1400 || !p.Conn().RemoteSACK() {
				t.Errorf("handshake %+v", hs)
			}
			got, err := p.Send(ctx, 8, stream(8, 8))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].AckOff != 0 || !reflect.DeepEqual(got[0].SACK, []Block{{8, 16}}) {
				t.Errorf("after the out-of-order segment: %+v", got)
			}
			got, err = p.Send(ctx, 0, stream(0, 8))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].AckOff != 16 || got[0].SACK != nil || p.Conn().Acked() != 16 {
				t.Errorf("after the hole filled: %+v", got)
			}
			if p.End() != 16 {
				t.Errorf("end %d", p.End())
			}
			if _, err := p.Close(ctx); err != nil {
				t.Fatal(err)
			}
			want := events{
				"out S 0/0 0",
				"in S. 0/0 0",
				"out . 0/0 0",
				"out P. 8/0 8",
				"in . 0/0 0",
				"out P. 0/0 8",
				"in . 0/16 0",
				"out F. 16/0 0",
				"in . 0/17 0",
			}
			if !reflect.DeepEqual(ev, want) {
				t.Errorf("events:\n%q\nwant:\n%q", ev, want)
			}
			outs := 0
			for _, e := range ev {
				if e[:3] == Out {
					outs++
				}
			}
			if len(link.writes) != outs || outs != 5 {
				t.Errorf("%d packets written, %d reported", len(link.writes), outs)
			}
		})
	}
}

func TestPeerFastOpen(t *testing.T) {
	cfg := testConfig(6)
	cfg.FastOpenCookie = []byte{}
	link := newFake(func(pkt []byte) [][]byte {
		if wireFlags(checkWire(t, cfg, pkt)) == SYN {
			return [][]byte{synAck(t, cfg, 0, opt(optFastOpen, cookie8...))}
		}
		return nil
	})
	p, err := New(cfg, link)
	if err != nil {
		t.Fatal(err)
	}
	hs, err := p.Handshake(context.Background(), stream(0, 5))
	if err != nil {
		t.Fatal(err)
	}
	if string(hs.Cookie) != string(cookie8) || hs.AllAcked || hs.DataAcked != 0 || hs.Ignored != 0 {
		t.Errorf("handshake %+v", hs)
	}
	if p.End() != 5 || p.Conn().Acked() != 0 {
		t.Errorf("end %d acked %d", p.End(), p.Conn().Acked())
	}
	// The unacked SYN data is not sent again by the peer itself.
	if len(link.writes) != 2 {
		t.Errorf("%d packets written, want the syn and its ack", len(link.writes))
	}
}

func TestPeerSilent(t *testing.T) {
	const wait = 30 * time.Millisecond
	cfg := testConfig(4)
	silent := newFake(nil)
	p, err := New(cfg, silent)
	if err != nil {
		t.Fatal(err)
	}
	p.Timeout = wait
	start := time.Now()
	_, err = p.Handshake(context.Background(), nil)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("error %v, want %v", err, ErrTimeout)
	}
	if d := time.Since(start); d < wait || d > 2*time.Second {
		t.Errorf("gave up after %v, want %v", d, wait)
	}
	if len(silent.writes) != 1 {
		t.Errorf("%d packets written, want the syn alone", len(silent.writes))
	}

	// Past the handshake, a silent socket under test: Send settles with
	// nothing and Close times out, each having written exactly one packet.
	answered := false
	link := newFake(func(pkt []byte) [][]byte {
		if answered {
			return nil
		}
		answered = true
		return [][]byte{synAck(t, cfg, 0)}
	})
	p, err = New(cfg, link)
	if err != nil {
		t.Fatal(err)
	}
	p.Timeout, p.Settle = wait, 5*time.Millisecond
	ctx := context.Background()
	if _, err := p.Handshake(ctx, nil); err != nil {
		t.Fatal(err)
	}
	got, err := p.Send(ctx, 0, stream(0, 4))
	if err != nil || len(got) != 0 {
		t.Errorf("send: %v %+v", err, got)
	}
	if _, err := p.Close(ctx); !errors.Is(err, ErrTimeout) {
		t.Errorf("close: %v, want %v", err, ErrTimeout)
	}
	if len(link.writes) != 4 {
		t.Errorf("%d packets written, want syn, ack, data, fin", len(link.writes))
	}
}

// earlyLink reports its deadline passed as soon as it has nothing to read,
// as TUN does when the deadline passes before the context's timer fires.
type earlyLink struct{ *fakeLink }

func (l earlyLink) Read(ctx context.Context) ([]byte, error) {
	select {
	case p := <-l.in:
		return p, nil
	default:
		return nil, context.DeadlineExceeded
	}
}

func TestPeerEarlyDeadline(t *testing.T) {
	cfg := testConfig(4)
	link := earlyLink{newFake(func(pkt []byte) [][]byte {
		if wireFlags(checkWire(t, cfg, pkt)) == SYN {
			return [][]byte{synAck(t, cfg, 0)}
		}
		return nil
	})}
	p, err := New(cfg, link)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := p.Handshake(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := p.Send(ctx, 0, stream(0, 4)); err != nil || len(got) != 0 {
		t.Errorf("send: %v %+v", err, got)
	}
	if _, err := p.Close(ctx); !errors.Is(err, ErrTimeout) {
		t.Errorf("close: %v, want %v", err, ErrTimeout)
	}
}

func TestPeerCallerDeadline(t *testing.T) {
	p, err := New(testConfig(4), newFake(nil))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := p.Handshake(ctx, nil); !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrTimeout) {
		t.Errorf("error %v, want the caller's deadline", err)
	}
}

func TestPeerRefused(t *testing.T) {
	cfg := testConfig(4)
	link := newFake(func([]byte) [][]byte { return [][]byte{remote(t, cfg, 0, cfg.ISN+1, RST|ACK, nil)} })
	p, err := New(cfg, link)
	if err != nil {
		t.Fatal(err)
	}
	var ev events
	p.OnPacket = ev.on
	if _, err := p.Handshake(context.Background(), nil); !errors.Is(err, ErrReset) {
		t.Errorf("error %v, want %v", err, ErrReset)
	}
	if want := (events{"out S 0/0 0", "in R. -1/0 0"}); !reflect.DeepEqual(ev, want) {
		t.Errorf("events %q, want %q", ev, want)
	}
	if len(link.writes) != 1 {
		t.Errorf("%d packets written after a refusal", len(link.writes))
	}
}
