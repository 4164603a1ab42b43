package kbuild

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func writeFile(t *testing.T, path, text string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestParseFragment(t *testing.T) {
	f, err := ParseFragment("testdata/want.config")
	if err != nil {
		t.Fatal(err)
	}
	if f.Path != "testdata/want.config" || len(f.Items) != 25 {
		t.Errorf("got %s with %d items, want testdata/want.config with 25", f.Path, len(f.Items))
	}
	for name, want := range map[string]string{
		"CONFIG_NET":              "y",
		"CONFIG_INET":             "m",
		"CONFIG_BITREVERSE":       "n", // "# CONFIG_BITREVERSE is not set"
		"CONFIG_DEBUG_INFO_SPLIT": "n",
		"CONFIG_PAHOLE_VERSION":   "0x74",
		"CONFIG_CMDLINE":          `"console=ttyS0"`,
	} {
		if got := f.Items[name]; got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if _, ok := f.Items["CONFIG_X"]; ok {
		t.Error("a comment was read as an option")
	}
}

func TestParseFragmentMalformed(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ text, want string }{
		{"CONFIG_A=y\n\n  CONFIG_B = y\n", "bad.config:3: "},
		{"# comment\nCONFIG_A=yes\n", `bad.config:2: CONFIG_A: bad value "yes"`},
		{"CONFIG_A=\"unterminated\n", "bad.config:1: "},
		{"NET=y\n", "bad.config:1: "},
		{"CONFIG_A=y # trailing comment\n", "bad.config:1: "},
	} {
		p := writeFile(t, filepath.Join(dir, "bad.config"), tc.text)
		_, err := ParseFragment(p)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got error %v, want one containing %q", tc.text, err, tc.want)
		}
	}
	if _, err := ParseFragment(filepath.Join(dir, "missing.config")); err == nil {
		t.Error("a missing fragment parsed")
	}
}

func TestParseFragmentValues(t *testing.T) {
	p := writeFile(t, filepath.Join(t.TempDir(), "v.config"),
		"# CONFIG_A is not set\nCONFIG_B=\"say \\\"hi\\\"\"\nCONFIG_C=-1\nCONFIG_D=n\n   \n#CONFIG_E=y\n")
	f, err := ParseFragment(p)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"CONFIG_A": "n", "CONFIG_B": `"say \"hi\""`, "CONFIG_C": "-1", "CONFIG_D": "n"}
	if !reflect.DeepEqual(f.Items, want) {
		t.Errorf("got %v, want %v", f.Items, want)
	}
}

func TestItemsFragment(t *testing.T) {
	f, err := itemsFragment([]string{"CONFIG_A=y", "CONFIG_B=m", " CONFIG_C=\"x\" "})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"CONFIG_A": "y", "CONFIG_B": "m", "CONFIG_C": `"x"`}
	if f.Path != ItemsPath || !reflect.DeepEqual(f.Items, want) {
		t.Errorf("got %+v", f)
	}
	for _, bad := range []string{"CONFIG_A", "CONFIG_A=maybe", "", "# CONFIG_A is not set"} {
		if _, err := itemsFragment([]string{bad}); err == nil {
			t.Errorf("%q was taken", bad)
		}
	}
	// Without CONFIG_ it is refused, naming what to write.
	if _, err := itemsFragment([]string{"FOO=y"}); err == nil || !strings.Contains(err.Error(), "write CONFIG_FOO=y") {
		t.Errorf("FOO=y: %v", err)
	}
}

func TestCheckInputs(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.config")
	os.WriteFile(good, []byte("CONFIG_A=y\n# CONFIG_B is not set\n"), 0o644)
	bad := filepath.Join(dir, "bad.config")
	os.WriteFile(bad, []byte("CONFIG_A=maybe\n"), 0o644)
	if err := CheckInputs([]string{good}, []string{"CONFIG_X=y"}); err != nil {
		t.Error(err)
	}
	for _, tt := range []struct {
		configs, items []string
		want           string
	}{
		{[]string{filepath.Join(dir, "none.config")}, nil, "no such file"},
		{[]string{"/dev/zero"}, nil, "not a regular file"},
		{[]string{bad}, nil, bad + ":1"},
		{nil, []string{"FOO=y"}, "write CONFIG_FOO=y"},
		{nil, []string{"CONFIG_FOO"}, "want CONFIG_X=y"},
	} {
		if err := CheckInputs(tt.configs, tt.items); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v %v: %v, want %q", tt.configs, tt.items, err, tt.want)
		}
	}
}

