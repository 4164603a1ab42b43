package peer

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Link carries whole IP packets to and from the socket under test's
// network stack: a TUN device in the guest, an in-memory fake in tests.
type Link interface {
	// Read returns the next packet, or an error once ctx is done.
	Read(ctx context.Context) ([]byte, error)
	Write(pkt []byte) error
}

// ErrTimeout is a wait of the Peer's own that ran out: the socket under
// test did not answer in time.
var ErrTimeout = errors.New("deadline passed")

// Defaults for Peer's waits.
const (
	DefaultTimeout = 2 * time.Second
	DefaultSettle  = 20 * time.Millisecond
)

// Directions OnPacket reports.
const (
	Out = "out" // written by the peer
	In  = "in"  // read from the socket under test
)

// Peer drives a Conn over a Link. It writes only the packets its methods
// are asked for, one each (Handshake two: the SYN and its ACK), and reads
// only inside a bounded wait. Not safe for concurrent use.
type Peer struct {
	// OnPacket hears of every packet written and every packet of the
	// connection read, in order; dir is Out or In.
	OnPacket func(dir string, s Seen)
	// OnIgnored hears of every packet read that was not used, with why:
	// ErrUnrelated for other traffic (router solicitations, MLD), else a
	// malformed packet or a bad checksum.
	OnIgnored func(pkt []byte, why error)
	// Timeout bounds the waits for the SYN-ACK and for the FIN's ACK;
	// DefaultTimeout when zero.
	Timeout time.Duration
	// Settle is how long Send collects what comes back; DefaultSettle when
	// zero.
	Settle time.Duration

	conn    *Conn
	link    Link
	end     int // one past the highest stream offset written
	ignored int
}

// New makes a Peer for the connection cfg describes, over link.
func New(cfg Config, link Link) (*Peer, error) {
	if link == nil {
		return nil, errors.New("no link")
	}
	c, err := NewConn(cfg)
	if err != nil {
		return nil, err
	}
	return &Peer{conn: c, link: link}, nil
}

// Conn is the connection's state; use it to build packets for Transmit.
func (p *Peer) Conn() *Conn { return p.conn }

// End is one past the highest stream offset written: where a FIN goes.
func (p *Peer) End() int { return p.end }

// Ignored counts the packets read and not used, over the Peer's life.
func (p *Peer) Ignored() int { return p.ignored }

// HandshakeResult is what the handshake told the peer.
type HandshakeResult struct {
	SynAck
	Ignored int // packets read and not used while waiting for the SYN-ACK
}

// Handshake writes the SYN, with synData for Fast Open, waits up to Timeout
// for the SYN-ACK, and writes the ACK that completes the handshake. SYN data
// the SYN-ACK did not acknowledge is not sent again: that is the caller's
// choice, at offset 0.
func (p *Peer) Handshake(ctx context.Context, synData []byte) (HandshakeResult, error) {
	var res HandshakeResult
	syn, err := p.conn.SYN(synData)
	if err != nil {
		return res, err
	}
	if err := p.write(syn); err != nil {
		return res, err
	}
	before := p.ignored
	var ack []byte
	err = p.read(ctx, p.timeout(), func(pkt []byte) (bool, error) {
		s, err := p.conn.decodeIn(pkt)
		if err != nil {
			p.ignore(pkt, err)
			return false, nil
		}
		if s.Flags&(SYN|ACK) != SYN|ACK && s.Flags&RST == 0 {
			// Not an answer to the SYN; report it and keep waiting.
			p.report(In, s.Seen)
			return false, nil
		}
		a, sa, err := p.conn.HandleSynAck(pkt)
		p.report(In, s.Seen)
		if err != nil {
			return true, err
		}
		ack, res.SynAck = a, sa
		return true, nil
	})
	res.Ignored = p.ignored - before
	if err != nil {
		return res, fmt.Errorf("syn-ack: %w", err)
	}
	return res, p.write(ack)
}

// Send writes one data segment at stream offset off and returns what the
// socket under test sent back within Settle.
func (p *Peer) Send(ctx context.Context, off int, data []byte) ([]Seen, error) {
	pkt, err := p.conn.Segment(off, data)
	if err != nil {
		return nil, err
	}
	return p.Transmit(ctx, pkt)
}

