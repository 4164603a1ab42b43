package analysis

import "github.com/kernel-harness/harness/harness/scenario"

// program follows the series' autolowat program byte for byte, as ours
// (selftests/progs/autolowat.bpf.c) and the ports' tcp_autolowat.c are
// written: it parses the descriptors as sent (a frame that lies about
// its size is parsed as it says), gives up on a length over 1 MiB or on
// an skb that needs more than maxSteps parse steps, and then asks for
// rcvlowat 1 and is called no more. Offsets are stream offsets.
type program struct {
	stream                                  []byte
	parsed, frameStart, frameEnd, completed int
	desc                                    [scenario.DescLen]byte
	have                                    int
	started, anyComplete, failed            bool
	// failedAt is the step whose skb made it give up (0: never).
	failedAt int
}

// The program's bounds, as in its C source.
const (
	maxSteps   = 64      // parse steps per skb
	maxDescLen = 1 << 20 // header_len and payload_len each
)

// enqueue is a BPF_SOCK_OPS_RCVQ_CB call for an skb holding stream bytes
// [seq, end), rcvNxt being where the queue ended before it.
func (p *program) enqueue(seq, end, rcvNxt, step int) {
	if p.failed {
		return
	}
	p.start(rcvNxt)
	if !p.parse(seq, end) {
		p.failed, p.failedAt = true, step
	}
}

// start is the program's first call on the socket: it parses from the
// end of what is queued on.
func (p *program) start(rcvNxt int) {
	if !p.started {
		p.parsed, p.frameStart, p.started = rcvNxt, rcvNxt, true
	}
}

func (p *program) parse(seq, end int) bool {
	for i := 0; i < maxSteps; i++ {
		if p.parsed >= end {
			return true
		}
		if p.have < scenario.DescLen {
			off := p.parsed
			if off < seq || off >= len(p.stream) {
				return false // bpf_skb_load_bytes outside the skb
			}
			p.desc[p.have] = p.stream[off]
			p.have++
			p.parsed++
			if p.have == scenario.DescLen {
				hdr := le32(p.desc[0:4])
				pay := le32(p.desc[4:8])
				if hdr > maxDescLen || pay > maxDescLen {
					return false
				}
				p.frameEnd = p.frameStart + scenario.DescLen + int(hdr) + int(pay)
			}
			continue
		}
		n := min(end-p.parsed, p.frameEnd-p.parsed)
		p.parsed += n
		if p.parsed == p.frameEnd {
			p.completed, p.anyComplete = p.frameEnd, true
			p.frameStart = p.frameEnd
			p.have = 0
		}
	}
	return p.parsed >= end
}

// target is the rcvlowat the program asks for with copied read.
func (p *program) target(copied int) int {
	switch {
	case p.failed:
		return 1
	case p.anyComplete && copied < p.completed:
		return p.completed - copied
	case p.have == scenario.DescLen && copied < p.frameEnd:
		return p.frameEnd - copied
	}
	return scenario.DescLen
}

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}
