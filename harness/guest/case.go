package guest

import (
	"errors"
	"fmt"
	"hash/crc32"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/kernel-harness/harness/harness/scenario"
	"github.com/kernel-harness/harness/harness/wire"
)

// inNetns runs fn on a thread of its own in a fresh network namespace.
// The thread is never unlocked, so it dies with its namespace afterwards
// and no later goroutine inherits it.
func inNetns(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		// A bug in one case must fail that case, not kill PID 1.
		defer func() {
			if r := recover(); r != nil {
				errc <- fmt.Errorf("agent panic: %v\n%s", r, debug.Stack())
			}
		}()
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("new network namespace: %w", err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// caseRun carries out one loopback case: a listener and a client in the
// namespace, the writer cutting the stream into the scenario's sends, the
// reader polling after each send and reading all that is queued when ready.
type caseRun struct {
	c       scenario.Case
	emit    func(wire.Event)
	tr      *tracer
	al      *autolowat
	timeout time.Duration
	// stall bounds each wait for a wake-up once the steps are done.
	stall time.Duration
	// counters is how the namespace's TCP counters moved during the case.
	counters map[string]int64
}

func (r *caseRun) run() (err error) {
	s := r.c.Scenario
	if err := linkUp("lo", s.MTU); err != nil {
		return err
	}
	if err := setRmem(s.RMem); err != nil {
		return err
	}
	if r.stall == 0 {
		r.stall = 2 * time.Second
	}
	if r.c.Mode == scenario.Autolowat {
		dir, leave, err := enterCgroup(strings.NewReplacer("/", "-").Replace(r.c.ID()))
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, leave()) }()
		at, err := r.al.Attach(dir)
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, at.Close()) }()
	}
	before, err := readCounters()
	if err != nil {
		return err
	}
	if s.Peer() {
		err = r.peerTraffic()
	} else {
		err = r.loopbackTraffic()
	}
	if err != nil {
		return err
	}
	after, err := readCounters()
	if err != nil {
		return err
	}
	r.counters = after.Delta(before)
	return nil
}

// reader is the socket under test as the case watches it: the tracer
// follows its cookie and an epoll set holds it alone.
type reader struct {
	fd     int
	cookie uint64
	ep     int
}

// watchReader starts watching the reader and reports SO_RCVLOWAT as it
// is before the first step (the event that names the reader's cookie).
// The returned function stops watching.
func (r *caseRun) watchReader(fd int) (*reader, func(), error) {
	cookie, err := unix.GetsockoptUint64(fd, unix.SOL_SOCKET, unix.SO_COOKIE)
	if err != nil {
		return nil, nil, fmt.Errorf("reader cookie: %w", err)
	}
	if err := r.tr.Watch(cookie); err != nil {
		return nil, nil, fmt.Errorf("watch reader: %w", err)
	}
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		r.tr.Unwatch(cookie)
		return nil, nil, fmt.Errorf("epoll: %w", err)
	}
	stop := func() {
		unix.Close(ep)
		r.tr.Unwatch(cookie)
	}
	// RDHUP too: a reader whose peer closed must hear of it.
	if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(fd)}); err != nil {
		stop()
		return nil, nil, fmt.Errorf("epoll add: %w", err)
	}
	lowat, _ := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVLOWAT)
	rcvbuf, limit := rcvlowatCap(fd, r.c.Scenario.RcvBuf != 0)
	r.emit(wire.Event{Kind: wire.Rcvlowat, Scenario: r.c.ID(), Cookie: cookie, Lowat: lowat, Rcvbuf: rcvbuf, Cap: limit})
	return &reader{fd: fd, cookie: cookie, ep: ep}, stop, nil
}

