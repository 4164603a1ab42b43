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

struct sock {
	struct sock_common __sk_common;
	__u16 sk_protocol;
	int sk_rcvlowat;
} PRESERVE;

struct tcp_sock {
	__u32 rcv_nxt;
	__u32 copied_seq;
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
};

#endif
