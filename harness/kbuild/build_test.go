package kbuild

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeMakeScript stands in for the kernel's make: it records its
// arguments and environment, and for each target does what kbuild would
// in miniature. FAKE_TRANSCRIPT is printed by bzImage, or FAKE_MAKE_FAIL
// with exit status 2.
const fakeMakeScript = `#!/bin/sh
obj= target= modpath= skip=
for a in "$@"; do
	if [ -n "$skip" ]; then skip=; continue; fi
	case "$a" in
	-C) skip=1 ;;
	O=*) obj=${a#O=} ;;
	INSTALL_MOD_PATH=*) modpath=${a#INSTALL_MOD_PATH=} ;;
	-*|*=*) ;;
	*) target=$a ;;
	esac
done
{ printf '|'; printf '%s|' "$@"; echo; } >> "$FAKE_MAKE_CALLS"
echo "USER=$KBUILD_BUILD_USER HOST=$KBUILD_BUILD_HOST TIMESTAMP=$KBUILD_BUILD_TIMESTAMP LC_ALL=$LC_ALL" >> "$FAKE_MAKE_CALLS.env"
case "$target" in
allnoconfig|tinyconfig|defconfig)
	mkdir -p "$obj"
	printf '#\n# Linux/x86 6.12.57 Kernel Configuration %s\n#\n# CONFIG_NET is not set\n' "$$" > "$obj/.config"
	echo "#"; echo "# configuration written to .config"; echo "#" ;;
olddefconfig)
	# Kconfig in miniature: BTF_LIKE needs DEBUG_INFO.
	if ! grep -q '^CONFIG_DEBUG_INFO=y' "$obj/.config"; then
		grep -v '^CONFIG_BTF_LIKE=' "$obj/.config" > "$obj/.config.new"
		mv "$obj/.config.new" "$obj/.config"
	fi ;;
bzImage)
	if [ -n "$FAKE_MAKE_FAIL" ]; then cat "$FAKE_MAKE_FAIL"; exit 2; fi
	cat "$FAKE_TRANSCRIPT"
	i=0
	while [ $i -lt 150 ]; do echo "  CC      drivers/fake/f$i.o"; i=$((i+1)); done
	echo "../src/drivers/fake/f3.c:1:1: warning: not an error" >&2
	mkdir -p "$obj/arch/x86/boot" "$obj/include/config"
	echo bzImage > "$obj/arch/x86/boot/bzImage"
	echo 6.12.57-harness > "$obj/include/config/kernel.release" ;;
modules)
	echo "  CC [M]  net/ipv6/af_inet6.o"
	printf '  LD [M]  net/ipv6/ipv6.ko' ;; # the last line without its newline
modules_install)
	rel=$(cat "$obj/include/config/kernel.release")
	mkdir -p "$modpath/lib/modules/$rel/kernel/net/ipv6"
	echo "  INSTALL $modpath/lib/modules/$rel/kernel/net/ipv6/ipv6.ko"
	echo "  DEPMOD  $modpath/lib/modules/$rel" ;;
*)
	echo "make: *** No rule to make target '$target'.  Stop." >&2; exit 2 ;;
esac
`

// fakeMake puts fakeMakeScript first on PATH and returns the file it
// records its calls in, one line per call: |arg|arg|...|.
func fakeMake(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "make"), []byte(fakeMakeScript), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	calls := filepath.Join(dir, "calls")
	t.Setenv("FAKE_MAKE_CALLS", calls)
	t.Setenv("FAKE_MAKE_FAIL", "")
	transcript, err := filepath.Abs("testdata/kbuild-ok.log")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("FAKE_TRANSCRIPT", transcript)
	return calls
}

