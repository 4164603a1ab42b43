// SPDX-License-Identifier: GPL-2.0
/* An autolowat program with one defect, for the harness's own tests: after
 * a read (the RCVQ callback from recvmsg, no skb) it asks for one byte more
 * than the rule. A reader that reads a whole frame each time never sees the
 * difference; one that reads less than what is queued is left asleep with
 * a complete frame queued: the check no-stall must fail, and nothing of
 * the wake-ups on enqueue differs. Otherwise the port's tcp_autolowat.c.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "bpf_kfuncs.h"
#include "bpf_tracing_net.h"

char _license[] SEC("license") = "GPL";

#define SOL_BPF			0xdeadbeef
#define BPF_TCP_AUTOLOWAT	0x8badf00d
#define DESC_LEN		8
#define MAX_STEPS		64

struct autolowat {
	__u32 parsed;		/* next sequence number not parsed yet */
	__u32 frame_start;	/* seq of the frame being received */
	__u32 frame_end;	/* its end, once the descriptor is known */
	__u32 complete_end;	/* end of the last complete frame */
	__u8 desc[DESC_LEN];
	__u8 have;		/* descriptor bytes seen */
	__u8 started;
	__u8 any_complete;
	__u8 failed;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_CLONE);
	__type(key, int);
	__type(value, struct autolowat);
} autolowat_map SEC(".maps");

SEC("cgroup/setsockopt")
int autolowat_setsockopt(struct bpf_sockopt *ctx)
{
	struct bpf_sock *sk = ctx->sk;
	int flags = 0;

	if (ctx->level != (int)SOL_BPF || ctx->optname != (int)BPF_TCP_AUTOLOWAT)
		return 1;

	/* Consumed here: the kernel must not see the unknown level. */
	ctx->optlen = -1;

	if (!sk || !bpf_sk_storage_get(&autolowat_map, sk, 0,
				       BPF_SK_STORAGE_GET_F_CREATE))
		return 0;

	if (bpf_getsockopt(sk, SOL_TCP, TCP_BPF_SOCK_OPS_CB_FLAGS,
			   &flags, sizeof(flags)))
		return 0;

	flags |= BPF_SOCK_OPS_RCVQ_CB_FLAG;
	if (bpf_setsockopt(sk, SOL_TCP, TCP_BPF_SOCK_OPS_CB_FLAGS,
			   &flags, sizeof(flags)))
		return 0;

	return 1;
}

static __always_inline bool seq_before(__u32 a, __u32 b)
{
	return (__s32)(a - b) < 0;
}

/* Parse the skb's bytes [seq, seq + len) from st->parsed on. */
static __always_inline int parse(struct bpf_sock_ops *skops,
				 struct autolowat *st, __u32 seq, __u32 len)
{
	__u32 end = seq + len, n, i;
	__u8 b;

	for (i = 0; i < MAX_STEPS; i++) {
		if (!seq_before(st->parsed, end))
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

	return seq_before(st->parsed, end) ? -1 : 0;
}

static __always_inline int target(struct autolowat *st, __u32 copied)
{
	if (st->any_complete && seq_before(copied, st->complete_end))
		return st->complete_end - copied;

	if (st->have == DESC_LEN && seq_before(copied, st->frame_end))
		return st->frame_end - copied;

	/* A whole descriptor, however much of it was read already. */
	return DESC_LEN;
}

SEC("sockops")
int autolowat_sockops(struct bpf_sock_ops *skops)
{
	struct bpf_sock_ops_kern *kern;
	struct tcp_skb_cb cb = {};
	struct autolowat *st;
	struct bpf_sock *sk;
	struct tcp_sock *tp;
	struct sk_buff *skb;

	if (skops->op != BPF_SOCK_OPS_RCVQ_CB)
		return 1;

	sk = skops->sk;
	if (!sk)
		return 1;

	st = bpf_sk_storage_get(&autolowat_map, sk, 0, 0);
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
		if (parse(skops, st, cb.seq, BPF_CORE_READ(skb, len))) {
			st->failed = 1;
			bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags &
						  ~BPF_SOCK_OPS_RCVQ_CB_FLAG);
			bpf_sock_ops_tcp_set_rcvlowat(kern, 1);
			return 1;
		}
	}

	/* The defect: one byte too many after a read. */
	bpf_sock_ops_tcp_set_rcvlowat(kern, target(st, BPF_CORE_READ(tp, copied_seq)) + !skb);
	return 1;
}
