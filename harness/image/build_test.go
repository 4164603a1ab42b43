package image

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fakeELF returns a minimal x86-64 ELF executable header (which debug/elf
// accepts) with a PT_LOAD and, if dynamic, a PT_INTERP program header,
// padded to size bytes.
func fakeELF(dynamic bool, size int) []byte {
	const ehsize, phentsize = 64, 56
	phnum := 1
	if dynamic {
		phnum = 2
	}
	b := make([]byte, max(size, ehsize+phnum*phentsize+64))
	copy(b, "\x7fELF")
	b[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	b[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	b[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	le := binary.LittleEndian
	le.PutUint16(b[16:], uint16(elf.ET_EXEC))
	le.PutUint16(b[18:], uint16(elf.EM_X86_64))
	le.PutUint32(b[20:], uint32(elf.EV_CURRENT))
	le.PutUint64(b[24:], 0x401000) // entry
	le.PutUint64(b[32:], ehsize)   // phoff
	le.PutUint16(b[52:], ehsize)
	le.PutUint16(b[54:], phentsize)
	le.PutUint16(b[56:], uint16(phnum))
	ph := b[ehsize:]
	le.PutUint32(ph[0:], uint32(elf.PT_LOAD))
	if dynamic {
		ph = ph[phentsize:]
		interpAt := ehsize + phnum*phentsize
		interp := "/lib64/ld-linux-x86-64.so.2\x00"
		copy(b[interpAt:], interp)
		le.PutUint32(ph[0:], uint32(elf.PT_INTERP))
		le.PutUint64(ph[8:], uint64(interpAt))     // offset
		le.PutUint64(ph[32:], uint64(len(interp))) // filesz
	}
	return b
}

func TestFakeELFParses(t *testing.T) {
	for _, dyn := range []bool{false, true} {
		f, err := elf.NewFile(bytes.NewReader(fakeELF(dyn, 0)))
		if err != nil {
			t.Fatalf("dynamic=%v: %v", dyn, err)
		}
		if want := 1 + map[bool]int{false: 0, true: 1}[dyn]; len(f.Progs) != want {
			t.Fatalf("dynamic=%v: %d program headers, want %d", dyn, len(f.Progs), want)
		}
	}
}

func TestBuild(t *testing.T) {
	modDir := fakeModulesDir(t, testDep, testBuiltin)
	initBytes := fakeELF(false, 4096)
	initPath := writeTemp(t, "harness", initBytes)
	out := filepath.Join(t.TempDir(), "initramfs.cpio")
	if err := os.WriteFile(out, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}

	res, err := Build(out, Spec{
		Init:       initPath,
		ModulesDir: modDir,
		Modules:    []string{"nf-conntrack", "virtio_console", "sch_netem", "no_such"},
		Extra:      []File{{Path: "/harness/plan.json", Mode: 0o644, Data: []byte(`{"plan":true}`)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	wantLoad := []string{
		"kernel/lib/libcrc32c.ko.xz",
		"kernel/net/netfilter/nf_defrag_ipv4.ko.xz",
		"kernel/net/netfilter/nf_defrag_ipv6.ko.xz",
		"kernel/net/netfilter/nf_conntrack.ko.xz",
		"kernel/net/sched/sch_netem.ko.zst",
	}
	if !reflect.DeepEqual(res.Load, wantLoad) {
		t.Errorf("Load = %q, want %q", res.Load, wantLoad)
	}
	if want := []string{"virtio_console"}; !reflect.DeepEqual(res.Builtin, want) {
		t.Errorf("Builtin = %q, want %q", res.Builtin, want)
	}
	if want := []string{"no_such"}; !reflect.DeepEqual(res.Missing, want) {
		t.Errorf("Missing = %q, want %q", res.Missing, want)
	}

	archive, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(archive)) != res.Bytes {
		t.Errorf("Result.Bytes = %d, file has %d", res.Bytes, len(archive))
	}
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("archive mode %v, want 0644", fi.Mode().Perm())
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".*tmp*")); len(left) > 0 {
		t.Errorf("temporary files left behind: %q", left)
	}

	mod := func(rel string) rec { return file("lib/modules/"+rel, 0o644, "module "+rel) }
	want := []rec{
		baseRecs["dev"],
		baseRecs["dev/console"],
		dir("harness", 0o755),
		file("harness-agent", 0o644, "the harness binary at /init runs as the guest agent\n"),
		file("harness/plan.json", 0o644, `{"plan":true}`),
		file("init", 0o755, string(initBytes)),
		dir("lib", 0o755),
		dir("lib/modules", 0o755),
		dir("lib/modules/kernel", 0o755),
		dir("lib/modules/kernel/lib", 0o755),
		mod("kernel/lib/libcrc32c.ko.xz"),
		dir("lib/modules/kernel/net", 0o755),
		dir("lib/modules/kernel/net/netfilter", 0o755),
		mod("kernel/net/netfilter/nf_conntrack.ko.xz"),
		mod("kernel/net/netfilter/nf_defrag_ipv4.ko.xz"),
		mod("kernel/net/netfilter/nf_defrag_ipv6.ko.xz"),
		dir("lib/modules/kernel/net/sched", 0o755),
		mod("kernel/net/sched/sch_netem.ko.zst"),
		file("lib/modules/load.list", 0o644, strings.Join(wantLoad, "\n")+"\n"),
		baseRecs["proc"],
		baseRecs["run"],
		baseRecs["sys"],
		baseRecs["tmp"],
	}
	checkRecords(t, readArchive(t, archive), want)
}

func TestBuildNoModulesDir(t *testing.T) {
	out := filepath.Join(t.TempDir(), "initramfs.cpio")
	res, err := Build(out, Spec{Init: writeTemp(t, "harness", fakeELF(false, 0)), Modules: []string{"tcp_bbr"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Load != nil || res.Builtin != nil || !reflect.DeepEqual(res.Missing, []string{"tcp_bbr"}) {
		t.Errorf("Result = %+v, want only tcp_bbr missing", res)
	}
	archive, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var list *rec
	recs := readArchive(t, archive)
	for i := range recs {
		if recs[i].Name == "lib/modules/load.list" {
			list = &recs[i]
		}
	}
	if list == nil || list.Data != "" {
		t.Errorf("load.list = %+v, want present and empty", list)
	}
}

func TestBuildErrors(t *testing.T) {
	static := writeTemp(t, "static", fakeELF(false, 0))
	dynamic := writeTemp(t, "dynamic", fakeELF(true, 0))
	modDir := fakeModulesDir(t, testDep, "")
	// A module listed in modules.dep whose file is gone.
	if err := os.Remove(filepath.Join(modDir, "kernel/net/ipv4/tcp_bbr.ko")); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		spec Spec
		want string
	}{
		{"no init", Spec{}, "no init binary"},
		{"init missing", Spec{Init: filepath.Join(t.TempDir(), "nope")}, "no such file"},
		{"init not ELF", Spec{Init: writeTemp(t, "script", []byte("#!/bin/sh\n"))}, "is not an ELF executable"},
		{"init dynamic", Spec{Init: dynamic}, "the harness binary " + dynamic + " is dynamically linked; build it with CGO_ENABLED=0 (make build)"},
		{"bad modules dir", Spec{Init: static, ModulesDir: t.TempDir(), Modules: []string{"x"}}, "modules.dep not found"},
		{"module file gone", Spec{Init: static, ModulesDir: modDir, Modules: []string{"tcp_bbr"}}, "tcp_bbr.ko: no such file"},
		{"extra clashes", Spec{Init: static, Extra: []File{{Path: "/init"}}}, "given twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "initramfs.cpio")
			if err := os.WriteFile(out, []byte("old"), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Build(out, tc.spec)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Build = %v, want error containing %q", err, tc.want)
			}
			// A failed build leaves the old archive and no temp file.
			if b, _ := os.ReadFile(out); string(b) != "old" {
				t.Errorf("old archive replaced by %d bytes", len(b))
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 1 {
				t.Errorf("directory has %d entries, want only the old archive", len(ents))
			}
		})
	}
}

// Real binaries: a Go program built with CGO_ENABLED=0 is accepted, the
// system's /bin/true (dynamically linked on Debian) is refused.
func TestCheckStaticRealBinaries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go program; skipped with -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module tiny\n\ngo 1.21\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "tiny")
	cmd := exec.Command(goBin, "build", "-o", bin, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOFLAGS=", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if err := checkStatic(bin); err != nil {
		t.Errorf("static Go binary refused: %v", err)
	}

	const dyn = "/bin/true"
	f, err := elf.Open(dyn)
	if err != nil {
		t.Skipf("%s is not an ELF file here: %v", dyn, err)
	}
	hasInterp := false
	for _, p := range f.Progs {
		hasInterp = hasInterp || p.Type == elf.PT_INTERP
	}
	f.Close()
	if !hasInterp {
		t.Skipf("%s is statically linked on this system", dyn)
	}
	err = checkStatic(dyn)
	if err == nil || !strings.Contains(err.Error(), "is dynamically linked; build it with CGO_ENABLED=0") {
		t.Errorf("checkStatic(%s) = %v, want dynamically-linked refusal", dyn, err)
	}
}

func BenchmarkBuild(b *testing.B) {
	dir := b.TempDir()
	initPath := filepath.Join(dir, "harness")
	if err := os.WriteFile(initPath, fakeELF(false, 20<<20), 0o755); err != nil {
		b.Fatal(err)
	}
	modDir := filepath.Join(dir, "modules")
	var dep strings.Builder
	var names []string
	for i := range 10 {
		rel := filepath.ToSlash(filepath.Join("kernel", "net", "m", "mod"+string(rune('a'+i))+".ko.xz"))
		p := filepath.Join(modDir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, bytes.Repeat([]byte{byte(i)}, 100<<10), 0o644); err != nil {
			b.Fatal(err)
		}
		dep.WriteString(rel + ":\n")
		names = append(names, "mod"+string(rune('a'+i)))
	}
	if err := os.WriteFile(filepath.Join(modDir, "modules.dep"), []byte(dep.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	spec := Spec{Init: initPath, ModulesDir: modDir, Modules: names}
	out := filepath.Join(dir, "initramfs.cpio")

	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := Build(out, spec)
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Load) != 10 {
			b.Fatalf("loaded %d modules, want 10", len(res.Load))
		}
		b.SetBytes(res.Bytes)
	}
}