func readCalls(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// plainLines is what a plain meter prints for n objects of total.
func plainLines(n, total int) string {
	var b strings.Builder
	for at := plainEvery; at <= n; at += plainEvery {
		if total > 0 {
			fmt.Fprintf(&b, "build: %d/%d objects\n", at, max(total, at))
		} else {
			fmt.Fprintf(&b, "build: %d objects\n", at)
		}
	}
	return b.String()
}

func TestBuild(t *testing.T) {
	calls := fakeMake(t)
	src, obj := t.TempDir(), t.TempDir()
	logFile := filepath.Join(t.TempDir(), "build.log")
	if err := os.WriteFile(logFile, []byte("earlier output\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	transcript, err := os.ReadFile("testdata/kbuild-ok.log")
	if err != nil {
		t.Fatal(err)
	}
	objects, compiled := countSteps(string(transcript))
	objects, compiled = objects+150, compiled+150

	// First build of the folder: no estimate.
	var progress bytes.Buffer
	a, err := Build(context.Background(), src, obj, 3, false, logFile, &progress)
	if err != nil {
		t.Fatal(err)
	}
	if a.Image != filepath.Join(obj, "arch/x86/boot/bzImage") || a.Modules != "" || a.Release != "6.12.57-harness" ||
		a.Objects != objects || a.Compiled != compiled || a.Duration <= 0 {
		t.Errorf("artifact %+v, want %d objects, %d compiled", a, objects, compiled)
	}
	if got := progress.String(); got != plainLines(objects, 0) || got == "" {
		t.Errorf("progress:\n%s\nwant:\n%s", got, plainLines(objects, 0))
	}
	if est := readEstimate(obj); est != objects {
		t.Errorf("%s holds %d, want %d", objectsFile, est, objects)
	}

	// Again with modules: the estimate is the first build's count.
	progress.Reset()
	a, err = Build(context.Background(), src, obj, 3, true, logFile, &progress)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(obj, "mods/lib/modules/6.12.57-harness"); a.Modules != want || a.Objects != objects+4 || a.Compiled != compiled+1 {
		t.Errorf("artifact %+v, want modules %s, %d objects, %d compiled", a, want, objects+4, compiled+1)
	}
	if got := progress.String(); got != plainLines(objects+4, objects) {
		t.Errorf("progress:\n%s\nwant:\n%s", got, plainLines(objects+4, objects))
	}
	if est := readEstimate(obj); est != objects+4 {
		t.Errorf("%s holds %d, want %d", objectsFile, est, objects+4)
	}

	ccache := ""
	if _, err := exec.LookPath("ccache"); err == nil {
		ccache = "CC=ccache gcc|HOSTCC=ccache gcc|"
	}
	head := "|-C|" + src + "|O=" + obj + "|" + ccache + "-j3|"
	want := []string{
		head + "bzImage|",
		head + "bzImage|",
		head + "modules|",
		head + "modules_install|INSTALL_MOD_PATH=" + filepath.Join(obj, "mods") + "|",
	}
	if got := readCalls(t, calls); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("make calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	env := readCalls(t, calls+".env")
	if len(env) != 4 || env[0] != "USER=harness HOST=harness TIMESTAMP="+buildTimestamp+" LC_ALL=C" {
		t.Errorf("make environment: %q", env)
	}

	log, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"earlier output\n$ make -C " + src, "Kernel: arch/x86/boot/bzImage is ready", "warning: not an error", "  DEPMOD  "} {
		if !strings.Contains(string(log), s) {
			t.Errorf("build.log lacks %q", s)
		}
	}
}

func TestBuildFailure(t *testing.T) {
	fakeMake(t)
	src, obj := t.TempDir(), t.TempDir()
	logFile := filepath.Join(t.TempDir(), "build.log")
	os.WriteFile(filepath.Join(obj, objectsFile), []byte("1234\n"), 0o644)
	for _, tc := range []struct{ transcript, first string }{
		{"testdata/gcc-error.log", "../../worktrees/3f2a9c1d0b7e/net/ipv4/tcp_input.c:5320:13: error: implicit declaration of function 'tcp_bpf_rcvlowat' [-Werror=implicit-function-declaration]"},
		{"testdata/ld-error.log", "/root/.cache/harness/worktrees/3f2a9c1d0b7e/net/ipv4/tcp_input.c:6123: undefined reference to `tcp_bpf_rcvq_cb' (in function tcp_rcv_established)"},
	} {
		p, _ := filepath.Abs(tc.transcript)
		t.Setenv("FAKE_MAKE_FAIL", p)
		var progress bytes.Buffer
		a, err := Build(context.Background(), src, obj, 2, true, logFile, &progress)
		var be *BuildError
		if !errors.As(err, &be) {
			t.Fatalf("%s: got %v, %v; want a *BuildError", tc.transcript, a, err)
		}
		if be.Target != "bzImage" || be.First != tc.first || be.Log != logFile {
			t.Errorf("%s: %+v", tc.transcript, be)
		}
		want := "kernel build: make bzImage: " + tc.first + "; full output in " + logFile
		if err.Error() != want {
			t.Errorf("got  %s\nwant %s", err, want)
		}
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 {
			t.Errorf("%s: does not wrap make's exit: %v", tc.transcript, be.Err)
		}
		if progress.Len() != 0 {
			t.Errorf("%s: progress %q under 100 objects", tc.transcript, progress.String())
		}
	}
	if est := readEstimate(obj); est != 1234 {
		t.Errorf("a failed build changed the estimate to %d", est)
	}
	log, _ := os.ReadFile(logFile)
	if !strings.Contains(string(log), "cc1: some warnings being treated as errors") || !strings.Contains(string(log), "ld: vmlinux.o: in function") {
		t.Error("build.log lacks the failed builds' output")
	}
}

func TestBuildCancelled(t *testing.T) {
	fakeMake(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Build(ctx, t.TempDir(), t.TempDir(), 1, false, "", nil)
	var be *BuildError
	if !errors.Is(err, context.Canceled) || errors.As(err, &be) {
		t.Errorf("got %v, want context.Canceled and no BuildError", err)
	}
}

func TestBuildErrorWithoutFirst(t *testing.T) {
	err := &BuildError{Target: "modules", Err: errors.New("exit status 2")}
	if got := err.Error(); got != "kernel build: make modules: exit status 2" {
		t.Errorf("got %q", got)
	}
}

func TestPlainMeter(t *testing.T) {
	var b bytes.Buffer
	m := newMeter(&b, 250)
	for i := 1; i <= 320; i++ {
		m.Set(i)
	}
	m.Done()
	// Past the estimate the total is dropped, not stretched.
	want := "build: 100/250 objects\nbuild: 200/250 objects\nbuild: 300 objects\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
	// A file that is not a terminal gets plain lines too.
	f, err := os.Create(filepath.Join(t.TempDir(), "progress"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, ok := newMeter(f, 0).(*plainMeter); !ok {
		t.Error("a file got a progress bar")
	}
	if _, ok := newMeter(nil, 0).(nopMeter); !ok {
		t.Error("nil progress got a meter")
	}
}

func TestReadEstimate(t *testing.T) {
	obj := t.TempDir()
	for text, want := range map[string]int{"": 0, "1500\n": 1500, "x": 0, "-3": 0} {
		os.WriteFile(filepath.Join(obj, objectsFile), []byte(text), 0o644)
		if got := readEstimate(obj); got != want {
			t.Errorf("%q: %d, want %d", text, got, want)
		}
	}
	if got := readEstimate(filepath.Join(obj, "none")); got != 0 {
		t.Errorf("no file: %d", got)
	}
}

func TestCcacheEnv(t *testing.T) {
	for _, c := range []struct{ src, obj, want string }{
		{"/c/trees/ab/src", "/c/trees/ab/build/cd", "/c/trees/ab"},
		{"/c/trees/ab/src", "/c/trees/ab/src/o", "/c/trees/ab/src"},
		{"/c/trees/ab/src", "/c/trees/ab/srcx", "/c/trees/ab"},
		{"/a", "/b", "/"},
	} {
		if got := commonDir(c.src, c.obj); got != c.want {
			t.Errorf("commonDir(%s, %s) = %s, want %s", c.src, c.obj, got, c.want)
		}
	}
	t.Setenv("CCACHE_BASEDIR", "")
	if env := ccacheEnv("/a", "/b"); env != nil {
		t.Errorf("no common folder but /: %v", env)
	}
	env := ccacheEnv("/c/t/src", "/c/t/build/x")
	if !slices.Equal(env, []string{"CCACHE_BASEDIR=/c/t", "CCACHE_NOHASHDIR=1"}) {
		t.Errorf("env %v", env)
	}
	t.Setenv("CCACHE_BASEDIR", "/mine")
	if env := ccacheEnv("/c/t/src", "/c/t/build/x"); env != nil {
		t.Errorf("the user's base folder is overridden: %v", env)
	}
}
