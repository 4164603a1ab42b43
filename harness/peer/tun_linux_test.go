package peer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestTUNKernel talks to the running kernel's TCP through a real TUN
// device in a network namespace of its own: a handshake, two segments out
// of order that the socket must hand to its reader in order, a FIN, and the
// three Fast Open server paths.
func TestTUNKernel(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root and /dev/net/tun: run as root")
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		t.Skipf("needs root and /dev/net/tun: %v", err)
	}
	for _, family := range []int{4, 6} {
		t.Run(fmt.Sprintf("v%d", family), func(t *testing.T) {
			// The namespace belongs to this thread alone; it is never
			// unlocked, so the runtime drops the thread when the test ends.
			runtime.LockOSThread()
			if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
				t.Skipf("new network namespace refused (%v): run as root outside a restricted sandbox", err)
			}
			tun, err := OpenTUN("ptun%d")
			if err != nil {
				if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
					t.Skipf("tun refused: %v", err)
				}
				t.Fatal(err)
			}
			defer tun.Close()
			cfg := testConfig(family)
			cfg.ISN = 0xfffffff0 // the stream crosses the sequence number wrap
			up(t, tun.Name(), family, cfg.Remote)

			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			ln := listen(t, cfg)
			defer ln.Close()

			p, err := New(cfg, tun)
			if err != nil {
				t.Fatal(err)
			}
			var sacked, ignored int
			p.OnPacket = func(dir string, s Seen) {
				t.Logf("%s %s seq %d ack %d off %d ackoff %d len %d sack %v win %d", dir, s.Flags, s.Seq, s.Ack, s.Off, s.AckOff, s.Len, s.SACK, s.Window)
				if dir == In && len(s.SACK) == 1 && s.SACK[0] == (Block{8, 16}) && s.AckOff == 0 {
					sacked++
				}
			}
			p.OnIgnored = func(_ []byte, why error) { ignored++; t.Logf("ignored: %v", why) }
			hs, err := p.Handshake(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if hs.Seen.MSS == 0 {
				t.Errorf("syn-ack without mss: %+v", hs.Seen)
			}
			if _, err := p.Send(ctx, 8, stream(8, 8)); err != nil {
				t.Fatal(err)
			}
			if _, err := p.Send(ctx, 0, stream(0, 8)); err != nil {
				t.Fatal(err)
			}
			if p.Conn().Acked() < 16 {
				if _, err := p.Wait(ctx, 2*time.Second, func(s Seen) bool { return s.AckOff >= 16 }); err != nil {
					t.Fatalf("ack of both segments: %v", err)
				}
			}
			if sacked == 0 {
				t.Error("no duplicate ack with a sack block for 8..16")
			}
			got := accept(t, ln, 16)
			if want := stream(0, 16); string(got) != string(want) {
				t.Errorf("reader got %q, want %q", got, want)
			}
			if _, err := p.Close(ctx); err != nil {
				t.Error(err)
			}

			fastOpen(t, ctx, tun, cfg)
		})
	}
}

// fastOpen runs the server side of TCP Fast Open: a cookie request, the
// cookie used, and the no-cookie mode.
func fastOpen(t *testing.T, ctx context.Context, tun *TUN, base Config) {
	data := stream(0, 5)
	connect := func(port uint16, cookie []byte) HandshakeResult {
		t.Helper()
		cfg := base
		cfg.LocalPort = port
		cfg.FastOpenCookie = cookie
		p, err := New(cfg, tun)
		if err != nil {
			t.Fatal(err)
		}
		hs, err := p.Handshake(ctx, data)
		if err != nil {
			t.Fatal(err)
		}
		if !hs.AllAcked {
			// The kernel dropped the SYN data: send it again as any client
			// would.
			if _, err := p.Send(ctx, 0, data); err != nil {
				t.Fatal(err)
			}
		}
		return hs
	}

	sysctl(t, "net/ipv4/tcp_fastopen", "2")
	base.RemotePort++ // a listener of its own, with a Fast Open queue
	ln := listen(t, base, fastOpenQueue)
	defer ln.Close()
	hs := connect(41000, []byte{})
	if hs.AllAcked || len(hs.Cookie) < cookieMin {
		t.Errorf("cookie request: data acked %v, cookie %x", hs.AllAcked, hs.Cookie)
	}
	if got := accept(t, ln, len(data)); string(got) != string(data) {
		t.Errorf("cookie request: reader got %q", got)
	}
	if len(hs.Cookie) >= cookieMin {
		hs2 := connect(41001, hs.Cookie)
		if !hs2.AllAcked {
			t.Errorf("valid cookie: syn data not acked: %+v", hs2.Seen)
		}
		if got := accept(t, ln, len(data)); string(got) != string(data) {
			t.Errorf("valid cookie: reader got %q", got)
		}
	}

	sysctl(t, "net/ipv4/tcp_fastopen", "0x202")
	hs = connect(41002, []byte{})
	if !hs.AllAcked || hs.Cookie != nil {
		t.Errorf("no-cookie mode: data acked %v, cookie %x", hs.AllAcked, hs.Cookie)
	}
	if got := accept(t, ln, len(data)); string(got) != string(data) {
		t.Errorf("no-cookie mode: reader got %q", got)
	}
}

