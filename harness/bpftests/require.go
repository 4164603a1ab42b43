// Package bpftests builds the kernel tree's own BPF selftests runner,
// test_progs (tools/testing/selftests/bpf), against the kernel a run
// boots, and gathers what the guest needs to run it.
package bpftests

import (
	"context"

	"github.com/kernel-harness/harness/harness/require"
)

// Requirements of Linux 6.12's and 7.3's tools/testing/selftests/bpf for
// test_progs. bpftool is not among them: the Makefile builds its own
// from the tree (tools/bpf/bpftool), as it does libbpf and
// resolve_btfids.
var Requirements = []require.Tool{
	{Name: "make", Package: "make", Why: "the selftests' Makefile"},
	{Name: "gcc", Package: "gcc", Why: "test_progs, libbpf and bpftool are C"},
	{Name: "clang", Package: "clang-19", Min: MinClang, VersionArgs: []string{"--version"}, VersionRe: require.ClangVersion,
		Why: "the BPF programs of progs/", Alternatives: clangNames[1:]},
	{Name: "pahole", Package: "pahole", Min: []int{1, 16}, VersionArgs: []string{"--version"}, VersionRe: require.PaholeVersion,
		Why: "the kernel's BTF (CONFIG_DEBUG_INFO_BTF), which the tests' vmlinux.h is made from"},
	{Name: "rsync", Package: "rsync", Why: "the Makefile copies headers and files with it"},
	{Name: "python3", Package: "python3", Why: "scripts/bpf_doc.py writes bpf_helper_defs.h"},
	{Name: "gelf.h", Header: true, Package: "libelf-dev", Why: "libbpf and test_progs use libelf"},
	{Name: "zlib.h", Header: true, Package: "zlib1g-dev", Why: "libbpf and test_progs use zlib"},
}

// MinClang is the lowest clang that compiles every program test_progs
// embeds in Linux 6.12, measured with Debian 12's clang 14 and 16 against
// the 6.12 tree (README.rst there names only clang 14, for BTF type tags):
// clang 14's BPF assembler refuses "w1 %= 2" (verifier_and, _div0,
// _div_overflow, _subreg), it warns rcu_read_lock.c into an error, and
// it leaves memcmp an extern bpftool cannot link (connect_unix_prog,
// sendmsg_unix_prog, test_assign_reuse); clang 16 builds all of those,
// but verifier_bounds.c has unguarded cpu v4 asm ("w6 = (s8)w0"), which
// LLVM 18 brought.
var MinClang = []int{18, 0}

// clangNames are tried in order: the default clang, then versioned ones
// (Debian's clang-NN, apt.llvm.org's), newest first.
var clangNames = []string{"clang", "clang-22", "clang-21", "clang-20", "clang-19", "clang-18"}

// Clang is the clang the selftests are built with.
func Clang(ctx context.Context) (string, error) {
	for _, t := range Requirements {
		if t.Name == "clang" {
			return require.Find(ctx, t)
		}
	}
	return "clang", nil
}
