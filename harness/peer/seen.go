package peer

// Flags are the TCP header flags, in the header's bit order.
type Flags uint8

// The TCP flags.
const (
	FIN Flags = 1 << iota
	SYN
	RST
	PSH
	ACK
	URG
	ECE
	CWR
)

// String spells the flags as tcpdump does ("S", "S.", "P.", "F.", "R."), so
// traces read like a capture.
func (f Flags) String() string {
	var b []byte
	for _, x := range []struct {
		f Flags
		c byte
	}{{SYN, 'S'}, {FIN, 'F'}, {PSH, 'P'}, {RST, 'R'}, {URG, 'U'}, {ECE, 'E'}, {CWR, 'W'}, {ACK, '.'}} {
		if f&x.f != 0 {
			b = append(b, x.c)
		}
	}
	if len(b) == 0 {
		return "none"
	}
	return string(b)
}

// Block is one SACK block as offsets in the receiver's stream: bytes
// [Start, End) arrived.
type Block struct {
	Start, End int
}

// Seen is one packet of the connection, sent or received, as the trace
// needs it, with sequence numbers also as stream offsets (see the package
// comment).
type Seen struct {
	Flags  Flags
	Seq    uint32
	Ack    uint32
	Window uint16
	Len    int // payload bytes

	// Off is the stream offset of the first payload byte in the sender's
	// stream; a SYN's data starts at 0. For a packet in before the SYN-ACK
	// it is -1: the socket under test's stream has no origin yet.
	Off int
	// AckOff is the ACK number as an offset in the receiver's stream: for a
	// packet in, how many of the peer's bytes the socket under test has taken
	// in order (a FIN counts as one more). 0 when the ACK flag is clear.
	AckOff int

	SACK   []Block // SACK blocks, offsets in the receiver's stream
	MSS    uint16  // MSS option; 0 when absent
	Cookie []byte  // Fast Open option: nil when absent, empty for a cookie request
	TS     bool    // timestamps option present
	TSval  uint32
	TSecr  uint32

	Payload []byte // a copy of the payload
}
