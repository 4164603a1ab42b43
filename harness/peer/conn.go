package peer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Option kinds the peer writes or reads that gopacket has no name for.
const (
	optFastOpen layers.TCPOptionKind = 34 // RFC 7413
)

// Fast Open cookie lengths Linux accepts (TCP_FASTOPEN_COOKIE_MIN/MAX); it
// ignores odd lengths too.
const (
	cookieMin = 4
	cookieMax = 16
)

var (
	// ErrUnrelated marks a packet that is not part of the connection: another
	// protocol, another 4-tuple, router solicitations and MLD reports.
	ErrUnrelated = errors.New("unrelated packet")
	// ErrReset is a RST from the socket under test where the peer needed
	// something else.
	ErrReset = errors.New("reset by the socket under test")
)

// Config describes one connection from the peer's side.
type Config struct {
	Family     int        // 4 or 6
	Local      netip.Addr // the peer's address
	Remote     netip.Addr // the socket under test's address
	LocalPort  uint16
	RemotePort uint16
	ISN        uint32 // the peer's initial sequence number
	Window     uint16 // advertised in every segment; 0 means 65535
	MSS        uint16 // MSS option in the SYN; 0 means the most a 1500-byte MTU carries

	// FastOpenCookie is the Fast Open option in the SYN: nil for no option,
	// empty for a cookie request (also what the no-cookie server mode,
	// tcp_fastopen 0x200, wants), else a cookie of 4 to 16 bytes, even.
	FastOpenCookie []byte

	NoSACK     bool   // leave SACK-permitted out of the SYN
	Timestamps bool   // offer timestamps; used only if the SYN-ACK has them too
	TSval      uint32 // the peer's constant TSval when timestamps are on
}

type state int

const (
	idle state = iota
	synSent
	established
)

// Conn is the peer's side of one TCP connection as a pure state machine: it
// builds the packets the caller asks for and parses what comes back, and
// does no I/O. Not safe for concurrent use.
type Conn struct {
	cfg   Config
	state state

	synLen   int    // data bytes in the SYN
	irs      uint32 // the socket under test's ISN
	rcvNxt   uint32 // next sequence number expected from it: the ACK we send
	una      uint32 // highest ACK number it sent
	wnd      uint16 // its last advertised window
	mss      uint16 // its MSS option
	sackOK   bool   // it sent SACK-permitted
	tsOK     bool   // both sides sent timestamps
	tsRecent uint32 // its last TSval, echoed in TSecr
}

// NewConn checks cfg and fills in its defaults.
func NewConn(cfg Config) (*Conn, error) {
	switch cfg.Family {
	case 4:
		if !cfg.Local.Is4() || !cfg.Remote.Is4() {
			return nil, fmt.Errorf("family 4 needs ipv4 addresses, have %v and %v", cfg.Local, cfg.Remote)
		}
	case 6:
		if !cfg.Local.Is6() || !cfg.Remote.Is6() || cfg.Local.Is4In6() || cfg.Remote.Is4In6() {
			return nil, fmt.Errorf("family 6 needs ipv6 addresses, have %v and %v", cfg.Local, cfg.Remote)
		}
	default:
		return nil, fmt.Errorf("family %d: want 4 or 6", cfg.Family)
	}
	if cfg.LocalPort == 0 || cfg.RemotePort == 0 {
		return nil, errors.New("ports must be set")
	}
	if n := len(cfg.FastOpenCookie); n != 0 && (n < cookieMin || n > cookieMax || n%2 != 0) {
		return nil, fmt.Errorf("fast open cookie of %d bytes: want 0 or an even length from %d to %d", n, cookieMin, cookieMax)
	}
	if cfg.Window == 0 {
		cfg.Window = 65535
	}
	if cfg.MSS == 0 {
		cfg.MSS = 1460
		if cfg.Family == 6 {
			cfg.MSS = 1440
		}
	}
	if cfg.FastOpenCookie != nil {
		cfg.FastOpenCookie = append([]byte{}, cfg.FastOpenCookie...)
	}
	return &Conn{cfg: cfg}, nil
}

