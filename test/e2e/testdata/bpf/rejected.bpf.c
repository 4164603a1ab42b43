// SPDX-License-Identifier: GPL-2.0
/* A sockops program the verifier must refuse: skops->sk may be NULL and
 * is read without a check. The harness must show the verifier's log. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char _license[] SEC("license") = "GPL";

SEC("sockops")
int rejected(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;

	return sk->family == 2;
}
