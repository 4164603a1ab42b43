package guest

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/kernel-harness/harness/harness/scenario"
)

// conn is a connected loopback pair: the writer's socket and the reader's
// (the accepted child, which the scenario watches).
type conn struct {
	listener, writer, reader int
}

func (c *conn) Close() error {
	for _, fd := range []int{c.writer, c.reader, c.listener} {
		if fd > 0 {
			unix.Close(fd)
		}
	}
	return nil
}

// dial makes the pair over the namespace's loopback in one family; every
// blocking call is bounded by timeout.
func dial(family string, timeout time.Duration, rcvbuf int) (*conn, error) {
	domain, addr := unix.AF_INET, func(port int) unix.Sockaddr {
		return &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}
	}
	if family == scenario.IPv6 {
		domain = unix.AF_INET6
		addr = func(port int) unix.Sockaddr {
			return &unix.SockaddrInet6{Port: port, Addr: [16]byte{15: 1}}
		}
	}
	c := &conn{listener: -1, writer: -1, reader: -1}
	var err error
	fail := func(what string, e error) (*conn, error) {
		c.Close()
		return nil, fmt.Errorf("%s %s: %w", family, what, e)
	}
	if c.listener, err = unix.Socket(domain, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0); err != nil {
		return fail("socket", err)
	}
	if err = unix.Bind(c.listener, addr(0)); err != nil {
		return fail("bind", err)
	}
	if err = setRcvBuf(c.listener, rcvbuf); err != nil {
		return fail("listener", err)
	}
	if err = unix.Listen(c.listener, 8); err != nil {
		return fail("listen", err)
	}
	sa, err := unix.Getsockname(c.listener)
	if err != nil {
		return fail("getsockname", err)
	}
	port := 0
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		port = a.Port
	case *unix.SockaddrInet6:
		port = a.Port
	}
	if c.writer, err = unix.Socket(domain, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0); err != nil {
		return fail("socket", err)
	}
	tv := unix.NsecToTimeval(timeout.Nanoseconds())
	for _, fd := range []int{c.writer, c.listener} {
		unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv)
		unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	}
	// Nagle would hold back small sends and merge them: each send must
	// reach the reader as the scenario cut it.
	unix.SetsockoptInt(c.writer, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	if err = connect(c.writer, addr(port), timeout); err != nil {
		return fail("connect", err)
	}
	if c.reader, _, err = unix.Accept4(c.listener, unix.SOCK_CLOEXEC); err != nil {
		return fail("accept", err)
	}
	return c, nil
}

// linkUp brings a device up and sets its MTU when mtu is not 0.
func linkUp(name string, mtu int) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("link %s: %w", name, err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return err
	}
	if mtu != 0 {
		ifr.SetUint32(uint32(mtu))
		if err := unix.IoctlIfreq(fd, unix.SIOCSIFMTU, ifr); err != nil {
			return fmt.Errorf("set %s mtu %d: %w", name, mtu, err)
		}
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("get %s flags: %w", name, err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring %s up: %w", name, err)
	}
	return nil
}

// connect connects fd to sa. A signal (the Go runtime's own preemption)
// can interrupt a blocking connect with EINTR while the handshake goes
// on in the kernel: then wait for it to finish and take its result.
func connect(fd int, sa unix.Sockaddr, timeout time.Duration) error {
	err := unix.Connect(fd, sa)
	if err != unix.EINTR {
		return err
	}
	deadline := time.Now().Add(timeout)
	for {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
		n, err := unix.Poll(pfd, int(time.Until(deadline).Milliseconds()))
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return err
		case n == 0:
			return unix.ETIMEDOUT
		}
		soErr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
		if err != nil {
			return err
		}
		if soErr != 0 {
			return unix.Errno(soErr)
		}
		return nil
	}
}
