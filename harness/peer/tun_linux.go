package peer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// pollSlice is the longest single poll, so a cancelled context without a
// deadline is still noticed promptly.
const pollSlice = 50 * time.Millisecond

// TUN is a Link over a TUN device (IFF_TUN|IFF_NO_PI): each read and write
// is one whole IP packet. Not safe for concurrent use; Close only after the
// last Read returned.
type TUN struct {
	fd   int
	name string
	buf  []byte
}

// OpenTUN creates the TUN device name (or attaches to it if it exists and
// is free); "tun%d" lets the kernel pick. It does not bring the device up
// or address it: see the package comment for what the caller must do.
func OpenTUN(name string) (*TUN, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("open /dev/net/tun: %w", err)
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("tun name %q: %w", name, err)
	}
	ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("tunsetiff %s: %w", name, err)
	}
	return &TUN{fd: fd, name: ifr.Name(), buf: make([]byte, 65536)}, nil
}

// Name is the device's name as the kernel gave it.
func (t *TUN) Name() string { return t.name }

// Read returns the next packet the kernel routed to the device. It polls
// with a timeout, never blocks past ctx, and returns ctx's error once ctx
// is done.
func (t *TUN) Read(ctx context.Context) ([]byte, error) {
	if t.fd < 0 {
		return nil, errors.New("tun closed")
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		wait := pollSlice
		if dl, ok := ctx.Deadline(); ok {
			wait = min(wait, time.Until(dl))
			if wait <= 0 {
				return nil, context.DeadlineExceeded
			}
		}
		ms := int((wait + time.Millisecond - 1) / time.Millisecond)
		fds := []unix.PollFd{{Fd: int32(t.fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, ms)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("poll %s: %w", t.name, err)
		}
		if n == 0 {
			continue
		}
		if fds[0].Revents&unix.POLLIN == 0 {
			return nil, fmt.Errorf("poll %s: events %#x", t.name, fds[0].Revents)
		}
		m, err := unix.Read(t.fd, t.buf)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", t.name, err)
		}
		return append([]byte{}, t.buf[:m]...), nil
	}
}

// Write hands one packet to the kernel as if it arrived on the device.
func (t *TUN) Write(pkt []byte) error {
	if t.fd < 0 {
		return errors.New("tun closed")
	}
	for {
		n, err := unix.Write(t.fd, pkt)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", t.name, err)
		}
		if n != len(pkt) {
			return fmt.Errorf("write %s: %d of %d bytes", t.name, n, len(pkt))
		}
		return nil
	}
}

// Close closes the device; a device the caller did not make persistent
// goes away with it.
func (t *TUN) Close() error {
	if t.fd < 0 {
		return nil
	}
	err := unix.Close(t.fd)
	t.fd = -1
	if err != nil {
		return fmt.Errorf("close %s: %w", t.name, err)
	}
	return nil
}

var _ Link = (*TUN)(nil)