const fastOpenQueue = 16

// listen opens the socket under test on cfg's remote address, with a Fast
// Open queue when asked.
func listen(t *testing.T, cfg Config, tfo ...int) *net.TCPListener {
	t.Helper()
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			for _, q := range tfo {
				serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_FASTOPEN, q)
			}
		})
		return errors.Join(err, serr)
	}}
	network := "tcp4"
	if cfg.Family == 6 {
		network = "tcp6"
	}
	// An address added by ioctl is tentative until the kernel's DAD work
	// runs, even on a NOARP tun where that work finds nothing to do.
	deadline := time.Now().Add(3 * time.Second)
	for {
		ln, err := lc.Listen(context.Background(), network, netip.AddrPortFrom(cfg.Remote, cfg.RemotePort).String())
		if err == nil {
			return ln.(*net.TCPListener)
		}
		if !errors.Is(err, unix.EADDRNOTAVAIL) || time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// accept takes the next connection and reads n bytes from it.
func accept(t *testing.T, ln *net.TCPListener, n int) []byte {
	t.Helper()
	ln.SetDeadline(time.Now().Add(5 * time.Second))
	c, err := ln.Accept()
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, n)
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatalf("read: %v", err)
	}
	return b
}

func sysctl(t *testing.T, name, value string) {
	t.Helper()
	if err := os.WriteFile("/proc/sys/"+name, []byte(value), 0); err != nil {
		t.Fatalf("sysctl %s: %v", name, err)
	}
}

// up brings the tun up and gives it addr in a /24 or /64, with ioctls so
// the test needs no ip binary.
func up(t *testing.T, name string, family int, addr netip.Addr) {
	t.Helper()
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("socket: %v", err)
	}
	defer unix.Close(s)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlIfreq(s, unix.SIOCGIFFLAGS, ifr); err != nil {
		t.Fatalf("get flags of %s: %v", name, err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(s, unix.SIOCSIFFLAGS, ifr); err != nil {
		t.Fatalf("bring %s up: %v", name, err)
	}
	if family == 4 {
		for _, x := range []struct {
			req uint
			v   []byte
		}{{unix.SIOCSIFADDR, addr.AsSlice()}, {unix.SIOCSIFNETMASK, []byte{255, 255, 255, 0}}} {
			ifr, _ := unix.NewIfreq(name)
			if err := ifr.SetInet4Addr(x.v); err != nil {
				t.Fatal(err)
			}
			if err := unix.IoctlIfreq(s, x.req, ifr); err != nil {
				t.Fatalf("address %s: %v", name, err)
			}
		}
		return
	}
	if err := unix.IoctlIfreq(s, unix.SIOCGIFINDEX, ifr); err != nil {
		t.Fatalf("index of %s: %v", name, err)
	}
	s6, err := unix.Socket(unix.AF_INET6, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no ipv6: %v", err)
	}
	defer unix.Close(s6)
	// struct in6_ifreq. A tun is NOARP, so the kernel skips DAD and the
	// address is usable at once.
	req := struct {
		addr      [16]byte
		prefixlen uint32
		ifindex   int32
	}{addr.As16(), 64, int32(ifr.Uint32())}
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(s6), unix.SIOCSIFADDR, uintptr(unsafe.Pointer(&req))); e != 0 {
		t.Fatalf("address %s: %v", name, e)
	}
}