// traffic carries out the scenario's steps: send makes one step happen
// (a loopback write, or a segment from the peer), then the reader polls
// and, when woken, reads what is queued (at most the scenario's reader
// max). optIn turns autolowat on on the reader itself, before the first
// step or after optin_after; Fast Open turns it on on the listener
// instead. After the last step the writer closes as the scenario says
// (end), the reader polls once, and settles.
func (r *caseRun) traffic(fd int, optIn bool, send func(scenario.Segment) error, end closer) error {
	id := r.c.ID()
	s := r.c.Scenario
	rd, stop, err := r.watchReader(fd)
	if err != nil {
		return err
	}
	defer stop()
	autolowat := r.c.Mode == scenario.Autolowat
	app := s.AppRcvlowat
	if app != nil && (!autolowat || !app.AfterOptIn) {
		if err := setAppRcvlowat(fd, app.Value); err != nil {
			return err
		}
	}
	optInNow := func(step int) error {
		if err := optInAutolowat(fd); err != nil {
			return fmt.Errorf("enable autolowat on the reader: %w", err)
		}
		if step > 0 {
			r.emit(wire.Event{Kind: wire.AutolowatOn, TimeNS: Now(), Scenario: id, Step: step, Value: "reader"})
		}
		if app != nil && app.AfterOptIn {
			return setAppRcvlowat(fd, app.Value)
		}
		return nil
	}
	if autolowat && optIn && s.OptInAfter == 0 {
		if err := optInNow(0); err != nil {
			return err
		}
	} else if autolowat && !optIn && app != nil && app.AfterOptIn {
		// Opted in on the listener already.
		if err := setAppRcvlowat(fd, app.Value); err != nil {
			return err
		}
	}
	reader, ep := rd.fd, rd.ep

	stream := s.Stream()
	read := 0
	buf := make([]byte, len(stream))
	evs := make([]unix.EpollEvent, 1)
	steps := s.Steps()
	for i, g := range steps {
		step := i + 1
		// Stamped when the send starts: the kernel queues and wakes the
		// reader inside it, and its events must sort after their send.
		t0 := Now()
		if err := send(g); err != nil {
			return fmt.Errorf("step %d: send bytes %d..%d: %w", step, g.Offset, g.Offset+g.Len, err)
		}
		r.emit(wire.Event{Kind: wire.Send, TimeNS: t0, Scenario: id, Step: step, Offset: int64(g.Offset), Bytes: g.Len, Seq: r.seq(g), Flags: r.flags(g)})
		r.flushKernel(id)

		ready, err := unix.EpollWait(ep, evs, 0)
		if err != nil {
			return fmt.Errorf("step %d: epoll_wait: %w", step, err)
		}
		t := Now()
		queued, _ := unix.IoctlGetInt(reader, unix.SIOCINQ)
		lowat, _ := unix.GetsockoptInt(reader, unix.SOL_SOCKET, unix.SO_RCVLOWAT)
		r.emit(wire.Event{Kind: wire.Poll, TimeNS: t, Scenario: id, Step: step, Ready: ready, Queued: queued, Lowat: lowat, Epoll: epollBits(ready, evs[0])})
		if ready > 0 && queued > 0 {
			if read+queued > len(buf) {
				return fmt.Errorf("step %d: %d bytes queued but only %d of the stream are left", step, queued, len(buf)-read)
			}
			n := min(queued, s.ReadMax())
			got, err := readQueued(reader, buf[read:read+n], s.Reader)
			if err != nil {
				return fmt.Errorf("step %d: read %d bytes: %w", step, n, err)
			}
			t = Now()
			r.emit(wire.Event{Kind: wire.Recv, TimeNS: t, Scenario: id, Step: step, Offset: int64(read), Bytes: got,
				CRC32: crc32.ChecksumIEEE(buf[read : read+got]), Lowat: lowatOf(reader)})
			read += got
			r.flushKernel(id)
		}
		if autolowat && optIn && s.OptInAfter == step {
			if err := optInNow(step); err != nil {
				return err
			}
			r.flushKernel(id)
		}
		if autolowat && s.OptOutAfter == step {
			// The opt-in's option with the value 0, as an application
			// turning it off would make it.
			if err := unix.SetsockoptInt(fd, 0xdeadbeef, 0x8badf00d, 0); err != nil {
				return fmt.Errorf("step %d: the opt-in with value 0: %w", step, err)
			}
			r.emit(wire.Event{Kind: wire.AutolowatOn, TimeNS: Now(), Scenario: id, Step: step, Value: "reader, value 0"})
			r.flushKernel(id)
		}
	}
	last := len(steps) + 1
	if err := r.closeAndLook(rd, end, last); err != nil {
		return err
	}
	return r.settle(rd, buf, &read, last)
}

// recvWait bounds a scripted read: its bytes are queued by the time the
// step that sent them returns, so waiting longer only delays a failure.
const recvWait = time.Second