func TestCheck(t *testing.T) {
	want, err := ParseFragment("testdata/want.config")
	if err != nil {
		t.Fatal(err)
	}
	// A later fragment wins: TTY is not set, as asked last.
	items := Fragment{Path: ItemsPath, Items: map[string]string{"CONFIG_TTY": "n"}}
	got := Check("testdata/dotconfig", []Fragment{want, items}, "testdata/kconfig")

	const frag = "testdata/want.config"
	v := func(option, want, got, reason string) Vanished {
		return Vanished{Option: option, Want: want, Got: got, Fragment: frag, Reason: reason}
	}
	expect := []Vanished{
		v("CONFIG_ARM_ONLY", "y", "n", "not defined in this tree's Kconfig (renamed or removed?)"),
		v("CONFIG_BITREVERSE", "n", "y", "selected by CRC32"),
		v("CONFIG_CMDLINE", `"console=ttyS0"`, `""`, ""),
		v("CONFIG_DEBUG_INFO_BTF", "y", "n", "depends on DEBUG_INFO && !DEBUG_INFO_SPLIT: DEBUG_INFO is not set"),
		v("CONFIG_DEBUG_INFO_DWARF4", "y", "n", "depends on DEBUG_KERNEL: DEBUG_KERNEL is not set"),
		v("CONFIG_GONE_OPTION", "y", "n", "not defined in this tree's Kconfig (renamed or removed?)"),
		v("CONFIG_INET", "m", "y", "a bool option: it cannot be m"),
		v("CONFIG_KVM_GUEST", "y", "n", "depends on PARAVIRT && HYPERVISOR_GUEST: PARAVIRT is not set, HYPERVISOR_GUEST is not set"),
		v("CONFIG_LIBCRC_SELFTEST", "y", "n", "no prompt; only selected by other options"),
		v("CONFIG_NET_LEGACY", "n", "y", ""),
		v("CONFIG_NET_PKTGEN", "m", "n", "depends on INET && PROC_FS && NET && !NET_LEGACY: PROC_FS is not set, NET_LEGACY=y"),
		v("CONFIG_ONLY_IN_KCONFIG_TESTS", "y", "n", "not defined in this tree's Kconfig (renamed or removed?)"),
		v("CONFIG_PAHOLE_HAS_BTF_TAG", "y", "n", "no prompt; def_bool PAHOLE_VERSION >= 123: PAHOLE_VERSION=116"),
		v("CONFIG_PARAVIRT_CLOCK", "y", "n", "no prompt; only selected by other options (KVM_GUEST)"),
		v("CONFIG_SMP", "y", "n", "depends on X86_LOCAL_APIC_OK: X86_LOCAL_APIC_OK is not set"),
		v("CONFIG_TCP_CONG_X", "y", "n", "depends on INET && (IPV6 || IPV6_DISABLED_OK) && !(NET_LEGACY || NET_SCHED_OLD): NET_LEGACY=y"),
		v("CONFIG_TUN", "y", "m", "depends on IPV6: IPV6=m"),
		v("CONFIG_VIRTIO", "y", "n", "no prompt; only selected by other options (VIRTIO_PCI, VIRTIO_MMIO)"),
		v("CONFIG_VIRTIO_CONSOLE", "y", "n", "depends on (TTY || (VIRTIO && HVC_DRIVER)) && VIRTIO_MENU: TTY is not set, VIRTIO is not set, HVC_DRIVER is not set, VIRTIO_MENU is not set"),
		v("CONFIG_VIRTIO_PCI", "y", "n", "depends on VIRTIO_MENU: VIRTIO_MENU is not set"),
	}
	if len(got) != len(expect) {
		t.Errorf("got %d vanished, want %d", len(got), len(expect))
	}
	for i := 0; i < max(len(got), len(expect)); i++ {
		switch {
		case i >= len(got):
			t.Errorf("missing %+v", expect[i])
		case i >= len(expect):
			t.Errorf("unexpected %+v", got[i])
		case got[i] != expect[i]:
			t.Errorf("got  %+v\nwant %+v", got[i], expect[i])
		}
	}
}