// Config is the configuration with its defaults filled in.
func (c *Conn) Config() Config { return c.cfg }

// Established reports whether a SYN-ACK was handled.
func (c *Conn) Established() bool { return c.state == established }

// Acked is how many of the peer's bytes the socket under test has
// acknowledged in order (a FIN counts as one more).
func (c *Conn) Acked() int {
	if c.state != established {
		return 0
	}
	return offset(c.una, c.cfg.ISN)
}

// Received is how many bytes of the socket under test's stream arrived in
// order: the ACK number the peer's segments carry, as an offset.
func (c *Conn) Received() int {
	if c.state != established {
		return 0
	}
	return offset(c.rcvNxt, c.irs)
}

// RemoteWindow is the last window the socket under test advertised.
func (c *Conn) RemoteWindow() uint16 { return c.wnd }

// RemoteMSS is the MSS option of the SYN-ACK, 0 if it had none.
func (c *Conn) RemoteMSS() uint16 { return c.mss }

// RemoteSACK reports whether the SYN-ACK had SACK-permitted, so SACK
// blocks may follow.
func (c *Conn) RemoteSACK() bool { return c.sackOK }

// SYN builds the SYN, with data for Fast Open. Data needs the Fast Open
// option, even an empty one: without it the peer would be testing a SYN no
// client sends.
func (c *Conn) SYN(data []byte) ([]byte, error) {
	if c.state == established {
		return nil, errors.New("syn after the handshake")
	}
	if len(data) > 0 && c.cfg.FastOpenCookie == nil {
		return nil, errors.New("syn data needs a fast open option: set FastOpenCookie, empty for none")
	}
	opts := []layers.TCPOption{mssOption(c.cfg.MSS)}
	switch {
	case c.cfg.Timestamps && !c.cfg.NoSACK:
		opts = append(opts, sackPermOption(), tsOption(c.cfg.TSval, 0))
	case c.cfg.Timestamps:
		opts = append(opts, nop(), nop(), tsOption(c.cfg.TSval, 0))
	case !c.cfg.NoSACK:
		opts = append(opts, nop(), nop(), sackPermOption())
	}
	if c.cfg.FastOpenCookie != nil {
		opts = append(opts, layers.TCPOption{OptionType: optFastOpen, OptionData: c.cfg.FastOpenCookie})
		if (2+len(c.cfg.FastOpenCookie))%4 != 0 {
			opts = append(opts, nop(), nop())
		}
	}
	pkt, err := c.build(c.cfg.ISN, 0, SYN, opts, data)
	if err != nil {
		return nil, err
	}
	c.state = synSent
	c.synLen = len(data)
	return pkt, nil
}

// SynAck is what a SYN-ACK told the peer.
type SynAck struct {
	Seen      Seen   // the SYN-ACK as parsed
	Cookie    []byte // Fast Open cookie handed out; nil when none
	DataAcked int    // SYN data bytes acknowledged: all or none on Linux
	AllAcked  bool   // the SYN carried data and the SYN-ACK acknowledged all of it
}

