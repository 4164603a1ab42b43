package kbuild

import "github.com/kernel-harness/harness/harness/require"

// Requirements of a kernel build with the harness's profiles, checked
// before a worktree is made: without pahole, for one, Kconfig drops
// CONFIG_DEBUG_INFO_BTF and the build would stop only after configuring,
// with words about the config rather than the missing tool.
var Requirements = []require.Tool{
	{Name: "git", Package: "git", Why: "the series is applied in a git worktree"},
	{Name: "make", Package: "make", Why: "kbuild"},
	{Name: "gcc", Package: "gcc", Why: "the kernel is C"},
	{Name: "flex", Package: "flex", Why: "Kconfig's lexer"},
	{Name: "bison", Package: "bison", Why: "Kconfig's parser"},
	{Name: "bc", Package: "bc", Why: "kernel/time's generated headers"},
	{Name: "pahole", Package: "pahole", Min: []int{1, 16}, VersionArgs: []string{"--version"}, VersionRe: require.PaholeVersion,
		Why: "CONFIG_DEBUG_INFO_BTF, the BTF every harness kernel needs"},
	{Name: "gelf.h", Header: true, Package: "libelf-dev", Why: "objtool and resolve_btfids use libelf"},
	{Name: "openssl/opensslv.h", Header: true, Package: "libssl-dev", Why: "scripts/sign-file and certificates"},
}
