/* Minimal kernel types for the harness's BPF programs.
 *
 * Declared here with CO-RE relocations instead of a generated vmlinux.h so
 * that `make bpf` gives the same objects on every machine; the loader
 * fixes field offsets against the running kernel's BTF.
 */
#ifndef HARNESS_H
#define HARNESS_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define PRESERVE __attribute__((preserve_access_index))

struct sock_common {
	unsigned short skc_family;
	__u16 skc_num; /* local port, host order */
} PRESERVE;

typedef struct {
	int counter;
} atomic_t;

struct sock {
	struct sock_common __sk_common;
	__u16 sk_protocol;
	int sk_rcvlowat;
	int sk_rcvbuf;
	__u8 sk_shutdown;
	struct {
		atomic_t rmem_alloc; /* sk_rmem_alloc */
	} sk_backlog;
} PRESERVE;

struct inet_connection_sock {
	struct {
		__u16 rcv_mss;
	} icsk_ack;
} PRESERVE;

struct tcp_sock {
	struct inet_connection_sock inet_conn;
	__u32 rcv_nxt;
	__u32 copied_seq;
	__u32 rcv_wup;
	__u32 rcv_wnd;
} PRESERVE;

struct sk_buff {
	unsigned int len;
	char cb[48];
} PRESERVE;

/* TCP_SKB_CB(skb): the first two words of skb->cb. */
struct tcp_skb_cb {
	__u32 seq;
	__u32 end_seq;
};

struct bpf_sock_ops_kern {
	struct sock *sk;
	__u8 op;
	struct sk_buff *skb;
} PRESERVE;

#ifndef IPPROTO_TCP
#define IPPROTO_TCP 6
#endif
#ifndef SOL_TCP
#define SOL_TCP 6
#endif
/* Not in the uapi headers of Debian 12; the value is stable uapi. */
#ifndef TCP_BPF_SOCK_OPS_CB_FLAGS
#define TCP_BPF_SOCK_OPS_CB_FLAGS 1008
#endif

/* Kernel-side trace record, read by harness/guest from the ring buffer.
 * Keep in step with kernelEvent in harness/guest/tracer.go. */
enum kevent_kind {
	KEVENT_WAKE = 1,   /* sock_def_readable: readers woken */
	KEVENT_LOWAT = 2,  /* tcp_set_rcvlowat: SO_RCVLOWAT from user space */
	KEVENT_RCVQ = 3,   /* BPF_SOCK_OPS_RCVQ_CB call, lowat after it */
};

enum kevent_path {
	PATH_UNKNOWN = 0,
	PATH_IN_ORDER = 1,
	PATH_OFO = 2,
	PATH_FASTOPEN = 3,
	PATH_RECVMSG = 4,
	PATH_STATE = 5, /* a wake-up by a change of state: FIN, RST */
};

struct kevent {
	__u64 t_ns;
	__u64 cookie;
	__u32 kind;
	__u32 queued; /* rcv_nxt - copied_seq */
	__s32 lowat;
	__u32 seq;
	__u32 len;
	__u32 path;
	/* What tcp_epollin_ready() weighs besides rcvlowat, at a wake-up:
	 * sk_rmem_alloc against sk_rcvbuf (memory pressure), the receive
	 * window left against the MSS, and sk_shutdown (the peer closed). */
	__u32 rmem_alloc;
	__s32 rcvbuf;
	__s32 window; /* rcv_wup + rcv_wnd - rcv_nxt */
	__u32 rcv_mss;
	__u32 shutdown;
};

#endif