func TestCheckReasons(t *testing.T) {
	k := indexKconfig("testdata/kconfig")
	index := func() *kconfig { return k }
	for _, tc := range []struct {
		name   string
		vals   values
		item   string
		want   string
		reason string
	}{
		{"modules off", values{"CONFIG_NET": "y", "CONFIG_INET": "y", "CONFIG_IPV6": "y"}, "CONFIG_IPV6", "m", "MODULES is not set: nothing can be m"},
		{"promptless on by default", values{"CONFIG_PAHOLE_HAS_BTF_TAG": "y"}, "CONFIG_PAHOLE_HAS_BTF_TAG", "n", "no prompt; it cannot be turned off"},
		{"deps met, still m", values{"CONFIG_MODULES": "y", "CONFIG_NET": "y", "CONFIG_INET": "y", "CONFIG_IPV6": "y", "CONFIG_TUN": "m"}, "CONFIG_TUN", "y", ""},
		{"m is n without modules", values{"CONFIG_NET": "y", "CONFIG_INET": "y", "CONFIG_IPV6": "m"}, "CONFIG_TUN", "y", "depends on IPV6: IPV6=m"},
		{"comparison", values{"CONFIG_DEBUG_INFO": "y", "CONFIG_BPF_SYSCALL": "y", "CONFIG_PAHOLE_VERSION": "115"}, "CONFIG_DEBUG_INFO_BTF", "y", "depends on PAHOLE_VERSION >= 116: PAHOLE_VERSION=115"},
		{"comparison, unset", values{"CONFIG_DEBUG_INFO": "y", "CONFIG_BPF_SYSCALL": "y"}, "CONFIG_DEBUG_INFO_BTF", "y", "depends on PAHOLE_VERSION >= 116: PAHOLE_VERSION is not set"},
		{"negation", values{"CONFIG_DEBUG_INFO": "y", "CONFIG_DEBUG_INFO_SPLIT": "y", "CONFIG_BPF_SYSCALL": "y", "CONFIG_PAHOLE_VERSION": "125"}, "CONFIG_DEBUG_INFO_BTF", "y", "depends on DEBUG_INFO && !DEBUG_INFO_SPLIT: DEBUG_INFO_SPLIT=y"},
		{"prompt if", values{}, "CONFIG_TTY", "y", "depends on EXPERT: EXPERT is not set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			frag := Fragment{Path: "f", Items: map[string]string{tc.item: tc.want}}
			got := check(tc.vals, []Fragment{frag}, index)
			if len(got) != 1 {
				t.Fatalf("got %+v, want one vanished", got)
			}
			if got[0].Reason != tc.reason {
				t.Errorf("reason %q, want %q", got[0].Reason, tc.reason)
			}
		})
	}
}

