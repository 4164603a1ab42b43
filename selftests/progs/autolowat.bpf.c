//go:build ignore

// SPDX-License-Identifier: GPL-2.0
/* Autolowat: set sk_rcvlowat so that the reader is woken once per whole
 * RPC frame, using the series' BPF_SOCK_OPS_RCVQ_CB hook.
 *
 * Wire format: an 8-byte descriptor {u32 header_len; u32 payload_len} in
 * host byte order, then header_len + payload_len bytes. Opt-in per socket
 * with setsockopt(fd, 0xdeadbeef, 0x8badf00d, &one, 4).
 *
 * Rule, the series' (its selftest program's): with complete frames unread,
 * rcvlowat covers them all; otherwise it covers the frame being received if
 * its descriptor is known, else a whole descriptor (8 bytes, however much of
 * it was read); on a parse error the hook is turned off and rcvlowat is 1.
 *
 * The op and flag values come from the loader (read from the kernel's BTF),
 * because the uapi enum that holds them is anonymous and newer than the
 * headers this builds against. The kfunc is weak so that the object still
 * loads where the kernel lacks it; the loader only attaches it where the
 * feature probe found the hook.
 */
#include "harness.h"

char LICENSE[] SEC("license") = "GPL";

#define SOL_BPF 0xdeadbeef
#define BPF_TCP_AUTOLOWAT 0x8badf00d
#define DESC_LEN 8
/* Bytes parsed per callback; an skb holds at most 64 KiB, frames are far
 * fewer than this many per skb in every scenario. */
#define MAX_STEPS 64

const volatile __u32 rcvq_op = 0;
const volatile __u32 rcvq_flag = 0;

/* libbpf 1.1 (Debian 12) predates bpf_ksym_exists(). */
#ifndef bpf_ksym_exists
#define bpf_ksym_exists(sym) (!!(sym))
#endif

extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;
extern int bpf_sock_ops_tcp_set_rcvlowat(struct bpf_sock_ops_kern *skops, int val) __ksym __weak;

struct state {
	__u32 parsed;       /* next stream byte not yet parsed (seq) */
	__u32 frame_start;  /* seq of the frame being received */
	__u32 frame_end;    /* its end, once the descriptor is known */
	__u32 complete_end; /* end of the last complete frame */
	__u8 desc[DESC_LEN];
	__u8 have;          /* descriptor bytes seen */
	__u8 started;       /* parsed/frame_start are set */
	__u8 any_complete;
	__u8 failed;
};

/* CLONE: a listener's opt-in carries to its children, which Fast Open
 * needs: SYN data is queued before accept() returns. The end-to-end tests
 * build it without (-DAUTOLOWAT_NO_CLONE), as the series' own program is,
 * to prove that every other case opts in on the accepted socket. */
#ifdef AUTOLOWAT_NO_CLONE
#define STATE_FLAGS BPF_F_NO_PREALLOC
#else
#define STATE_FLAGS (BPF_F_NO_PREALLOC | BPF_F_CLONE)
#endif

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, STATE_FLAGS);
	__type(key, int);
	__type(value, struct state);
} states SEC(".maps");

SEC("cgroup/setsockopt")
int autolowat_optin(struct bpf_sockopt *ctx)
{
	struct bpf_sock *sk = ctx->sk;
	struct state *st;
	int flags = 0;

	if (ctx->level != (int)SOL_BPF || ctx->optname != (int)BPF_TCP_AUTOLOWAT)
		return 1;
	/* Consumed here: the kernel must not see an unknown level. */
	ctx->optlen = -1;
	if (!sk || !rcvq_flag)
		return 0;
	st = bpf_sk_storage_get(&states, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!st)
		return 0;
	if (bpf_getsockopt(sk, SOL_TCP, TCP_BPF_SOCK_OPS_CB_FLAGS, &flags, sizeof(flags)))
		return 0;
	flags |= rcvq_flag;
	if (bpf_setsockopt(sk, SOL_TCP, TCP_BPF_SOCK_OPS_CB_FLAGS, &flags, sizeof(flags)))
		return 0;
	return 1;
}

