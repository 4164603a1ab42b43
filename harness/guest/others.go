package guest

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/kernel-harness/harness/harness/scenario"
	"github.com/kernel-harness/harness/harness/wire"
)

// others are the connections beside the reader under test (the
// scenario's connections), under the same cgroup: each gets every step's
// bytes right after the reader's writer, is read the scenario's way when
// woken, and is checked whole at the end. Their own events would be
// noise: they are summed up in one Others event.
type others struct {
	r     *caseRun
	conns []*otherConn
}

type otherConn struct {
	c    *conn
	ep   int
	buf  []byte
	read int
}

// dialOthers makes n connections more, opted in when the case is.
func (r *caseRun) dialOthers(n int) (*others, error) {
	o := &others{r: r}
	s := r.c.Scenario
	for i := 0; i < n; i++ {
		c, err := dial(r.c.Family, r.timeout, s.RcvBuf)
		if err != nil {
			o.Close()
			return nil, fmt.Errorf("connection %d: %w", i+2, err)
		}
		oc := &otherConn{c: c, ep: -1, buf: make([]byte, s.StreamLen())}
		o.conns = append(o.conns, oc)
		if oc.ep, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
			o.Close()
			return nil, fmt.Errorf("connection %d: epoll: %w", i+2, err)
		}
		if err := unix.EpollCtl(oc.ep, unix.EPOLL_CTL_ADD, c.reader, &unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(c.reader)}); err != nil {
			o.Close()
			return nil, fmt.Errorf("connection %d: epoll add: %w", i+2, err)
		}
		if r.c.Mode == scenario.Autolowat {
			if err := optInAutolowat(c.reader); err != nil {
				o.Close()
				return nil, fmt.Errorf("connection %d: enable autolowat: %w", i+2, err)
			}
		}
	}
	return o, nil
}

// send writes the step's bytes on every other connection, then lets
// each read what it was woken for.
func (o *others) send(b []byte) error {
	for i, oc := range o.conns {
		if err := writeAll(oc.c.writer, b); err != nil {
			return fmt.Errorf("connection %d: %w", i+2, err)
		}
	}
	for i, oc := range o.conns {
		if _, err := oc.readIfReady(o.r.c.Scenario, 0); err != nil {
			return fmt.Errorf("connection %d: %w", i+2, err)
		}
	}
	return nil
}

// readIfReady waits up to ms for a wake-up and reads what is queued (at
// most the reader's max); it says whether it was woken.
func (oc *otherConn) readIfReady(s scenario.Scenario, ms int) (bool, error) {
	evs := make([]unix.EpollEvent, 1)
	ready, err := unix.EpollWait(oc.ep, evs, ms)
	if err == unix.EINTR {
		return true, nil // look again
	}
	if err != nil || ready == 0 {
		return false, err
	}
	queued, _ := unix.IoctlGetInt(oc.c.reader, unix.SIOCINQ)
	n := min(queued, s.ReadMax(), len(oc.buf)-oc.read)
	if n == 0 {
		return true, nil
	}
	got, err := readQueued(oc.c.reader, oc.buf[oc.read:oc.read+n], s.Reader)
	oc.read += got
	return true, err
}

// end closes every other writer as the scenario says.
func (o *others) end(how string) error {
	var errs []error
	for _, oc := range o.conns {
		if how == scenario.CloseFIN {
			errs = append(errs, unix.Shutdown(oc.c.writer, unix.SHUT_WR))
			continue
		}
		errs = append(errs, unix.SetsockoptLinger(oc.c.writer, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0}))
		fd := oc.c.writer
		oc.c.writer = -1
		errs = append(errs, unix.Close(fd))
	}
	return errors.Join(errs...)
}

// settle reads what each other connection still has, on wake-ups bounded
// by the stall bound, and reports them all in one Others event: ok, or
// which were left asleep or read wrong.
func (o *others) settle() {
	s := o.r.c.Scenario
	want := s.Stream()[:s.SentLen()]
	ms := int(o.r.stall.Milliseconds())
	var bad []string
	total := 0
	for i, oc := range o.conns {
		for oc.read < len(want) {
			woken, err := oc.readIfReady(s, ms)
			if errors.Is(err, unix.ECONNRESET) || errors.Is(err, errEOF) {
				break
			}
			if err != nil {
				bad = append(bad, fmt.Sprintf("connection %d: %v", i+2, err))
				break
			}
			if !woken {
				queued, _ := unix.IoctlGetInt(oc.c.reader, unix.SIOCINQ)
				bad = append(bad, fmt.Sprintf("connection %d left asleep with %d bytes queued (SO_RCVLOWAT %d), %d of %d read", i+2, queued, lowatOf(oc.c.reader), oc.read, len(want)))
				break
			}
		}
		total += oc.read
		if oc.read == len(want) && !bytes.Equal(oc.buf[:oc.read], want) {
			bad = append(bad, fmt.Sprintf("connection %d read bytes that differ from what was sent", i+2))
		}
	}
	e := wire.Event{Kind: wire.Others, TimeNS: Now(), Scenario: o.r.c.ID(), Bytes: total, Value: "ok", Ready: len(o.conns)}
	if len(bad) > 0 {
		e.Value, e.Message = "failed", strings.Join(bad, "; ")
	}
	o.r.emit(e)
}

func (o *others) Close() {
	for _, oc := range o.conns {
		if oc.ep >= 0 {
			unix.Close(oc.ep)
		}
		oc.c.Close()
	}
}
