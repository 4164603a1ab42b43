package peer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

var cookie8 = []byte{0xc0, 0x0c, 0x1e, 0x5a, 0x11, 0x22, 0x33, 0x44}

func newConn(t *testing.T, cfg Config) *Conn {
	t.Helper()
	c, err := NewConn(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// handshaken is a Conn past its handshake, no SYN data.
func handshaken(t *testing.T, family int) *Conn {
	t.Helper()
	c := newConn(t, testConfig(family))
	if _, err := c.SYN(nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.HandleSynAck(synAck(t, c.Config(), 0)); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestHandleSynAck(t *testing.T) {
	for _, family := range []int{4, 6} {
		for _, tc := range []struct {
			name      string
			cookie    []byte // Config.FastOpenCookie
			synData   []byte
			acked     int
			opts      []layers.TCPOption
			wantCk    []byte
			wantAll   bool
			wantAckSq uint32 // the ACK's sequence number, offset from ISN+1
		}{
			{name: "plain"},
			{name: "cookie handed out, data not acked", cookie: []byte{}, synData: stream(0, 5),
				opts: []layers.TCPOption{opt(optFastOpen, cookie8...)}, wantCk: cookie8},
			{name: "cookie accepted, data acked", cookie: cookie8, synData: stream(0, 5), acked: 5,
				wantAll: true, wantAckSq: 5},
			{name: "no-cookie mode, data acked", cookie: []byte{}, synData: stream(0, 5), acked: 5,
				wantAll: true, wantAckSq: 5},
			{name: "cookie rejected, new one, data not acked", cookie: cookie8, synData: stream(0, 5),
				opts: []layers.TCPOption{opt(optFastOpen, 9, 9, 9, 9)}, wantCk: []byte{9, 9, 9, 9}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				cfg := testConfig(family)
				cfg.FastOpenCookie = tc.cookie
				c := newConn(t, cfg)
				if _, err := c.SYN(tc.synData); err != nil {
					t.Fatal(err)
				}
				ack, sa, err := c.HandleSynAck(synAck(t, cfg, tc.acked, tc.opts...))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(sa.Cookie, tc.wantCk) || (sa.Cookie == nil) != (tc.wantCk == nil) {
					t.Errorf("cookie %x, want %x", sa.Cookie, tc.wantCk)
				}
				if sa.AllAcked != tc.wantAll || sa.DataAcked != tc.acked {
					t.Errorf("data acked %d (all %v), want %d (all %v)", sa.DataAcked, sa.AllAcked, tc.acked, tc.wantAll)
				}
				if sa.Seen.Flags != SYN|ACK || sa.Seen.Seq != testIRS || sa.Seen.MSS != 1400 || sa.Seen.AckOff != tc.acked {
					t.Errorf("seen %+v", sa.Seen)
				}
				if !c.Established() || c.RemoteSACK() || c.RemoteMSS() != 1400 || c.RemoteWindow() != 29200 || c.Acked() != tc.acked || c.Received() != 0 {
					t.Errorf("state: established %v mss %d window %d acked %d received %d",
						c.Established(), c.RemoteMSS(), c.RemoteWindow(), c.Acked(), c.Received())
				}
				tcp := checkWire(t, cfg, ack)
				if wireFlags(tcp) != ACK || tcp.Seq != cfg.ISN+1+tc.wantAckSq || tcp.Ack != testIRS+1 || len(tcp.Payload) != 0 {
					t.Errorf("ack: flags %s seq %d ack %d, %d bytes", wireFlags(tcp), tcp.Seq, tcp.Ack, len(tcp.Payload))
				}
			})
		}
	}
}

func TestHandleSynAckRejects(t *testing.T) {
	cfg := testConfig(4)
	cfg.FastOpenCookie = cookie8
	other := cfg
	other.RemotePort = 9
	for _, tc := range []struct {
		name string
		pkt  func(t *testing.T) []byte
		want error
	}{
		{"acks past the syn data", func(t *testing.T) []byte { return synAck(t, cfg, 6) }, nil},
		{"acks before the syn", func(t *testing.T) []byte { return synAck(t, cfg, -1) }, nil},
		{"rst", func(t *testing.T) []byte { return remote(t, cfg, 0, cfg.ISN+1, RST|ACK, nil) }, ErrReset},
		{"plain ack", func(t *testing.T) []byte { return remote(t, cfg, testIRS, cfg.ISN+1, ACK, nil) }, nil},
		{"another port", func(t *testing.T) []byte { return synAck(t, other, 0) }, ErrUnrelated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newConn(t, cfg)
			if _, err := c.SYN(stream(0, 5)); err != nil {
				t.Fatal(err)
			}
			ack, _, err := c.HandleSynAck(tc.pkt(t))
			if err == nil || ack != nil {
				t.Fatalf("accepted: ack %x", ack)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
			if c.Established() {
				t.Error("established after a rejected syn-ack")
			}
		})
	}
	t.Run("no syn", func(t *testing.T) {
		c := newConn(t, cfg)
		if _, _, err := c.HandleSynAck(synAck(t, cfg, 0)); err == nil {
			t.Error("syn-ack accepted without a syn")
		}
	})
	t.Run("twice", func(t *testing.T) {
		c := handshaken(t, 4)
		if _, _, err := c.HandleSynAck(synAck(t, c.Config(), 0)); err == nil {
			t.Error("second syn-ack accepted")
		}
	})
}

func TestParse(t *testing.T) {
	for _, family := range []int{4, 6} {
		c := handshaken(t, family)
		cfg := c.Config()
		una := cfg.ISN + 1

		// A SACK for 8..16 while 0..8 is missing: a duplicate ACK.
		s, err := c.Parse(remote(t, cfg, testIRS+1, una, ACK, nil, opt(layers.TCPOptionKindNop), opt(layers.TCPOptionKindNop), sackOpt(una+8, una+16)))
		if err != nil {
			t.Fatal(err)
		}
		if s.Flags != ACK || s.AckOff != 0 || s.Off != 0 || len(s.SACK) != 1 || s.SACK[0] != (Block{8, 16}) || s.Window != 29200 {
			t.Errorf("v%d dup ack: %+v", family, s)
		}
		// The hole filled: everything acked.
		if s, err = c.Parse(remote(t, cfg, testIRS+1, una+16, ACK, nil)); err != nil || s.AckOff != 16 || c.Acked() != 16 {
			t.Errorf("v%d ack: %+v acked %d, %v", family, s, c.Acked(), err)
		}
		// An older ACK does not move it back.
		if _, err = c.Parse(remote(t, cfg, testIRS+1, una+8, ACK, nil)); err != nil || c.Acked() != 16 {
			t.Errorf("v%d old ack: acked %d, %v", family, c.Acked(), err)
		}
		// Data from the socket under test: out of order first, then in
		// order, then its FIN. Only in-order bytes move the ACK number.
		if _, err = c.Parse(remote(t, cfg, testIRS+1+3, una+16, PSH|ACK, []byte("xyz"))); err != nil || c.Received() != 0 {
			t.Errorf("v%d out-of-order data: received %d, %v", family, c.Received(), err)
		}
		s, err = c.Parse(remote(t, cfg, testIRS+1, una+16, PSH|ACK, []byte("abc")))
		if err != nil || c.Received() != 3 || s.Off != 0 || s.Len != 3 || string(s.Payload) != "abc" {
			t.Errorf("v%d data: %+v received %d, %v", family, s, c.Received(), err)
		}
		if s, err = c.Parse(remote(t, cfg, testIRS+1+3, una+16, FIN|ACK, nil)); err != nil || c.Received() != 4 || s.Off != 3 {
			t.Errorf("v%d fin: %+v received %d, %v", family, s, c.Received(), err)
		}
		seg, err := c.Segment(16, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tcp := checkWire(t, cfg, seg); tcp.Ack != testIRS+1+4 || wireFlags(tcp) != ACK {
			t.Errorf("v%d ack of the fin: ack %d flags %s", family, tcp.Ack, wireFlags(tcp))
		}
	}
}

func TestTimestampsEcho(t *testing.T) {
	cfg := testConfig(4)
	cfg.Timestamps, cfg.TSval = true, 7
	c := newConn(t, cfg)
	if _, err := c.SYN(nil); err != nil {
		t.Fatal(err)
	}
	ts := func(val uint32) layers.TCPOption {
		return opt(layers.TCPOptionKindTimestamps, byte(val>>24), byte(val>>16), byte(val>>8), byte(val), 0, 0, 0, 7)
	}
	if _, _, err := c.HandleSynAck(synAck(t, cfg, 0, ts(5000))); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ val, echo uint32 }{{6000, 6000}, {5500, 6000}, {6001, 6001}} {
		s, err := c.Parse(remote(t, cfg, testIRS+1, cfg.ISN+1, ACK, nil, ts(tc.val)))
		if err != nil || !s.TS || s.TSval != tc.val || s.TSecr != 7 {
			t.Fatalf("parse: %+v %v", s, err)
		}
		seg, err := c.Segment(0, []byte("x"))
		if err != nil {
			t.Fatal(err)
		}
		o := options(t, checkWire(t, cfg, seg))[layers.TCPOptionKindTimestamps]
		if len(o) != 8 || binary.BigEndian.Uint32(o) != 7 || binary.BigEndian.Uint32(o[4:]) != tc.echo {
			t.Errorf("after tsval %d: timestamps %x, want 7/%d", tc.val, o, tc.echo)
		}
	}

	// Without timestamps in the SYN-ACK, segments carry none.
	c = newConn(t, cfg)
	if _, err := c.SYN(nil); err != nil {
		t.Fatal(err)
	}
	ack, _, err := c.HandleSynAck(synAck(t, cfg, 0))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := options(t, checkWire(t, cfg, ack))[layers.TCPOptionKindTimestamps]; ok {
		t.Error("timestamps after a syn-ack without them")
	}
}

func TestParseRejects(t *testing.T) {
	c := handshaken(t, 6)
	cfg := c.Config()
	good := remote(t, cfg, testIRS+1, cfg.ISN+1, ACK, nil)

	badSum := append([]byte{}, good...)
	badSum[40+16] ^= 0xff
	other := cfg
	other.LocalPort = 1
	v4 := testConfig(4)

	rs := gopacket.NewSerializeBuffer()
	ip := &layers.IPv6{Version: 6, HopLimit: 255, NextHeader: layers.IPProtocolICMPv6,
		SrcIP: netip.MustParseAddr("fe80::1").AsSlice(), DstIP: netip.MustParseAddr("ff02::2").AsSlice()}
	icmp := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeRouterSolicitation, 0)}
	icmp.SetNetworkLayerForChecksum(ip)
	if err := gopacket.SerializeLayers(rs, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		ip, icmp, &layers.ICMPv6RouterSolicitation{}); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name      string
		pkt       []byte
		unrelated bool
	}{
		{"router solicitation", rs.Bytes(), true},
		{"another connection", remote(t, other, testIRS+1, cfg.ISN+1, ACK, nil), true},
		{"ipv4 to an ipv6 peer", remote(t, v4, testIRS+1, cfg.ISN+1, ACK, nil), true},
		{"bad tcp checksum", badSum, false},
		{"truncated", good[:50], false},
		{"empty", nil, false},
		{"not ip", []byte{0x12, 0x34}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := c.Parse(tc.pkt)
			if err == nil {
				t.Fatalf("accepted: %+v", s)
			}
			if errors.Is(err, ErrUnrelated) != tc.unrelated {
				t.Errorf("error %v: unrelated %v, want %v", err, !tc.unrelated, tc.unrelated)
			}
		})
	}
	t.Run("bad ipv4 header checksum", func(t *testing.T) {
		c := handshaken(t, 4)
		pkt := remote(t, c.Config(), testIRS+1, c.Config().ISN+1, ACK, nil)
		pkt[10] ^= 0xff
		if _, err := c.Parse(pkt); err == nil || errors.Is(err, ErrUnrelated) {
			t.Errorf("error %v", err)
		}
	})
}

func TestConfigRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Config)
	}{
		{"family 5", func(c *Config) { c.Family = 5 }},
		{"family 4 with ipv6 addresses", func(c *Config) { c.Family = 4; c.Local, c.Remote = testConfig(6).Local, testConfig(6).Remote }},
		{"family 6 with ipv4 addresses", func(c *Config) { c.Family = 6; c.Local, c.Remote = testConfig(4).Local, testConfig(4).Remote }},
		{"no local address", func(c *Config) { c.Local = netip.Addr{} }},
		{"no port", func(c *Config) { c.RemotePort = 0 }},
		{"cookie of 2", func(c *Config) { c.FastOpenCookie = []byte{1, 2} }},
		{"cookie of 5", func(c *Config) { c.FastOpenCookie = []byte{1, 2, 3, 4, 5} }},
		{"cookie of 18", func(c *Config) { c.FastOpenCookie = make([]byte, 18) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(4)
			tc.mod(&cfg)
			if _, err := NewConn(cfg); err == nil {
				t.Error("accepted")
			}
		})
	}
}

func TestBuildRejects(t *testing.T) {
	c := newConn(t, testConfig(4))
	if _, err := c.SYN([]byte("x")); err == nil {
		t.Error("syn data without a fast open option")
	}
	if _, err := c.Segment(0, []byte("x")); err == nil {
		t.Error("segment before the handshake")
	}
	c = handshaken(t, 4)
	if _, err := c.SYN(nil); err == nil {
		t.Error("syn after the handshake")
	}
	if _, err := c.Segment(-1, []byte("x")); err == nil {
		t.Error("negative offset")
	}
	if _, err := c.SegmentFlags(0, nil, SYN|ACK); err == nil {
		t.Error("syn flag in a segment")
	}
	if _, err := c.Segment(0, make([]byte, 65536)); err == nil {
		t.Error("payload past the ip length")
	}
	for _, tc := range []struct {
		build func(int) ([]byte, error)
		want  Flags
	}{{c.FIN, FIN | ACK}, {c.RST, RST | ACK}} {
		pkt, err := tc.build(30)
		if err != nil {
			t.Fatal(err)
		}
		if tcp := checkWire(t, c.Config(), pkt); wireFlags(tcp) != tc.want || tcp.Seq != testISN+1+30 {
			t.Errorf("%s: flags %s seq %d", tc.want, wireFlags(tcp), tcp.Seq)
		}
	}
}

func TestFlagsString(t *testing.T) {
	for f, want := range map[Flags]string{SYN: "S", SYN | ACK: "S.", PSH | ACK: "P.", ACK: ".", FIN | ACK: "F.", RST: "R", 0: "none"} {
		if got := f.String(); got != want {
			t.Errorf("%08b: %q, want %q", uint8(f), got, want)
		}
	}
}