// HandleSynAck takes the SYN-ACK for the last SYN, records the socket under
// test's ISN, window, MSS and options, and returns the ACK that completes the
// handshake. The ACK's sequence number is the SYN-ACK's ACK number, so SYN
// data left unacknowledged is for the caller to send again at offset 0.
func (c *Conn) HandleSynAck(pkt []byte) ([]byte, SynAck, error) {
	s, err := c.decodeIn(pkt)
	if err != nil {
		return nil, SynAck{}, err
	}
	if c.state != synSent {
		return nil, SynAck{}, errors.New("syn-ack without a syn outstanding")
	}
	if s.Flags&RST != 0 {
		return nil, SynAck{}, fmt.Errorf("syn answered with %s: %w", s.Flags, ErrReset)
	}
	if s.Flags&(SYN|ACK) != SYN|ACK {
		return nil, SynAck{}, fmt.Errorf("not a syn-ack: %s", s.Flags)
	}
	acked := int(s.Ack - (c.cfg.ISN + 1))
	if s.Ack-(c.cfg.ISN+1) > uint32(c.synLen) {
		return nil, SynAck{}, fmt.Errorf("syn-ack acks %d, want %d to %d", s.Ack, c.cfg.ISN+1, c.cfg.ISN+1+uint32(c.synLen))
	}
	c.state = established
	c.irs = s.Seq
	c.rcvNxt = s.Seq + 1
	c.una = s.Ack
	c.wnd = s.Window
	c.mss = s.MSS
	c.sackOK = s.sackPerm
	c.tsOK = c.cfg.Timestamps && s.TS
	c.tsRecent = s.TSval
	ack, err := c.build(s.Ack, c.rcvNxt, ACK, c.segmentOptions(), nil)
	if err != nil {
		return nil, SynAck{}, err
	}
	return ack, SynAck{
		Seen:      s.Seen,
		Cookie:    s.Cookie,
		DataAcked: acked,
		AllAcked:  c.synLen > 0 && acked == c.synLen,
	}, nil
}

// Segment builds a data segment at stream offset off with PSH and ACK set,
// acknowledging what arrived in order; with no data it is a pure ACK.
func (c *Conn) Segment(off int, data []byte) ([]byte, error) {
	f := ACK
	if len(data) > 0 {
		f |= PSH
	}
	return c.SegmentFlags(off, data, f)
}

// SegmentFlags builds a segment at stream offset off with exactly the flags
// given. A SYN is built by SYN only.
func (c *Conn) SegmentFlags(off int, data []byte, f Flags) ([]byte, error) {
	if c.state != established {
		return nil, errors.New("segment before the handshake")
	}
	if off < 0 {
		return nil, fmt.Errorf("offset %d: negative", off)
	}
	if f&SYN != 0 {
		return nil, errors.New("syn flag in a segment: use SYN")
	}
	var ack uint32
	if f&ACK != 0 {
		ack = c.rcvNxt
	}
	return c.build(c.cfg.ISN+1+uint32(off), ack, f, c.segmentOptions(), data)
}

// FIN builds a FIN at stream offset off, the end of the peer's stream.
func (c *Conn) FIN(off int) ([]byte, error) { return c.SegmentFlags(off, nil, FIN|ACK) }

// RST builds a RST at stream offset off. Linux takes a RST only when its
// sequence number is exactly the next one it expects; others draw a
// challenge ACK.
func (c *Conn) RST(off int) ([]byte, error) { return c.SegmentFlags(off, nil, RST|ACK) }

// Parse reads a packet from the socket under test and updates what the peer
// tracks of it: the highest ACK, the window, the in-order end of its stream
// and its TSval. Packets of other connections or protocols are ErrUnrelated.
// A SYN-ACK answering the SYN belongs to HandleSynAck; Parse only reports it.
func (c *Conn) Parse(pkt []byte) (Seen, error) {
	s, err := c.decodeIn(pkt)
	if err != nil {
		return Seen{}, err
	}
	if c.state != established || s.Flags&SYN != 0 {
		return s.Seen, nil
	}
	if s.Flags&ACK != 0 && int32(s.Ack-c.una) >= 0 {
		c.una = s.Ack
		c.wnd = s.Window
	}
	end := s.Seq + uint32(s.Len)
	if s.Flags&FIN != 0 {
		end++
	}
	// Only data that joins what already arrived moves the ACK number; the
	// peer keeps no out-of-order queue.
	if int32(s.Seq-c.rcvNxt) <= 0 && int32(end-c.rcvNxt) > 0 {
		c.rcvNxt = end
	}
	if c.tsOK && s.TS && int32(s.TSval-c.tsRecent) >= 0 {
		c.tsRecent = s.TSval
	}
	return s.Seen, nil
}

// describe parses a packet the peer built, for OnPacket.
func (c *Conn) describe(pkt []byte) (Seen, error) {
	d, err := decode(pkt)
	if err != nil {
		return Seen{}, err
	}
	return d.seen(c.cfg.ISN, true, c.irs, c.state == established), nil
}

