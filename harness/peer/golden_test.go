package peer

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/kernel-harness/harness/internal/testutil"
)

// step is one packet the peer builds and what it must be on the wire.
type step struct {
	name  string
	build func(t *testing.T, c *Conn) ([]byte, error)
	flags Flags
	off   int    // sequence number is ISN+1+off; -1 for the SYN
	data  []byte // payload
	ts    []uint32
}

func synStep(data []byte) step {
	return step{
		name:  fmt.Sprintf("syn, %d data bytes", len(data)),
		build: func(t *testing.T, c *Conn) ([]byte, error) { return c.SYN(data) },
		flags: SYN, off: -1, data: data,
	}
}

// ackStep hands the Conn a SYN-ACK acknowledging acked SYN data bytes and
// checks the ACK it answers with.
func ackStep(acked int, opts ...layers.TCPOption) step {
	return step{
		name: fmt.Sprintf("ack of a syn-ack acking %d data bytes", acked),
		build: func(t *testing.T, c *Conn) ([]byte, error) {
			ack, _, err := c.HandleSynAck(synAck(t, c.Config(), acked, opts...))
			return ack, err
		},
		flags: ACK, off: acked,
	}
}

func segStep(off, n int) step {
	return step{
		name:  fmt.Sprintf("segment %d..%d", off, off+n),
		build: func(t *testing.T, c *Conn) ([]byte, error) { return c.Segment(off, stream(off, n)) },
		flags: PSH | ACK, off: off, data: stream(off, n),
	}
}

var scenarios = []struct {
	name  string
	cfg   func(*Config)
	steps []step
}{
	{"syn", nil, []step{synStep(nil)}},
	{"syn-data-cookie-request", func(c *Config) { c.FastOpenCookie = []byte{} }, []step{synStep(stream(0, 5))}},
	{"syn-data-cookie", func(c *Config) { c.FastOpenCookie = []byte{1, 2, 3, 4, 5, 6, 7, 8} }, []step{synStep(stream(0, 5))}},
	{"in-order", nil, []step{synStep(nil), ackStep(0), segStep(0, 1), segStep(1, 7), segStep(8, 100)}},
	{"out-of-order", nil, []step{synStep(nil), ackStep(0), segStep(8, 8), segStep(0, 8)}},
	{"overlap", nil, []step{synStep(nil), ackStep(0), segStep(0, 10), segStep(0, 20)}},
	{"tfo-then-data", func(c *Config) { c.FastOpenCookie = []byte{1, 2, 3, 4, 5, 6, 7, 8} },
		[]step{synStep(stream(0, 5)), ackStep(5), segStep(5, 10)}},
	{"timestamps", func(c *Config) { c.Timestamps = true; c.TSval = 7 }, []step{
		func() step { s := synStep(nil); s.ts = []uint32{7, 0}; return s }(),
		func() step {
			s := ackStep(0, opt(layers.TCPOptionKindTimestamps, 0, 0, 0x13, 0x88, 0, 0, 0, 7))
			s.ts = []uint32{7, 5000}
			return s
		}(),
		func() step { s := segStep(0, 3); s.ts = []uint32{7, 5000}; return s }(),
	}},
}

func TestGolden(t *testing.T) {
	for _, sc := range scenarios {
		for _, family := range []int{4, 6} {
			t.Run(fmt.Sprintf("%s/v%d", sc.name, family), func(t *testing.T) {
				cfg := testConfig(family)
				if sc.cfg != nil {
					sc.cfg(&cfg)
				}
				c, err := NewConn(cfg)
				if err != nil {
					t.Fatal(err)
				}
				var out strings.Builder
				for _, st := range sc.steps {
					pkt, err := st.build(t, c)
					if err != nil {
						t.Fatalf("%s: %v", st.name, err)
					}
					checkStep(t, c.Config(), st, pkt)
					fmt.Fprintf(&out, "# %s\n%s\n", st.name, hex.EncodeToString(pkt))
				}
				testutil.Golden(t, filepath.Join("testdata", fmt.Sprintf("%s.v%d.hex", sc.name, family)), []byte(out.String()))
			})
		}
	}
}

func checkStep(t *testing.T, cfg Config, st step, pkt []byte) {
	t.Helper()
	tcp := checkWire(t, cfg, pkt)
	if f := wireFlags(tcp); f != st.flags {
		t.Errorf("%s: flags %s, want %s", st.name, f, st.flags)
	}
	if want := cfg.ISN + 1 + uint32(st.off); tcp.Seq != want {
		t.Errorf("%s: seq %d, want %d", st.name, tcp.Seq, want)
	}
	if tcp.Window != 65535 {
		t.Errorf("%s: window %d", st.name, tcp.Window)
	}
	if !bytes.Equal(tcp.Payload, st.data) {
		t.Errorf("%s: payload %q, want %q", st.name, tcp.Payload, st.data)
	}
	opts := options(t, tcp)
	if st.flags&ACK != 0 && tcp.Ack != testIRS+1 {
		t.Errorf("%s: ack %d, want %d", st.name, tcp.Ack, uint32(testIRS+1))
	}
	if st.flags&SYN != 0 {
		if tcp.Ack != 0 {
			t.Errorf("%s: ack %d in a syn", st.name, tcp.Ack)
		}
		if m, ok := opts[layers.TCPOptionKindMSS]; !ok || binary.BigEndian.Uint16(m) != cfg.MSS {
			t.Errorf("%s: mss option %x, want %d", st.name, m, cfg.MSS)
		}
		if _, ok := opts[layers.TCPOptionKindSACKPermitted]; !ok {
			t.Errorf("%s: no sack-permitted", st.name)
		}
		c, ok := opts[optFastOpen]
		if ok != (cfg.FastOpenCookie != nil) || !bytes.Equal(c, cfg.FastOpenCookie) {
			t.Errorf("%s: fast open option %x (present %v), want %x", st.name, c, ok, cfg.FastOpenCookie)
		}
	} else {
		for _, k := range []layers.TCPOptionKind{layers.TCPOptionKindMSS, layers.TCPOptionKindSACKPermitted, optFastOpen} {
			if _, ok := opts[k]; ok {
				t.Errorf("%s: option %v outside the syn", st.name, k)
			}
		}
	}
	if _, ok := opts[layers.TCPOptionKindWindowScale]; ok {
		t.Errorf("%s: window scale option", st.name)
	}
	ts, ok := opts[layers.TCPOptionKindTimestamps]
	switch {
	case st.ts == nil && ok:
		t.Errorf("%s: timestamps %x, want none", st.name, ts)
	case st.ts != nil && (len(ts) != 8 || binary.BigEndian.Uint32(ts) != st.ts[0] || binary.BigEndian.Uint32(ts[4:]) != st.ts[1]):
		t.Errorf("%s: timestamps %x, want %v", st.name, ts, st.ts)
	}
}
