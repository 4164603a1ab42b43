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

/* It takes the cases' opt-in, so that the run gets as far as loading the
 * programs in the guest. */
SEC("cgroup/setsockopt")
int optin(struct bpf_sockopt *ctx)
{
	return 1;
}