func TestCheckWithoutKconfig(t *testing.T) {
	frag := Fragment{Path: "f", Items: map[string]string{"CONFIG_DEBUG_INFO_BTF": "y", "CONFIG_NET": "y", "CONFIG_SMP": "n"}}
	// No Kconfig files: no reason rather than "not defined".
	got := Check("testdata/dotconfig", []Fragment{frag}, t.TempDir())
	want := []Vanished{{Option: "CONFIG_DEBUG_INFO_BTF", Want: "y", Got: "n", Fragment: "f"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	// No .config: everything but n vanished.
	got = Check("testdata/missing", []Fragment{frag}, "testdata/kconfig")
	if len(got) != 2 || got[0].Option != "CONFIG_DEBUG_INFO_BTF" || got[1].Option != "CONFIG_NET" ||
		got[0].Reason != "cannot read testdata/missing" {
		t.Errorf("got %+v", got)
	}
}

func TestIndexKconfig(t *testing.T) {
	k := indexKconfig("testdata/kconfig")
	if k.files != 6 {
		t.Errorf("read %d files, want 6 (not arch/arm, not scripts/kconfig/tests)", k.files)
	}
	for _, name := range []string{"HELP_TEXT_OPTION", "NOT_THIS", "ARM_ONLY", "ONLY_IN_KCONFIG_TESTS"} {
		if _, ok := k.defs[name]; ok {
			t.Errorf("%s is indexed", name)
		}
	}
	pci := k.defs["VIRTIO_PCI"]
	if len(pci) != 1 || !reflect.DeepEqual(pci[0].deps, []string{"PCI"}) || !reflect.DeepEqual(pci[0].outer, []string{"VIRTIO_MENU"}) ||
		pci[0].typ != "tristate" || !pci[0].prompt || pci[0].file != "drivers/virtio/Kconfig" || pci[0].line != 15 {
		t.Errorf("VIRTIO_PCI: %+v", pci)
	}
	smp := k.defs["SMP"]
	if len(smp) != 1 || smp[0].file != "arch/x86/Kconfig" {
		t.Errorf("SMP: %+v", smp)
	}
	if dwarf := k.defs["DEBUG_INFO_DWARF4"]; len(dwarf) != 1 || !reflect.DeepEqual(dwarf[0].outer, []string{"DEBUG_KERNEL"}) {
		t.Errorf("DEBUG_INFO_DWARF4: %+v", dwarf)
	}
	if got := k.selectors["VIRTIO"]; !reflect.DeepEqual(got, []string{"VIRTIO_PCI", "VIRTIO_MMIO"}) {
		t.Errorf("VIRTIO selected by %v", got)
	}
}

func TestExpr(t *testing.T) {
	vals := values{"CONFIG_A": "y", "CONFIG_M": "m", "CONFIG_MODULES": "y", "CONFIG_S": `"abc"`, "CONFIG_V": "0x20"}
	for _, tc := range []struct {
		expr string
		want int
	}{
		{"A", 2}, {"B", 0}, {"M", 1}, {"!M", 1}, {"!B", 2}, {"A && M", 1}, {"A || B", 2},
		{"!(A && B) && (M || B)", 1}, {"A = y", 2}, {"M != m", 0}, {`S = "abc"`, 2}, {`S != "abd"`, 2},
		{"V >= 32", 2}, {"V < 0x10", 0}, {"y", 2}, {"n || m", 1}, {"B = n", 2},
	} {
		n := parseExpr(tc.expr)
		if n == nil {
			t.Errorf("%q did not parse", tc.expr)
			continue
		}
		if got := vals.eval(n); got != tc.want {
			t.Errorf("%q = %d, want %d", tc.expr, got, tc.want)
		}
	}
	for _, bad := range []string{"", "A &&", "(A", "A & B", "A )", "$(cc-option,-g)", "!"} {
		if parseExpr(bad) != nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestVanishedError(t *testing.T) {
	err := &VanishedError{Options: []Vanished{
		{Option: "CONFIG_DEBUG_INFO_BTF", Want: "y", Got: "n", Fragment: "kernel-config/minimal.config", Reason: "depends on DEBUG_INFO && !DEBUG_INFO_SPLIT: DEBUG_INFO is not set"},
		{Option: "CONFIG_TUN", Want: "y", Got: "m", Fragment: "--config-item"},
	}}
	want := "kernel config: 2 options did not come out as asked:\n" +
		"  CONFIG_DEBUG_INFO_BTF: want y, got n (kernel-config/minimal.config): depends on DEBUG_INFO && !DEBUG_INFO_SPLIT: DEBUG_INFO is not set\n" +
		"  CONFIG_TUN: want y, got m (--config-item)\n" +
		"fix the fragment, or pass --config-item CONFIG_X=y for what an option depends on"
	if got := err.Error(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	one := &VanishedError{Options: err.Options[1:]}
	if !strings.HasPrefix(one.Error(), "kernel config: 1 option did not") {
		t.Errorf("got %q", one.Error())
	}
}

func TestRequireBTF(t *testing.T) {
	dir := t.TempDir()
	with := writeFile(t, filepath.Join(dir, "with"), "CONFIG_DEBUG_INFO=y\nCONFIG_DEBUG_INFO_BTF=y\n")
	without := writeFile(t, filepath.Join(dir, "without"), "CONFIG_DEBUG_INFO=y\n# CONFIG_DEBUG_INFO_BTF is not set\n")
	if err := RequireBTF(with); err != nil {
		t.Errorf("with BTF: %v", err)
	}
	err := RequireBTF(without)
	want := "CONFIG_DEBUG_INFO_BTF is not set: the scenarios need the kernel's BTF (add CONFIG_DEBUG_INFO_BTF=y, which needs CONFIG_DEBUG_INFO and pahole)"
	if err == nil || err.Error() != want || !errors.Is(err, ErrNoBTF) {
		t.Errorf("without BTF: %v", err)
	}
	if err := RequireBTF(filepath.Join(dir, "missing")); err == nil || errors.Is(err, ErrNoBTF) {
		t.Errorf("missing .config: %v", err)
	}
}

func TestReadConfig(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, filepath.Join(dir, "a"), "#\n# Linux/x86 6.12.57 Kernel Configuration\n#\nCONFIG_A=y\n\n# CONFIG_B is not set\nCONFIG_C=\"x\"\n")
	b := writeFile(t, filepath.Join(dir, "b"), "#\n# Linux/x86 6.12.58 Kernel Configuration\n# Compiler: gcc 12\nCONFIG_A=y\nCONFIG_C=\"x\"\n")
	c := writeFile(t, filepath.Join(dir, "c"), "CONFIG_A=m\nCONFIG_C=\"x\"\n")
	ca, err := readConfig(a)
	if err != nil {
		t.Fatal(err)
	}
	cb, _ := readConfig(b)
	cc, _ := readConfig(c)
	if ca.Path != a || len(ca.Digest) != 64 || ca.Modules {
		t.Errorf("a: %+v", ca)
	}
	if ca.Digest != cb.Digest {
		t.Error("comments changed the digest")
	}
	if cc.Digest == ca.Digest || !cc.Modules {
		t.Errorf("c: %+v", cc)
	}
}

// fakeTree is a kernel source tree just big enough for Configure: a
// Kconfig file and a merge_config.sh that appends the fragments.
func fakeTree(t *testing.T) string {
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "Kconfig"), `
config NET
	bool "Networking support"

config DEBUG_INFO
	bool "Debug information"

config BTF_LIKE
	bool "Needs debug information"
	depends on DEBUG_INFO
`)
	p := writeFile(t, filepath.Join(src, "scripts", "kconfig", "merge_config.sh"), `#!/bin/sh
[ "$1" = -m ] && [ "$2" = -O ] || { echo "bad arguments: $*" >&2; exit 1; }
obj=$3 base=$4
shift 4
pwd > "$obj/merge-cwd"
for f in "$@"; do echo "Merging $f"; cat "$f" >> "$base"; done
`)
	os.Chmod(p, 0o755)
	return src
}

func TestConfigure(t *testing.T) {
	calls := fakeMake(t)
	src := fakeTree(t)
	obj := filepath.Join(t.TempDir(), "obj")
	frag := Fragment{Path: "/somewhere/minimal.config", Items: map[string]string{"CONFIG_NET": "y", "CONFIG_BTF_LIKE": "y"}}
	var log strings.Builder

	cfg, err := Configure(context.Background(), src, obj, "allnoconfig", []Fragment{frag}, nil, &log)
	var ve *VanishedError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v, want a *VanishedError", err)
	}
	want := []Vanished{{Option: "CONFIG_BTF_LIKE", Want: "y", Got: "n", Fragment: "/somewhere/minimal.config", Reason: "depends on DEBUG_INFO: DEBUG_INFO is not set"}}
	if !reflect.DeepEqual(ve.Options, want) {
		t.Errorf("got %+v, want %+v", ve.Options, want)
	}
	if cfg == nil || cfg.Path != filepath.Join(obj, ".config") {
		t.Errorf("config %+v", cfg)
	}
	for _, s := range []string{"$ make -C " + src + " O=" + obj, "allnoconfig", "Merging " + filepath.Join(obj, mergeDir, "00-minimal.config"), "olddefconfig"} {
		if !strings.Contains(log.String(), s) {
			t.Errorf("log lacks %q:\n%s", s, log.String())
		}
	}
	if cwd, _ := os.ReadFile(filepath.Join(obj, "merge-cwd")); strings.TrimSpace(string(cwd)) != obj {
		t.Errorf("merge_config.sh ran in %q, want %s", cwd, obj)
	}

	cfg, err = Configure(context.Background(), src, obj, "allnoconfig", []Fragment{frag}, []string{"CONFIG_DEBUG_INFO=y"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	items, err := ParseFragment(filepath.Join(obj, mergeDir, "01-config-item.config"))
	if err != nil || !reflect.DeepEqual(items.Items, map[string]string{"CONFIG_DEBUG_INFO": "y"}) {
		t.Errorf("items fragment: %+v, %v", items, err)
	}
	if err := RequireBTF(cfg.Path); err == nil {
		t.Error("RequireBTF passed a config without BTF")
	}
	again, err := readConfig(cfg.Path)
	if err != nil || again.Digest != cfg.Digest || cfg.Modules {
		t.Errorf("config %+v, again %+v, %v", cfg, again, err)
	}
	got := readCalls(t, calls)
	if len(got) != 4 || !strings.HasSuffix(got[1], "|olddefconfig|") || !strings.HasSuffix(got[3], "|olddefconfig|") {
		t.Errorf("make calls: %q", got)
	}
}

func TestConfigureBadInput(t *testing.T) {
	calls := fakeMake(t)
	obj := t.TempDir()
	if _, err := Configure(context.Background(), fakeTree(t), obj, "randconfig", nil, nil, nil); err == nil || !strings.Contains(err.Error(), `unknown base "randconfig"`) {
		t.Errorf("bad base: %v", err)
	}
	if _, err := Configure(context.Background(), fakeTree(t), obj, "tinyconfig", nil, []string{"CONFIG_NET"}, nil); err == nil || !strings.Contains(err.Error(), `--config-item "CONFIG_NET"`) {
		t.Errorf("bad item: %v", err)
	}
	if got := readCalls(t, calls); len(got) != 0 {
		t.Errorf("make ran on bad input: %q", got)
	}
}