static __always_inline int before(__u32 a, __u32 b) { return (__s32)(a - b) < 0; }

/* parse consumes the bytes of one skb [seq, seq+len) from st->parsed on. */
static __always_inline int parse(struct bpf_sock_ops *skops, struct state *st,
				 __u32 seq, __u32 len)
{
	__u32 end = seq + len, n, i;
	__u8 b;

	for (i = 0; i < MAX_STEPS; i++) {
		if (!before(st->parsed, end))
			return 0;
		if (st->have < DESC_LEN) {
			if (bpf_skb_load_bytes(skops, st->parsed - seq, &b, 1))
				return -1;
			st->desc[st->have & (DESC_LEN - 1)] = b;
			st->have++;
			st->parsed++;
			if (st->have == DESC_LEN) {
				__u32 hdr = *(__u32 *)&st->desc[0];
				__u32 pay = *(__u32 *)&st->desc[4];

				if (hdr > (1 << 20) || pay > (1 << 20))
					return -1;
				st->frame_end = st->frame_start + DESC_LEN + hdr + pay;
			}
			continue;
		}
		n = end - st->parsed;
		if (st->frame_end - st->parsed < n)
			n = st->frame_end - st->parsed;
		st->parsed += n;
		if (st->parsed == st->frame_end) {
			st->complete_end = st->frame_end;
			st->any_complete = 1;
			st->frame_start = st->frame_end;
			st->have = 0;
		}
	}
	/* More descriptor bytes than steps: give up rather than guess. */
	return before(st->parsed, end) ? -1 : 0;
}

/* target is the series' rule, as its own tcp_autolowat program has it. */
static __always_inline int target(struct state *st, __u32 copied)
{
	if (st->any_complete && before(copied, st->complete_end))
		return st->complete_end - copied;
	if (st->have == DESC_LEN && before(copied, st->frame_end))
		return st->frame_end - copied;
	/* A whole descriptor, even when the reader took part of it. */
	return DESC_LEN;
}

SEC("sockops")
int autolowat(struct bpf_sock_ops *skops)
{
	struct bpf_sock_ops_kern *kern;
	struct tcp_skb_cb cb = {};
	struct bpf_sock *sk;
	struct tcp_sock *tp;
	struct sk_buff *skb;
	struct state *st;
	__u32 copied;
	int lowat;

	if (!rcvq_op || skops->op != rcvq_op)
		return 1;
	sk = skops->sk;
	if (!sk)
		return 1;
	st = bpf_sk_storage_get(&states, sk, 0, 0);
	if (!st || st->failed)
		return 1;
	tp = bpf_skc_to_tcp_sock(sk);
	if (!tp)
		return 1;
	kern = bpf_cast_to_kern_ctx(skops);
	if (!st->started) {
		st->parsed = skops->rcv_nxt;
		st->frame_start = skops->rcv_nxt;
		st->started = 1;
	}
	skb = kern->skb;
	if (skb) {
		bpf_core_read(&cb, sizeof(cb), &skb->cb);
		if (parse(skops, st, cb.seq, BPF_CORE_READ(skb, len)))
			st->failed = 1;
	}
	if (st->failed || !bpf_ksym_exists(bpf_sock_ops_tcp_set_rcvlowat)) {
		/* Stop parsing this socket and let every byte wake the reader. */
		st->failed = 1;
		bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags & ~rcvq_flag);
		if (bpf_ksym_exists(bpf_sock_ops_tcp_set_rcvlowat))
			bpf_sock_ops_tcp_set_rcvlowat(kern, 1);
		return 1;
	}
	copied = BPF_CORE_READ(tp, copied_seq);
	lowat = target(st, copied);
	bpf_sock_ops_tcp_set_rcvlowat(kern, lowat);
	return 1;
}
