package guest

import (
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/kernel-harness/harness/harness/scenario"
	"github.com/kernel-harness/harness/harness/wire"
)

// setRmem sets the namespace's net.ipv4.tcp_rmem, when the scenario
// gives it: a sysctl of the case's own network namespace.
func setRmem(rmem []int) error {
	if len(rmem) == 0 {
		return nil
	}
	v := fmt.Sprintf("%d %d %d", rmem[0], rmem[1], rmem[2])
	if err := os.WriteFile("/proc/sys/net/ipv4/tcp_rmem", []byte(v), 0); err != nil {
		return fmt.Errorf("sysctl net.ipv4.tcp_rmem=%q: %w", v, err)
	}
	return nil
}

// setRcvBuf gives a listener the scenario's SO_RCVBUF before listen(), so
// that the accepted reader has it (and its lock) from the handshake on.
func setRcvBuf(fd, n int) error {
	if n == 0 {
		return nil
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, n); err != nil {
		return fmt.Errorf("SO_RCVBUF %d: %w", n, err)
	}
	return nil
}

// rcvlowatCap is the most tcp_set_rcvlowat() lets sk_rcvlowat be: half
// of sk_rcvbuf when the application locked the buffer (SO_RCVBUF), else
// half of tcp_rmem's maximum.
func rcvlowatCap(fd int, locked bool) (rcvbuf, limit int) {
	rcvbuf, _ = unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF)
	if locked {
		return rcvbuf, rcvbuf >> 1
	}
	b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_rmem")
	if err != nil {
		return rcvbuf, 0
	}
	f := strings.Fields(string(b))
	if len(f) != 3 {
		return rcvbuf, 0
	}
	m, _ := strconv.Atoi(f[2])
	return rcvbuf, m >> 1
}

// setAppRcvlowat is the application's own SO_RCVLOWAT.
func setAppRcvlowat(fd, v int) error {
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVLOWAT, v); err != nil {
		return fmt.Errorf("SO_RCVLOWAT %d: %w", v, err)
	}
	return nil
}

// epollBits names what an epoll_wait reported.
func epollBits(ready int, ev unix.EpollEvent) string {
	if ready == 0 {
		return ""
	}
	var out []string
	for _, b := range []struct {
		bit  uint32
		name string
	}{{unix.EPOLLIN, "IN"}, {unix.EPOLLRDHUP, "RDHUP"}, {unix.EPOLLHUP, "HUP"}, {unix.EPOLLERR, "ERR"}} {
		if ev.Events&b.bit != 0 {
			out = append(out, b.name)
		}
	}
	return strings.Join(out, "|")
}

// errEOF is a read that found the peer's FIN: 0 bytes.
var errEOF = errors.New("end of stream")

// readQueued reads exactly len(b) bytes that are queued, the scenario's
// way: recv() (with MSG_PEEK first, or MSG_WAITALL), read(), or splice()
// through a pipe. Nothing blocks: every byte asked for is queued.
func readQueued(fd int, b []byte, rd *scenario.Reader) (int, error) {
	if rd == nil {
		rd = &scenario.Reader{}
	}
	switch rd.Call {
	case scenario.CallRead:
		return readLoop(b, func(p []byte) (int, error) { return unix.Read(fd, p) })
	case scenario.CallSplice:
		return spliceRead(fd, b)
	}
	if rd.Peek {
		// A look that takes nothing: the bytes must still be there after.
		if _, err := readLoop(b, func(p []byte) (int, error) {
			n, _, err := unix.Recvfrom(fd, p, unix.MSG_PEEK|unix.MSG_DONTWAIT)
			return n, err
		}); err != nil {
			return 0, fmt.Errorf("MSG_PEEK: %w", err)
		}
	}
	flags := unix.MSG_DONTWAIT
	if rd.WaitAll {
		flags |= unix.MSG_WAITALL
	}
	return readLoop(b, func(p []byte) (int, error) {
		n, _, err := unix.Recvfrom(fd, p, flags)
		return n, err
	})
}

// readLoop calls read until b is full; a peek sees the same bytes each
// time, so its first answer is kept.
func readLoop(b []byte, read func([]byte) (int, error)) (int, error) {
	got := 0
	for got < len(b) {
		n, err := read(b[got:])
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return got, err
		case n == 0:
			return got, errEOF
		}
		got += n
	}
	return got, nil
}

// spliceRead moves the bytes into a pipe with splice() and reads them
// from it, a pipe's worth at a time.
func spliceRead(fd int, b []byte) (int, error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return 0, fmt.Errorf("pipe: %w", err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	got := 0
	for got < len(b) {
		n, err := unix.Splice(fd, nil, p[1], nil, min(len(b)-got, 64<<10), unix.SPLICE_F_NONBLOCK)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return got, fmt.Errorf("splice: %w", err)
		case n == 0:
			return got, errEOF
		}
		if _, err := readLoop(b[got:got+int(n)], func(q []byte) (int, error) { return unix.Read(p[0], q) }); err != nil {
			return got, fmt.Errorf("read the pipe: %w", err)
		}
		got += int(n)
	}
	return got, nil
}

