package peer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// decoded is one TCP packet with what Seen cannot say without the
// connection's state.
type decoded struct {
	Seen
	src, dst netip.AddrPort
	sackPerm bool
	sack     [][2]uint32 // SACK blocks as sequence numbers
}

// decode parses an IPv4 or IPv6 packet carrying TCP and checks its
// checksums. Anything but TCP is ErrUnrelated.
func decode(pkt []byte) (decoded, error) {
	if len(pkt) == 0 {
		return decoded{}, errors.New("empty packet")
	}
	var first gopacket.LayerType
	switch v := pkt[0] >> 4; v {
	case 4:
		first = layers.LayerTypeIPv4
	case 6:
		first = layers.LayerTypeIPv6
	default:
		return decoded{}, fmt.Errorf("ip version %d", v)
	}
	p := gopacket.NewPacket(pkt, first, gopacket.Default)
	tcp, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
	if !ok {
		return decoded{}, fmt.Errorf("%w: %v", ErrUnrelated, layerNames(p))
	}
	if el := p.ErrorLayer(); el != nil {
		return decoded{}, fmt.Errorf("decode: %w", el.Error())
	}
	if p.Metadata().Truncated {
		return decoded{}, errors.New("truncated packet")
	}
	var d decoded
	switch ip := p.NetworkLayer().(type) {
	case *layers.IPv4:
		if ip.Flags&layers.IPv4MoreFragments != 0 || ip.FragOffset != 0 {
			return decoded{}, errors.New("ipv4 fragment")
		}
		if sum := checksum(ip.Contents, 0); sum != 0xffff {
			return decoded{}, fmt.Errorf("bad ipv4 header checksum %#04x", ip.Checksum)
		}
		d.src = netip.AddrPortFrom(addr(ip.SrcIP), uint16(tcp.SrcPort))
		d.dst = netip.AddrPortFrom(addr(ip.DstIP), uint16(tcp.DstPort))
	case *layers.IPv6:
		d.src = netip.AddrPortFrom(addr(ip.SrcIP), uint16(tcp.SrcPort))
		d.dst = netip.AddrPortFrom(addr(ip.DstIP), uint16(tcp.DstPort))
	default:
		return decoded{}, fmt.Errorf("%w: %v", ErrUnrelated, layerNames(p))
	}
	if err := tcp.SetNetworkLayerForChecksum(p.NetworkLayer()); err != nil {
		return decoded{}, fmt.Errorf("checksum layer: %w", err)
	}
	err, v := tcp.VerifyChecksum()
	if err != nil {
		return decoded{}, fmt.Errorf("tcp checksum: %w", err)
	}
	if !v.Valid {
		return decoded{}, fmt.Errorf("bad tcp checksum %#04x, want %#04x", v.Actual, v.Correct)
	}

	s := &d.Seen
	for _, x := range []struct {
		on bool
		f  Flags
	}{{tcp.FIN, FIN}, {tcp.SYN, SYN}, {tcp.RST, RST}, {tcp.PSH, PSH}, {tcp.ACK, ACK}, {tcp.URG, URG}, {tcp.ECE, ECE}, {tcp.CWR, CWR}} {
		if x.on {
			s.Flags |= x.f
		}
	}
	s.Seq, s.Ack, s.Window = tcp.Seq, tcp.Ack, tcp.Window
	s.Len = len(tcp.Payload)
	if s.Len > 0 {
		s.Payload = append([]byte{}, tcp.Payload...)
	}
	for _, o := range tcp.Options {
		switch o.OptionType {
		case layers.TCPOptionKindMSS:
			if len(o.OptionData) == 2 {
				s.MSS = binary.BigEndian.Uint16(o.OptionData)
			}
		case layers.TCPOptionKindSACKPermitted:
			d.sackPerm = true
		case layers.TCPOptionKindSACK:
			for b := o.OptionData; len(b) >= 8; b = b[8:] {
				d.sack = append(d.sack, [2]uint32{binary.BigEndian.Uint32(b), binary.BigEndian.Uint32(b[4:])})
			}
		case layers.TCPOptionKindTimestamps:
			if len(o.OptionData) == 8 {
				s.TS = true
				s.TSval = binary.BigEndian.Uint32(o.OptionData)
				s.TSecr = binary.BigEndian.Uint32(o.OptionData[4:])
			}
		case optFastOpen:
			s.Cookie = append([]byte{}, o.OptionData...)
		}
	}
	return d, nil
}

// seen fills in the offsets: sndISN is the sender's ISN, rcvISN the
// receiver's, each usable only when known.
func (d decoded) seen(sndISN uint32, sndKnown bool, rcvISN uint32, rcvKnown bool) Seen {
	s := d.Seen
	switch {
	case s.Flags&SYN != 0:
		s.Off = 0 // the SYN's own sequence number is the sender's ISN
	case sndKnown:
		s.Off = offset(s.Seq, sndISN)
	default:
		s.Off = -1
	}
	s.AckOff = 0
	if rcvKnown && s.Flags&ACK != 0 {
		s.AckOff = offset(s.Ack, rcvISN)
	}
	s.SACK = nil
	if rcvKnown {
		for _, b := range d.sack {
			s.SACK = append(s.SACK, Block{offset(b[0], rcvISN), offset(b[1], rcvISN)})
		}
	}
	return s
}

// offset turns a sequence number into a stream offset of the stream whose
// ISN is isn.
func offset(seq, isn uint32) int { return int(int32(seq - (isn + 1))) }

func addr(ip []byte) netip.Addr {
	a, _ := netip.AddrFromSlice(ip)
	return a
}

func layerNames(p gopacket.Packet) []gopacket.LayerType {
	var ts []gopacket.LayerType
	for _, l := range p.Layers() {
		ts = append(ts, l.LayerType())
	}
	return ts
}

// checksum is the Internet checksum's one's-complement sum of b, started
// from sum; a header that carries a valid checksum sums to 0xffff.
func checksum(b []byte, sum uint32) uint16 {
	for ; len(b) >= 2; b = b[2:] {
		sum += uint32(b[0])<<8 | uint32(b[1])
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return uint16(sum)
}