// decodeIn parses a packet addressed to the peer by the socket under test.
func (c *Conn) decodeIn(pkt []byte) (decoded, error) {
	d, err := decode(pkt)
	if err != nil {
		return decoded{}, err
	}
	if d.src != netip.AddrPortFrom(c.cfg.Remote, c.cfg.RemotePort) || d.dst != netip.AddrPortFrom(c.cfg.Local, c.cfg.LocalPort) {
		return decoded{}, fmt.Errorf("%w: tcp %v > %v", ErrUnrelated, d.src, d.dst)
	}
	d.Seen = d.seen(c.irs, c.state == established, c.cfg.ISN, true)
	return d, nil
}

func (c *Conn) segmentOptions() []layers.TCPOption {
	if !c.tsOK {
		return nil
	}
	return []layers.TCPOption{nop(), nop(), tsOption(c.cfg.TSval, c.tsRecent)}
}

// build serialises one IP packet carrying one TCP segment, lengths and
// checksums computed.
func (c *Conn) build(seq, ack uint32, f Flags, opts []layers.TCPOption, payload []byte) ([]byte, error) {
	limit := 65535 - 60 // IPv6 payload length, TCP header at its largest
	if c.cfg.Family == 4 {
		limit -= 20
	}
	if len(payload) > limit {
		return nil, fmt.Errorf("payload of %d bytes: at most %d fit a packet", len(payload), limit)
	}
	tcp := &layers.TCP{
		SrcPort: layers.TCPPort(c.cfg.LocalPort),
		DstPort: layers.TCPPort(c.cfg.RemotePort),
		Seq:     seq,
		Ack:     ack,
		FIN:     f&FIN != 0,
		SYN:     f&SYN != 0,
		RST:     f&RST != 0,
		PSH:     f&PSH != 0,
		ACK:     f&ACK != 0,
		URG:     f&URG != 0,
		ECE:     f&ECE != 0,
		CWR:     f&CWR != 0,
		Window:  c.cfg.Window,
		Options: opts,
	}
	var ip gopacket.SerializableLayer
	if c.cfg.Family == 4 {
		ip4 := &layers.IPv4{
			Version:  4,
			TTL:      64,
			Flags:    layers.IPv4DontFragment,
			Protocol: layers.IPProtocolTCP,
			SrcIP:    c.cfg.Local.AsSlice(),
			DstIP:    c.cfg.Remote.AsSlice(),
		}
		if err := tcp.SetNetworkLayerForChecksum(ip4); err != nil {
			return nil, fmt.Errorf("checksum layer: %w", err)
		}
		ip = ip4
	} else {
		ip6 := &layers.IPv6{
			Version:    6,
			HopLimit:   64,
			NextHeader: layers.IPProtocolTCP,
			SrcIP:      c.cfg.Local.AsSlice(),
			DstIP:      c.cfg.Remote.AsSlice(),
		}
		if err := tcp.SetNetworkLayerForChecksum(ip6); err != nil {
			return nil, fmt.Errorf("checksum layer: %w", err)
		}
		ip = ip6
	}
	buf := gopacket.NewSerializeBuffer()
	o := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, o, ip, tcp, gopacket.Payload(payload)); err != nil {
		return nil, fmt.Errorf("serialise: %w", err)
	}
	return buf.Bytes(), nil
}

func nop() layers.TCPOption { return layers.TCPOption{OptionType: layers.TCPOptionKindNop} }

func mssOption(mss uint16) layers.TCPOption {
	return layers.TCPOption{OptionType: layers.TCPOptionKindMSS, OptionData: binary.BigEndian.AppendUint16(nil, mss)}
}

func sackPermOption() layers.TCPOption {
	return layers.TCPOption{OptionType: layers.TCPOptionKindSACKPermitted}
}

func tsOption(val, ecr uint32) layers.TCPOption {
	d := binary.BigEndian.AppendUint32(nil, val)
	d = binary.BigEndian.AppendUint32(d, ecr)
	return layers.TCPOption{OptionType: layers.TCPOptionKindTimestamps, OptionData: d}
}