// closer ends the writer's side of the connection: by FIN or by RST.
type closer func(how string) error

// settle is the end of a case: after the last step (and the close) the
// reader waits up to stall for each wake-up and reads, until every byte
// the kernel can hand over is read and, when the writer closed, the end
// (EOF or the reset) is seen. What it found is the Settle event:
// drained, eof, reset, or stalled with bytes left.
func (r *caseRun) settle(rd *reader, buf []byte, read *int, step int) error {
	s := r.c.Scenario
	id := r.c.ID()
	closing := s.Closes()
	evs := make([]unix.EpollEvent, 1)
	end := func(value string, queued, lowat int) {
		r.emit(wire.Event{Kind: wire.Settle, TimeNS: Now(), Scenario: id, Step: step, Value: value,
			Queued: queued, Lowat: lowat, Bytes: s.SentLen() - *read})
	}
	for {
		if *read >= s.SentLen() && closing == "" {
			end("drained", 0, 0)
			return nil
		}
		ready, err := epollWait(rd.ep, evs, r.stall)
		if err != nil {
			return fmt.Errorf("settle: epoll_wait: %w", err)
		}
		queued, _ := unix.IoctlGetInt(rd.fd, unix.SIOCINQ)
		lowat, _ := unix.GetsockoptInt(rd.fd, unix.SOL_SOCKET, unix.SO_RCVLOWAT)
		r.emit(wire.Event{Kind: wire.Poll, TimeNS: Now(), Scenario: id, Step: step, Value: "settle", Ready: ready,
			Queued: queued, Lowat: lowat, Epoll: epollBits(ready, evs[0])})
		if ready == 0 {
			end("stalled", queued, lowat)
			return nil
		}
		n := min(queued, s.ReadMax(), len(buf)-*read)
		if n == 0 {
			// Woken with nothing queued: the end of the stream.
			var one [1]byte
			m, _, err := unix.Recvfrom(rd.fd, one[:], unix.MSG_DONTWAIT)
			switch {
			case err == unix.ECONNRESET:
				end("reset", 0, lowat)
			case err == nil && m == 0:
				end("eof", 0, lowat)
			case err == unix.EAGAIN:
				end("stalled", 0, lowat) // woken for nothing, and nothing will come
			case err != nil:
				return fmt.Errorf("settle: recv: %w", err)
			default:
				return fmt.Errorf("settle: a byte past the %d queued", queued)
			}
			return nil
		}
		got, err := readQueued(rd.fd, buf[*read:*read+n], s.Reader)
		if got > 0 {
			r.emit(wire.Event{Kind: wire.Recv, TimeNS: Now(), Scenario: id, Step: step, Offset: int64(*read), Bytes: got,
				CRC32: crc32.ChecksumIEEE(buf[*read : *read+got]), Lowat: lowatOf(rd.fd), Message: "settle"})
			*read += got
		}
		r.flushKernel(id)
		switch {
		case errors.Is(err, unix.ECONNRESET):
			end("reset", 0, lowat)
			return nil
		case err != nil:
			return fmt.Errorf("settle: read %d bytes: %w", n, err)
		}
	}
}

// closeAndLook ends the writer's side as the scenario says, then polls
// the reader once, at once: the peer's FIN or RST must wake it whatever
// SO_RCVLOWAT says (the check woken-on-close).
func (r *caseRun) closeAndLook(rd *reader, end closer, step int) error {
	how := r.c.Scenario.Closes()
	if how == "" {
		return nil
	}
	id := r.c.ID()
	t0 := Now()
	if err := end(how); err != nil {
		return fmt.Errorf("close by %s: %w", how, err)
	}
	r.emit(wire.Event{Kind: wire.Close, TimeNS: t0, Scenario: id, Step: step, Value: how})
	r.flushKernel(id)
	evs := make([]unix.EpollEvent, 1)
	ready, err := unix.EpollWait(rd.ep, evs, 0)
	if err != nil {
		return fmt.Errorf("after the close: epoll_wait: %w", err)
	}
	queued, _ := unix.IoctlGetInt(rd.fd, unix.SIOCINQ)
	r.emit(wire.Event{Kind: wire.Poll, TimeNS: Now(), Scenario: id, Step: step, Value: "close", Ready: ready,
		Queued: queued, Lowat: lowatOf(rd.fd), Epoll: epollBits(ready, evs[0])})
	return nil
}

func lowatOf(fd int) int {
	v, _ := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVLOWAT)
	return v
}

// epollWait is epoll_wait that resumes after a signal (the Go runtime's
// preemption) with the time left.
func epollWait(ep int, evs []unix.EpollEvent, d time.Duration) (int, error) {
	deadline := time.Now().Add(d)
	for {
		ms := int(time.Until(deadline).Milliseconds())
		n, err := unix.EpollWait(ep, evs, max(ms, 0))
		if err == unix.EINTR && ms > 0 {
			continue
		}
		return n, err
	}
}
