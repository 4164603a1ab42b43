package guest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/kernel-harness/harness/harness/peer"
	"github.com/kernel-harness/harness/harness/scenario"
	"github.com/kernel-harness/harness/harness/wire"
)

// The peer's link: documentation address ranges (RFC 5737, RFC 3849), on
// a TUN device inside the case's own network namespace in the VM.
var peerNets = map[string]struct{ sut, peer netip.Prefix }{
	scenario.IPv4: {netip.MustParsePrefix("192.0.2.1/24"), netip.MustParsePrefix("192.0.2.2/24")},
	scenario.IPv6: {netip.MustParsePrefix("2001:db8::1/64"), netip.MustParsePrefix("2001:db8::2/64")},
}

const (
	tunName  = "hpeer0"
	peerPort = 40000
	sutPort  = 8080
	peerISN  = 1000
)

// peerTraffic runs a scenario whose segments the TCP peer sends through
// a TUN device: it makes the device, sets Fast Open up as the scenario
// asks, listens, shakes hands (with SYN data for Fast Open), accepts, and
// then steps through the segments with the same reader as loopback.
func (r *caseRun) peerTraffic() error {
	s := r.c.Scenario
	// No duplicate address detection, router solicitations or
	// autoconfiguration on the peer's link: nothing but the scenario's
	// traffic, and an address usable at once.
	for _, knob := range []string{"accept_dad", "dad_transmits", "router_solicitations", "accept_ra", "autoconf"} {
		if err := os.WriteFile("/proc/sys/net/ipv6/conf/default/"+knob, []byte("0"), 0); err != nil {
			return fmt.Errorf("sysctl net.ipv6.conf.default.%s=0: %w", knob, err)
		}
	}
	tun, err := peer.OpenTUN(tunName)
	if err != nil {
		return fmt.Errorf("peer: %w (is CONFIG_TUN set?)", err)
	}
	defer tun.Close()
	nets := peerNets[r.c.Family]
	if err := addressTUN(tunName, nets.sut); err != nil {
		return err
	}
	mode := map[string]string{"": "0", "no-cookie": "0x202", "cookie": "0x2"}[s.FastOpen]
	if err := os.WriteFile("/proc/sys/net/ipv4/tcp_fastopen", []byte(mode), 0); err != nil {
		return fmt.Errorf("sysctl net.ipv4.tcp_fastopen=%s: %w", mode, err)
	}

	if err := r.tr.WatchPort(sutPort); err != nil {
		return fmt.Errorf("watch port %d: %w", sutPort, err)
	}
	defer r.tr.UnwatchPort(sutPort)
	ln, err := r.listen(nets.sut.Addr())
	if err != nil {
		return err
	}
	defer unix.Close(ln)

	family := 4
	if r.c.Family == scenario.IPv6 {
		family = 6
	}
	cfg := peer.Config{Family: family, Local: nets.peer.Addr(), Remote: nets.sut.Addr(),
		LocalPort: peerPort, RemotePort: sutPort, ISN: peerISN}
	ctx, cancel := context.WithTimeout(context.Background(), 4*r.timeout)
	defer cancel()
	stream := s.Stream()
	steps := s.Steps()
	var synData []byte
	if steps[0].SynData {
		synData = stream[:steps[0].Len]
		cfg.FastOpenCookie = []byte{}
		if s.FastOpen == "cookie" {
			cookie, err := r.fetchCookie(ctx, tun, ln, cfg)
			if err != nil {
				return err
			}
			cfg.FastOpenCookie = cookie
			cfg.LocalPort++
		}
	}
	p, err := r.newPeer(cfg, tun)
	if err != nil {
		return err
	}
	hs, err := p.Handshake(ctx, synData)
	if err != nil {
		return fmt.Errorf("peer handshake: %w", err)
	}
	if synData != nil && !hs.AllAcked {
		return fmt.Errorf("the SYN-ACK did not acknowledge the %d bytes of SYN data: Fast Open refused", len(synData))
	}
	reader, _, err := unix.Accept4(ln, unix.SOCK_CLOEXEC)
	if err != nil {
		return fmt.Errorf("accept: %w", err)
	}
	defer unix.Close(reader)
	send := func(g scenario.Segment) error {
		if g.SynData {
			return nil // queued with the handshake
		}
		if g.FIN {
			// The FIN rides on the segment: one skb with data and FIN.
			pkt, err := p.Conn().SegmentFlags(g.Offset, stream[g.Offset:g.Offset+g.Len], peer.PSH|peer.ACK|peer.FIN)
			if err != nil {
				return err
			}
			_, err = p.Transmit(ctx, pkt)
			return err
		}
		_, err := p.Send(ctx, g.Offset, stream[g.Offset:g.Offset+g.Len])
		return err
	}
	end := func(how string) error {
		var pkt []byte
		var err error
		switch {
		case how == scenario.CloseFIN && s.Close == "":
			return nil // it rode on the last segment
		case how == scenario.CloseFIN:
			pkt, err = p.Conn().FIN(s.SentLen())
		default:
			pkt, err = p.Conn().RST(s.SentLen())
		}
		if err != nil {
			return err
		}
		_, err = p.Transmit(ctx, pkt)
		return err
	}
	// The peer sends nothing more until the reader has opted in: the
	// segments below go out after traffic or script made the opt-in.
	onListener := r.c.Mode == scenario.Autolowat && s.OptInOnListener()
	if s.Scripted() {
		return r.script(reader, onListener, send, end)
	}
	return r.traffic(reader, !onListener, send, end)
}