// script carries out a scripted scenario: exactly its steps, each
// reported with what it expects, then a read of whatever the steps left
// so that every byte is accounted for. A step whose expectation does not
// hold is reported as it was; the analysis judges it. optedIn says the
// opt-in was already made on the listener the reader came from.
func (r *caseRun) script(fd int, optedIn bool, send func(scenario.Segment) error, end closer) error {
	id := r.c.ID()
	s := r.c.Scenario
	rd, stop, err := r.watchReader(fd)
	if err != nil {
		return err
	}
	defer stop()

	stream := s.Stream()
	buf := make([]byte, len(stream))
	read, sent := 0, 0
	evs := make([]unix.EpollEvent, 1)
	lowat := func() int {
		v, _ := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVLOWAT)
		return v
	}
	recv := func(step, n int, expect *int) error {
		got, err := recvWithin(fd, buf[read:read+n], recvWait)
		if err != nil {
			return fmt.Errorf("step %d: recv %d bytes: %w", step, n, err)
		}
		e := wire.Event{Kind: wire.Recv, TimeNS: Now(), Scenario: id, Step: step, Offset: int64(read), Bytes: got,
			CRC32: crc32.ChecksumIEEE(buf[read : read+got]), Lowat: lowat(), Expect: expect}
		if expect == nil {
			e.Message = "drain: the bytes the steps left unread"
		}
		r.emit(e)
		read += got
		return nil
	}
	for i, st := range s.Script {
		step := i + 1
		expect := &st.N
		switch st.Kind {
		case scenario.StepSend, scenario.StepSegment:
			g := st.Segment
			if st.Kind == scenario.StepSend {
				g = scenario.Segment{Offset: sent, Len: st.N}
				sent += st.N
			}
			t0 := Now() // as above: before the kernel's events of the send
			if err := send(g); err != nil {
				return fmt.Errorf("step %d: send bytes %d..%d: %w", step, g.Offset, g.Offset+g.Len, err)
			}
			r.emit(wire.Event{Kind: wire.Send, TimeNS: t0, Scenario: id, Step: step, Offset: int64(g.Offset), Bytes: g.Len, Seq: r.seq(g), Flags: r.flags(g)})
		case scenario.StepRecv:
			if err := recv(step, min(st.N, len(buf)-read), expect); err != nil {
				return err
			}
		case scenario.StepPoll:
			ready, err := unix.EpollWait(rd.ep, evs, 0)
			if err != nil {
				return fmt.Errorf("step %d: epoll_wait: %w", step, err)
			}
			t := Now()
			queued, _ := unix.IoctlGetInt(fd, unix.SIOCINQ)
			r.emit(wire.Event{Kind: wire.Poll, TimeNS: t, Scenario: id, Step: step, Ready: ready, Queued: queued, Lowat: lowat(), Expect: expect})
		case scenario.StepRcvlowat:
			r.emit(wire.Event{Kind: wire.Rcvlowat, Scenario: id, Step: step, Lowat: lowat(), Expect: expect})
		case scenario.StepAutolowat:
			on := "listener"
			if !optedIn {
				on = "reader"
				if err := optInAutolowat(fd); err != nil {
					return fmt.Errorf("step %d: enable autolowat on the reader: %w", step, err)
				}
			}
			r.emit(wire.Event{Kind: wire.AutolowatOn, Scenario: id, Step: step, Value: on})
		default:
			return fmt.Errorf("step %d: unknown kind %q", step, st.Kind)
		}
		r.flushKernel(id)
	}
	last := len(s.Script) + 1
	if err := r.closeAndLook(rd, end, last); err != nil {
		return err
	}
	// What the steps left unread is read as a reader would: on wake-ups.
	return r.settle(rd, buf, &read, last)
}

func (r *caseRun) flushKernel(id string) {
	for _, e := range r.tr.Drain(id) {
		r.emit(e)
	}
}

// seq is the TCP sequence number of a step's first byte when the harness
// knows it (the peer's), so the analysis can tell which skb the kernel
// queued; 0 over loopback, where the kernel picks it.
func (r *caseRun) seq(g scenario.Segment) uint32 {
	if !r.c.Scenario.Peer() {
		return 0
	}
	return peerISN + 1 + uint32(g.Offset)
}

// flags marks a peer step as the SYN's data ("S") or a plain segment
// ("."), so that the analysis can tell the Fast Open enqueue by what was
// sent rather than by when; loopback sends carry none.
func (r *caseRun) flags(g scenario.Segment) string {
	switch {
	case !r.c.Scenario.Peer():
		return ""
	case g.SynData:
		return "S"
	}
	return "."
}

// optInAutolowat is the series' per-socket opt-in: SOL_BPF /
// BPF_TCP_AUTOLOWAT, taken by our cgroup/setsockopt program.
func optInAutolowat(fd int) error {
	return unix.SetsockoptInt(fd, 0xdeadbeef, 0x8badf00d, 1)
}

// recvWithin reads len(b) bytes, waiting at most d for them to arrive,
// and returns how many it got: fewer is not an error, the caller reports
// the count.
func recvWithin(fd int, b []byte, d time.Duration) (int, error) {
	tv := unix.NsecToTimeval(d.Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return 0, fmt.Errorf("SO_RCVTIMEO: %w", err)
	}
	deadline := time.Now().Add(d)
	got := 0
	for got < len(b) && time.Now().Before(deadline) {
		// MSG_WAITALL: the read waits for all of it, not for SO_RCVLOWAT.
		n, _, err := unix.Recvfrom(fd, b[got:], unix.MSG_WAITALL)
		switch {
		case err == unix.EINTR:
		case err == unix.EAGAIN:
			return got, nil // the timeout passed with nothing more
		case err != nil:
			return got, err
		case n == 0:
			return got, errors.New("peer closed")
		default:
			got += n
		}
	}
	return got, nil
}

// readN reads exactly len(b) bytes that are already queued; MSG_DONTWAIT
// makes a short queue an error instead of a hang.
func readN(fd int, b []byte) (int, error) {
	got := 0
	for got < len(b) {
		n, _, err := unix.Recvfrom(fd, b[got:], unix.MSG_DONTWAIT)
		if err != nil {
			return got, err
		}
		if n == 0 {
			return got, errors.New("peer closed")
		}
		got += n
	}
	return got, nil
}
