//go:build ignore

// SPDX-License-Identifier: GPL-2.0
/* Kernel side of the harness's traces: every reader wake-up the kernel
 * issues on a watched TCP socket (the kernel half of EPOLLIN), every
 * SO_RCVLOWAT set, and, on kernels with the RCVQ hook, every
 * BPF_SOCK_OPS_RCVQ_CB call with the enqueue path it came from.
 */
#include "harness.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

/* Socket cookies the agent asked to trace: only the reader's socket. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u64);
	__type(value, __u8);
} watched SEC(".maps");

/* Local ports the agent asked to trace: a listener's children are traced
 * from their first byte, before accept() gives the agent their cookie
 * (Fast Open queues SYN data then). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u16);
	__type(value, __u8);
} watched_ports SEC(".maps");

/* Which enqueue function a socket is inside, keyed by the socket's address;
 * the socket is locked for the whole call, so the mark is exact. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, __u32);
} inside SEC(".maps");

/* Puts struct kevent into BTF so that bpf2go generates its Go twin. */
const struct kevent *unused_kevent __attribute__((unused));

/* Events the ring buffer had no room for; the agent reports them. */
__u64 lost = 0;

static __always_inline __u64 watched_cookie(struct sock *sk)
{
	__u64 cookie;

	if (!sk || sk->sk_protocol != IPPROTO_TCP)
		return 0;
	cookie = bpf_get_socket_cookie(sk);
	if (!bpf_map_lookup_elem(&watched, &cookie)) {
		__u16 port = BPF_CORE_READ(sk, __sk_common.skc_num);

		if (!bpf_map_lookup_elem(&watched_ports, &port))
			return 0;
	}
	return cookie;
}

static __always_inline void emit(struct sock *sk, __u64 cookie, __u32 kind,
				 __s32 lowat, __u32 seq, __u32 len, __u32 path)
{
	struct tcp_sock *tp = (struct tcp_sock *)sk;
	struct kevent *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&lost, 1);
		return;
	}
	e->t_ns = bpf_ktime_get_ns();
	e->cookie = cookie;
	e->kind = kind;
	e->queued = BPF_CORE_READ(tp, rcv_nxt) - BPF_CORE_READ(tp, copied_seq);
	e->lowat = lowat;
	e->seq = seq;
	e->len = len;
	e->path = path;
	e->rmem_alloc = BPF_CORE_READ(sk, sk_backlog.rmem_alloc.counter);
	e->rcvbuf = BPF_CORE_READ(sk, sk_rcvbuf);
	e->window = BPF_CORE_READ(tp, rcv_wup) + BPF_CORE_READ(tp, rcv_wnd) - BPF_CORE_READ(tp, rcv_nxt);
	e->rcv_mss = BPF_CORE_READ(tp, inet_conn.icsk_ack.rcv_mss);
	e->shutdown = BPF_CORE_READ(sk, sk_shutdown);
	bpf_ringbuf_submit(e, 0);
}

SEC("fentry/sock_def_readable")
int BPF_PROG(trace_wake, struct sock *sk)
{
	__u64 cookie = watched_cookie(sk);

	if (cookie)
		emit(sk, cookie, KEVENT_WAKE, BPF_CORE_READ(sk, sk_rcvlowat), 0, 0, 0);
	return 0;
}

/* The other ways a reader is woken: the peer's FIN or RST changes the
 * socket's state (sock_def_wakeup), a reset reports an error
 * (sock_def_error_report). Path PATH_STATE tells them from data. */
SEC("fentry/sock_def_wakeup")
int BPF_PROG(trace_state, struct sock *sk)
{
	__u64 cookie = watched_cookie(sk);

	if (cookie)
		emit(sk, cookie, KEVENT_WAKE, BPF_CORE_READ(sk, sk_rcvlowat), 0, 0, PATH_STATE);
	return 0;
}

SEC("fentry/sock_def_error_report")
int BPF_PROG(trace_error, struct sock *sk)
{
	__u64 cookie = watched_cookie(sk);

	if (cookie)
		emit(sk, cookie, KEVENT_WAKE, BPF_CORE_READ(sk, sk_rcvlowat), 0, 0, PATH_STATE);
	return 0;
}

SEC("fentry/tcp_set_rcvlowat")
int BPF_PROG(trace_setlowat, struct sock *sk, int val)
{
	__u64 cookie = watched_cookie(sk);

	if (cookie)
		emit(sk, cookie, KEVENT_LOWAT, val, 0, 0, 0);
	return 0;
}

static __always_inline void mark(struct sock *sk, __u32 path)
{
	__u64 key = (__u64)sk;

	bpf_map_update_elem(&inside, &key, &path, BPF_ANY);
}

static __always_inline void unmark(struct sock *sk)
{
	__u64 key = (__u64)sk;

	bpf_map_delete_elem(&inside, &key);
}

/* The programs below attach only where the kernel has the function. */

SEC("fentry/tcp_ofo_queue")
int BPF_PROG(enter_ofo, struct sock *sk)
{
	mark(sk, PATH_OFO);
	return 0;
}

SEC("fexit/tcp_ofo_queue")
int BPF_PROG(leave_ofo, struct sock *sk)
{
	unmark(sk);
	return 0;
}

SEC("fentry/tcp_fastopen_add_skb")
int BPF_PROG(enter_fastopen, struct sock *sk)
{
	mark(sk, PATH_FASTOPEN);
	return 0;
}

SEC("fexit/tcp_fastopen_add_skb")
int BPF_PROG(leave_fastopen, struct sock *sk)
{
	unmark(sk);
	return 0;
}

/* BPF_SOCK_OPS_RCVQ_CB's value in the running kernel, set by the agent
 * from its BTF; the tracer traces RCVQ callbacks only where it is set. */
const volatile __u32 rcvq_op = 0;

/* Every RCVQ callback runs the cgroup's SOCK_OPS programs through
 * __cgroup_bpf_run_filter_sock_ops(). The series' own entry,
 * bpf_skops_rcvlowat(), is not where to trace it: it is small enough for
 * gcc to inline into its callers in tcp_input.c (7.3 does), which leaves
 * only the out-of-line calls from tcp.c and tcp_fastopen.c traceable. At
 * the exit the program has run, so sk_rcvlowat is its decision. */
SEC("fexit/__cgroup_bpf_run_filter_sock_ops")
int BPF_PROG(trace_rcvq, struct sock *sk, struct bpf_sock_ops_kern *skops, int atype, int ret)
{
	__u64 key = (__u64)sk;
	struct tcp_skb_cb cb = {};
	__u32 path = PATH_RECVMSG, len = 0, *in;
	struct sk_buff *skb;
	__u64 cookie;

	if (!rcvq_op || BPF_CORE_READ(skops, op) != rcvq_op)
		return 0;
	cookie = watched_cookie(sk);
	if (!cookie)
		return 0;
	skb = BPF_CORE_READ(skops, skb);
	if (skb) {
		bpf_core_read(&cb, sizeof(cb), &skb->cb);
		len = BPF_CORE_READ(skb, len);
		in = bpf_map_lookup_elem(&inside, &key);
		path = in ? *in : PATH_IN_ORDER;
	}
	emit(sk, cookie, KEVENT_RCVQ, BPF_CORE_READ(sk, sk_rcvlowat), cb.seq, len, path);
	return 0;
}
