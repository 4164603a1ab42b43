// Package peer is a user-space TCP peer that talks to a socket under test
// through a TUN device. It sends exactly the segments a scenario asks for and
// nothing else: no retransmission timer, no window probes, no automatic ACKs.
// That is the point of it: the kernel's own TCP stack would coalesce, delay
// and retransmit, and the scenarios need out-of-order, overlapping and
// Fast Open segments placed by hand.
//
// The package splits in two:
//
//   - Conn is a pure state machine: it builds IPv4 or IPv6 packets carrying
//     TCP segments addressed by stream offset, and parses what the socket
//     under test sends back. It does no I/O and is tested without root.
//   - Peer ties a Conn to a Link (a TUN device in the guest, a fake in
//     tests), reports every packet through OnPacket, and bounds every wait.
//
// Stream offsets count the peer's payload bytes from 0, the first byte after
// the SYN; data carried in a SYN is offsets 0..len-1. A segment at offset off
// has sequence number ISN+1+off, so a retransmission or an overlap is just a
// segment at an offset already sent.
//
// # What the caller sets up
//
// OpenTUN only creates the device (IFF_TUN|IFF_NO_PI). Before a handshake the
// caller must, in the network namespace the socket under test lives in:
//
//   - bring the device up;
//   - IPv4: give the device the socket-under-test address with a prefix that
//     also covers the peer's address, e.g. 10.0.0.1/24 on the tun with the
//     peer at 10.0.0.2; the connected route then sends replies to the peer
//     out of the tun, and rp_filter passes the peer's packets because their
//     source is routed back through the same device;
//   - IPv6: the same with a /64, e.g. fd00::1/64 with the peer at fd00::2,
//     added with nodad (ip -6 addr add fd00::1/64 dev tun0 nodad, netlink
//     flag IFA_F_NODAD) so the address is usable at once: added otherwise,
//     even by ioctl on a NOARP tun, it stays tentative and bind fails with
//     EADDRNOTAVAIL until the kernel's DAD work has run. Expect router
//     solicitations and MLD reports on the tun, which the Peer counts as
//     ignored;
//   - listen on the socket-under-test address and port, then hand both, and
//     the peer's address and port, to Config.
//
// For TCP Fast Open the listener also needs setsockopt TCP_FASTOPEN (queue
// length) and net.ipv4.tcp_fastopen (it covers IPv6 too) with the server bit
// 0x2; add 0x200 to accept SYN data without a cookie. Setting
// net.ipv4.tcp_fastopen_key makes the cookies the kernel hands out
// repeatable. Both sysctls are per network namespace.
//
// The peer advertises no window scale, so its window is at most 65535 bytes
// and the kernel's windows in Seen are unscaled. Timestamps are off unless
// Config.Timestamps asks for them; the peer has no clock, so its TSval is a
// constant, which never trips PAWS.
package peer
