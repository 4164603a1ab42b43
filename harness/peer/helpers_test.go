package peer

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

const (
	testISN = 1000
	testIRS = 0xfffffff0 // the socket under test's ISN, close to wrapping
)

func testConfig(family int) Config {
	c := Config{Family: family, LocalPort: 40000, RemotePort: 8080, ISN: testISN}
	if family == 4 {
		c.Local = netip.MustParseAddr("10.0.0.2")
		c.Remote = netip.MustParseAddr("10.0.0.1")
	} else {
		c.Local = netip.MustParseAddr("fd00::2")
		c.Remote = netip.MustParseAddr("fd00::1")
	}
	return c
}

// stream is the peer's byte stream: the same offset always carries the same
// byte, so a retransmission or an overlap repeats it.
func stream(off, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + byte((off+i)%26)
	}
	return b
}

// remote builds a packet from the socket under test to the peer, with
// gopacket directly rather than the code under test.
func remote(t *testing.T, cfg Config, seq, ack uint32, f Flags, payload []byte, opts ...layers.TCPOption) []byte {
	t.Helper()
	tcp := &layers.TCP{
		SrcPort: layers.TCPPort(cfg.RemotePort), DstPort: layers.TCPPort(cfg.LocalPort),
		Seq: seq, Ack: ack, Window: 29200, Options: opts,
		SYN: f&SYN != 0, ACK: f&ACK != 0, FIN: f&FIN != 0, RST: f&RST != 0, PSH: f&PSH != 0,
	}
	var ip gopacket.SerializableLayer
	if cfg.Family == 4 {
		ip4 := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: cfg.Remote.AsSlice(), DstIP: cfg.Local.AsSlice()}
		tcp.SetNetworkLayerForChecksum(ip4)
		ip = ip4
	} else {
		ip6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP, SrcIP: cfg.Remote.AsSlice(), DstIP: cfg.Local.AsSlice()}
		tcp.SetNetworkLayerForChecksum(ip6)
		ip = ip6
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ip, tcp, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func opt(kind layers.TCPOptionKind, data ...byte) layers.TCPOption {
	return layers.TCPOption{OptionType: kind, OptionData: data}
}

func mssOpt(mss uint16) layers.TCPOption {
	return opt(layers.TCPOptionKindMSS, byte(mss>>8), byte(mss))
}

func sackOpt(blocks ...uint32) layers.TCPOption {
	var d []byte
	for _, b := range blocks {
		d = binary.BigEndian.AppendUint32(d, b)
	}
	return opt(layers.TCPOptionKindSACK, d...)
}

// synAck is the socket under test's SYN-ACK acknowledging acked SYN data
// bytes.
func synAck(t *testing.T, cfg Config, acked int, opts ...layers.TCPOption) []byte {
	t.Helper()
	return remote(t, cfg, testIRS, cfg.ISN+1+uint32(acked), SYN|ACK, nil, append([]layers.TCPOption{mssOpt(1400)}, opts...)...)
}

// sum16 is the Internet checksum sum, written apart from the package's.
func sum16(parts ...[]byte) uint16 {
	var s uint32
	for _, b := range parts {
		for i := 0; i+1 < len(b); i += 2 {
			s += uint32(binary.BigEndian.Uint16(b[i:]))
		}
		if len(b)%2 == 1 {
			s += uint32(b[len(b)-1]) << 8
		}
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}

// checkWire decodes pkt with gopacket and checks its lengths and both
// checksums by hand, returning the TCP layer.
func checkWire(t *testing.T, cfg Config, pkt []byte) *layers.TCP {
	t.Helper()
	var tcpBytes, pseudo []byte
	if cfg.Family == 4 {
		p := gopacket.NewPacket(pkt, layers.LayerTypeIPv4, gopacket.Default)
		if el := p.ErrorLayer(); el != nil {
			t.Fatalf("decode: %v", el.Error())
		}
		ip := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		if int(ip.Length) != len(pkt) || ip.IHL != 5 {
			t.Errorf("ipv4 length %d ihl %d, packet %d bytes", ip.Length, ip.IHL, len(pkt))
		}
		if got := sum16(pkt[:20]); got != 0xffff {
			t.Errorf("ipv4 header checksum wrong: sum %#04x", got)
		}
		if addr(ip.SrcIP) != cfg.Local || addr(ip.DstIP) != cfg.Remote {
			t.Errorf("addresses %v > %v", ip.SrcIP, ip.DstIP)
		}
		if ip.Protocol != layers.IPProtocolTCP || ip.Flags&layers.IPv4DontFragment == 0 {
			t.Errorf("protocol %v flags %v", ip.Protocol, ip.Flags)
		}
		tcpBytes = pkt[20:]
		pseudo = append(append(append([]byte{}, pkt[12:20]...), 0, 6), byte(len(tcpBytes)>>8), byte(len(tcpBytes)))
	} else {
		p := gopacket.NewPacket(pkt, layers.LayerTypeIPv6, gopacket.Default)
		if el := p.ErrorLayer(); el != nil {
			t.Fatalf("decode: %v", el.Error())
		}
		ip := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
		if int(ip.Length) != len(pkt)-40 || ip.NextHeader != layers.IPProtocolTCP {
			t.Errorf("ipv6 payload length %d next header %v, packet %d bytes", ip.Length, ip.NextHeader, len(pkt))
		}
		if addr(ip.SrcIP) != cfg.Local || addr(ip.DstIP) != cfg.Remote {
			t.Errorf("addresses %v > %v", ip.SrcIP, ip.DstIP)
		}
		tcpBytes = pkt[40:]
		pseudo = append(append([]byte{}, pkt[8:40]...), 0, 0, byte(len(tcpBytes)>>8), byte(len(tcpBytes)), 0, 0, 0, 6)
	}
	if got := sum16(pseudo, tcpBytes); got != 0xffff {
		t.Errorf("tcp checksum wrong: sum %#04x", got)
	}
	tcp := &layers.TCP{}
	if err := tcp.DecodeFromBytes(tcpBytes, gopacket.NilDecodeFeedback); err != nil {
		t.Fatalf("tcp: %v", err)
	}
	if uint16(tcp.SrcPort) != cfg.LocalPort || uint16(tcp.DstPort) != cfg.RemotePort {
		t.Errorf("ports %v > %v", tcp.SrcPort, tcp.DstPort)
	}
	return tcp
}

func wireFlags(tcp *layers.TCP) Flags {
	var f Flags
	for _, x := range []struct {
		on bool
		f  Flags
	}{{tcp.FIN, FIN}, {tcp.SYN, SYN}, {tcp.RST, RST}, {tcp.PSH, PSH}, {tcp.ACK, ACK}, {tcp.URG, URG}, {tcp.ECE, ECE}, {tcp.CWR, CWR}} {
		if x.on {
			f |= x.f
		}
	}
	return f
}

// options maps option kinds to their data; a kind seen twice is an error.
func options(t *testing.T, tcp *layers.TCP) map[layers.TCPOptionKind][]byte {
	t.Helper()
	m := map[layers.TCPOptionKind][]byte{}
	for _, o := range tcp.Options {
		if o.OptionType == layers.TCPOptionKindNop || o.OptionType == layers.TCPOptionKindEndList {
			continue
		}
		if _, dup := m[o.OptionType]; dup {
			t.Errorf("option %v twice", o.OptionType)
		}
		m[o.OptionType] = append([]byte{}, o.OptionData...)
	}
	if len(tcp.Padding) != 0 {
		t.Errorf("options padded with %d end-of-list bytes, want nops", len(tcp.Padding))
	}
	return m
}