// Transmit writes one packet built by Conn and returns what the socket
// under test sent back within Settle.
func (p *Peer) Transmit(ctx context.Context, pkt []byte) ([]Seen, error) {
	if err := p.write(pkt); err != nil {
		return nil, err
	}
	return p.Collect(ctx, p.settle())
}

// Collect returns what the socket under test sends within d, writing
// nothing.
func (p *Peer) Collect(ctx context.Context, d time.Duration) ([]Seen, error) {
	var got []Seen
	err := p.read(ctx, d, func(pkt []byte) (bool, error) {
		if s, ok := p.parse(pkt); ok {
			got = append(got, s)
		}
		return false, nil
	})
	if errors.Is(err, ErrTimeout) {
		err = nil
	}
	return got, err
}

// Wait reads until a packet of the connection matches, or d passes
// (ErrTimeout). It returns every packet of the connection read, the match
// last.
func (p *Peer) Wait(ctx context.Context, d time.Duration, match func(Seen) bool) ([]Seen, error) {
	var got []Seen
	err := p.read(ctx, d, func(pkt []byte) (bool, error) {
		s, ok := p.parse(pkt)
		if !ok {
			return false, nil
		}
		got = append(got, s)
		return match(s), nil
	})
	return got, err
}

// Close writes a FIN at End and waits up to Timeout for its ACK. A RST
// instead is ErrReset. The socket under test's own FIN is only reported:
// acknowledging it is the caller's choice.
func (p *Peer) Close(ctx context.Context) ([]Seen, error) {
	end := p.end
	fin, err := p.conn.FIN(end)
	if err != nil {
		return nil, err
	}
	if err := p.write(fin); err != nil {
		return nil, err
	}
	var reset bool
	got, err := p.Wait(ctx, p.timeout(), func(s Seen) bool {
		reset = s.Flags&RST != 0
		return reset || s.Flags&ACK != 0 && s.AckOff >= end+1
	})
	if err == nil && reset {
		err = ErrReset
	}
	if err != nil {
		return got, fmt.Errorf("ack of fin at %d: %w", end, err)
	}
	return got, nil
}

// write sends one packet and reports it.
func (p *Peer) write(pkt []byte) error {
	s, err := p.conn.describe(pkt)
	if err != nil {
		return fmt.Errorf("outgoing packet: %w", err)
	}
	if err := p.link.Write(pkt); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if e := s.Off + s.Len; e > p.end {
		p.end = e
	}
	p.report(Out, s)
	return nil
}

// read hands each packet read to fn until fn is done or d passes, which is
// ErrTimeout. The caller's ctx ending is its own error.
func (p *Peer) read(ctx context.Context, d time.Duration, fn func(pkt []byte) (bool, error)) error {
	rctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	for {
		pkt, err := p.link.Read(rctx)
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return cerr
			}
			// A link may see a deadline pass before the context's timer
			// fires: whose deadline it was decides whose error it is.
			if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
				return context.DeadlineExceeded
			}
			if rctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
				return fmt.Errorf("%w (%v)", ErrTimeout, d)
			}
			return fmt.Errorf("read: %w", err)
		}
		done, err := fn(pkt)
		if done || err != nil {
			return err
		}
	}
}

// parse reads a packet of the connection and reports it, or counts it as
// ignored.
func (p *Peer) parse(pkt []byte) (Seen, bool) {
	s, err := p.conn.Parse(pkt)
	if err != nil {
		p.ignore(pkt, err)
		return Seen{}, false
	}
	p.report(In, s)
	return s, true
}

func (p *Peer) report(dir string, s Seen) {
	if p.OnPacket != nil {
		p.OnPacket(dir, s)
	}
}

func (p *Peer) ignore(pkt []byte, why error) {
	p.ignored++
	if p.OnIgnored != nil {
		p.OnIgnored(pkt, why)
	}
}

func (p *Peer) timeout() time.Duration {
	if p.Timeout > 0 {
		return p.Timeout
	}
	return DefaultTimeout
}

func (p *Peer) settle() time.Duration {
	if p.Settle > 0 {
		return p.Settle
	}
	return DefaultSettle
}
