package kbuild

import (
	"os"
	"testing"
)

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestCountSteps(t *testing.T) {
	// Every kbuild step line of the transcript; not the make, warning
	// and "Kernel: ... is ready" lines. Compiled: its 25 CC and AS lines
	// but kernel/bounds.s and asm-offsets.s.
	if steps, compiled := countSteps(readTestdata(t, "kbuild-ok.log")); steps != 87 || compiled != 23 {
		t.Errorf("counted %d steps, %d compiled, want 87 and 23", steps, compiled)
	}
	if steps, compiled := countSteps(readTestdata(t, "gcc-error.log")); steps != 5 || compiled != 4 {
		t.Errorf("counted %d steps, %d compiled in the failed build, want 5 and 4", steps, compiled)
	}
	for _, tc := range []struct {
		line            string
		steps, compiled int
	}{
		{"  CC      init/main.o", 1, 1},
		{"  CC [M]  net/ipv6/af_inet6.o", 1, 1},
		{"  AS      arch/x86/entry/entry_64.o", 1, 1},
		{"  CC      kernel/bounds.s", 1, 0},
		{"  LD [M]  net/ipv6/ipv6.ko", 1, 0},
		{"  AR      net/ipv4/built-in.a", 1, 0},
		{"  HOSTCC  scripts/basic/fixdep", 1, 0},
		{"  BTF     .tmp_vmlinux1.btf.o", 1, 0},
		{"  742 |         int copied;", 0, 0},
		{"      |             ^~~~~~", 0, 0},
		{"CC      init/main.o", 0, 0}, // not indented
		{"  CCACHE  something", 0, 0},
		{"Kernel: arch/x86/boot/bzImage is ready", 0, 0},
	} {
		if steps, compiled := countSteps(tc.line); steps != tc.steps || compiled != tc.compiled {
			t.Errorf("%q counted %d steps, %d compiled, want %d and %d", tc.line, steps, compiled, tc.steps, tc.compiled)
		}
	}
}

func TestFirstError(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"gcc", readTestdata(t, "gcc-error.log"),
			"../../worktrees/3f2a9c1d0b7e/net/ipv4/tcp_input.c:5320:13: error: implicit declaration of function 'tcp_bpf_rcvlowat' [-Werror=implicit-function-declaration]"},
		{"ld", readTestdata(t, "ld-error.log"),
			"/root/.cache/harness/worktrees/3f2a9c1d0b7e/net/ipv4/tcp_input.c:6123: undefined reference to `tcp_bpf_rcvq_cb' (in function tcp_rcv_established)"},
		{"ok", readTestdata(t, "kbuild-ok.log"), ""},
		{"fatal", "  CC      init/main.o\ninit/main.c:12:10: fatal error: linux/nope.h: No such file or directory\ncompilation terminated.\n",
			"init/main.c:12:10: fatal error: linux/nope.h: No such file or directory"},
		{"assembler", "  AS      arch/x86/entry/entry_64.o\narch/x86/entry/entry_64.S:120: Error: no such instruction: `bogus'\n",
			"arch/x86/entry/entry_64.S:120: Error: no such instruction: `bogus'"},
		{"ld without debug info", "ld: net/ipv4/tcp.o: in function `tcp_recvmsg':\ntcp.c:(.text+0x1d2f): undefined reference to `missing'\n",
			"tcp.c:(.text+0x1d2f): undefined reference to `missing' (in function tcp_recvmsg)"},
		{"ld other", "  LD      .tmp_vmlinux1\n/usr/bin/ld: warning: orphan section\n/usr/bin/ld: section .data.rel.ro LMA [0x1000,0x2000] overlaps section .text\n",
			"/usr/bin/ld: section .data.rel.ro LMA [0x1000,0x2000] overlaps section .text"},
		{"cross ld", "x86_64-linux-gnu-ld: cannot find foo.o: No such file or directory\n",
			"x86_64-linux-gnu-ld: cannot find foo.o: No such file or directory"},
		{"modpost", "  MODPOST Module.symvers\nERROR: modpost: \"tcp_bpf_rcvq_cb\" [net/ipv4/tcp_bbr.ko] undefined!\nmake[2]: *** [scripts/Makefile.modpost:145: Module.symvers] Error 1\n",
			"ERROR: modpost: \"tcp_bpf_rcvq_cb\" [net/ipv4/tcp_bbr.ko] undefined!"},
		{"make only", "  BTF     .tmp_vmlinux1.btf.o\nmake[2]: *** [scripts/Makefile.vmlinux:34: vmlinux] Error 1\nmake: *** [Makefile:224: __sub-make] Error 2\n",
			"make[2]: *** [scripts/Makefile.vmlinux:34: vmlinux] Error 1"},
		{"gcc after other", "cc1: error: unrecognized command-line option '-mfoo'\ninit/main.c:3:1: error: expected ';'\n",
			"init/main.c:3:1: error: expected ';'"},
	} {
		if got := firstError(tc.text); got != tc.want {
			t.Errorf("%s: got\n%q\nwant\n%q", tc.name, got, tc.want)
		}
	}
}