// listen makes the listener the peer connects to. In autolowat mode the
// opt-in is made on it only when data comes with the SYN (Fast Open), so
// that the child has the hook from its first byte; every other case opts
// in on the accepted socket, as the series' own test does.
func (r *caseRun) listen(addr netip.Addr) (int, error) {
	domain := unix.AF_INET
	var sa unix.Sockaddr
	if addr.Is6() {
		domain, sa = unix.AF_INET6, &unix.SockaddrInet6{Port: sutPort, Addr: addr.As16()}
	} else {
		sa = &unix.SockaddrInet4{Port: sutPort, Addr: addr.As4()}
	}
	ln, err := unix.Socket(domain, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("listener: %w", err)
	}
	tv := unix.NsecToTimeval(r.timeout.Nanoseconds())
	unix.SetsockoptTimeval(ln, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	fail := func(what string, err error) (int, error) {
		unix.Close(ln)
		return -1, fmt.Errorf("listener: %s: %w", what, err)
	}
	if err := unix.Bind(ln, sa); err != nil {
		return fail("bind", err)
	}
	if err := setRcvBuf(ln, r.c.Scenario.RcvBuf); err != nil {
		return fail("rcvbuf", err)
	}
	if r.c.Scenario.FastOpen != "" {
		if err := unix.SetsockoptInt(ln, unix.IPPROTO_TCP, unix.TCP_FASTOPEN, 16); err != nil {
			return fail("TCP_FASTOPEN", err)
		}
	}
	if r.c.Mode == scenario.Autolowat && r.c.Scenario.OptInOnListener() {
		if err := optInAutolowat(ln); err != nil {
			return fail("enable autolowat", err)
		}
	}
	if err := unix.Listen(ln, 8); err != nil {
		return fail("listen", err)
	}
	return ln, nil
}

// fetchCookie runs the cookie exchange on a connection of its own: a SYN
// asking for a cookie, the SYN-ACK carrying it; that connection is then
// accepted, closed and reset.
func (r *caseRun) fetchCookie(ctx context.Context, tun *peer.TUN, ln int, cfg peer.Config) ([]byte, error) {
	p, err := r.newPeer(cfg, tun)
	if err != nil {
		return nil, err
	}
	hs, err := p.Handshake(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("cookie handshake: %w", err)
	}
	if len(hs.Cookie) == 0 {
		return nil, errors.New("the server sent no Fast Open cookie")
	}
	if fd, _, err := unix.Accept4(ln, unix.SOCK_CLOEXEC); err == nil {
		unix.Close(fd)
	}
	if rst, err := p.Conn().RST(0); err == nil {
		p.Transmit(ctx, rst)
	}
	return hs.Cookie, nil
}

func (r *caseRun) newPeer(cfg peer.Config, tun *peer.TUN) (*peer.Peer, error) {
	p, err := peer.New(cfg, tun)
	if err != nil {
		return nil, fmt.Errorf("peer: %w", err)
	}
	p.Timeout = r.timeout
	id := r.c.ID()
	p.OnIgnored = func(pkt []byte, why error) {
		r.emit(wire.Event{Kind: wire.Log, Scenario: id, Message: fmt.Sprintf("peer ignored a %d-byte packet: %v", len(pkt), why)})
	}
	p.OnPacket = func(dir string, s peer.Seen) {
		kind := wire.PeerOut
		if dir == peer.In {
			kind = wire.PeerIn
		}
		r.emit(wire.Event{Kind: kind, Scenario: id, Offset: int64(s.Off), Bytes: s.Len,
			Seq: s.Seq, Flags: s.Flags.String(), AckOffset: s.AckOff, Window: int(s.Window)})
	}
	return p, nil
}

// addressTUN brings the TUN device up with the socket under test's
// address; IPv6 without duplicate address detection, which would hold
// the address back for a second.
func addressTUN(name string, pfx netip.Prefix) error {
	link, err := netlink.LinkByName(name)
	if err != nil {
		return fmt.Errorf("tun %s: %w", name, err)
	}
	addr := &netlink.Addr{IPNet: prefixNet(pfx)}
	if pfx.Addr().Is6() {
		addr.Flags = unix.IFA_F_NODAD
	}
	if err := netlink.AddrAdd(link, addr); err != nil {
		return fmt.Errorf("address %s on %s: %w", pfx, name, err)
	}
	if err := netlink.LinkSetUp(link); err != nil {
		return fmt.Errorf("bring %s up: %w", name, err)
	}
	// IPv6 installs the address's local route from a work queue, even
	// without DAD; a SYN that arrives before it is dropped. Wait for it.
	deadline := time.Now().Add(5 * time.Second)
	for {
		routes, err := netlink.RouteGet(pfx.Addr().AsSlice())
		if err == nil && len(routes) > 0 && routes[0].Type == unix.RTN_LOCAL {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("address %s on %s: no local route after 5s (%v)", pfx, name, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func prefixNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}
