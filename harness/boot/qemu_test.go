package boot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kernel-harness/harness/harness/boot/driver"
	"github.com/kernel-harness/harness/harness/boot/qemu"
	"github.com/kernel-harness/harness/harness/wire"
)

// fakeEnv makes the test binary act as QEMU (see TestMain): its value
// says what the fake guest does.
const fakeEnv = "HARNESS_VM_TEST_FAKE_QEMU"

func TestMain(m *testing.M) {
	if mode := os.Getenv(fakeEnv); mode != "" {
		os.Exit(fakeQEMU(mode, os.Args[1:]))
	}
	os.Exit(m.Run())
}

// fakeQEMU plays QEMU and a guest: it serves QMP on the socket named on
// its command line, connects to the console and events sockets as QEMU's
// socket chardevs do, and then does what mode says.
func fakeQEMU(mode string, args []string) int {
	paths := map[string]string{}
	for i := 0; i+1 < len(args); i++ {
		switch args[i] {
		case "-chardev":
			for _, id := range []string{"console", "events"} {
				if p, ok := strings.CutPrefix(args[i+1], "socket,id="+id+",path="); ok {
					paths[id] = strings.ReplaceAll(p, ",,", ",")
				}
			}
		case "-qmp":
			p := strings.TrimPrefix(args[i+1], "unix:")
			p = strings.TrimSuffix(p, ",server=on,wait=off")
			paths["qmp"] = strings.ReplaceAll(p, ",,", ",")
		}
	}
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "fake qemu:", err)
		return 1
	}
	quit := make(chan struct{})
	l, err := net.Listen("unix", paths["qmp"])
	if err != nil {
		return fail(err)
	}
	go serveQMP(l, quit, mode == "wedged")
	con, err := net.Dial("unix", paths["console"])
	if err != nil {
		return fail(err)
	}
	ev, err := net.Dial("unix", paths["events"])
	if err != nil {
		return fail(err)
	}
	w := wire.NewWriter(ev)
	switch mode {
	case "done":
		fmt.Fprint(con, "booted\nagent up\n")
		w.Emit(wire.Event{Kind: wire.Hello, TimeNS: 1, Release: "6.99"})
		w.Emit(wire.Event{Kind: wire.Done, TimeNS: 2})
	case "no-done":
		// The guest dies: the events port closes first and QEMU exits a
		// little later, as with panic=-1 and -no-reboot.
		fmt.Fprint(con, "booted\nreboot: Restarting system\n")
		w.Emit(wire.Event{Kind: wire.Hello, TimeNS: 1, Release: "6.99"})
		con.Close()
		ev.Close()
		time.Sleep(300 * time.Millisecond)
	case "panic", "panic-hang":
		// A panic before init; with panic=0 the kernel then idles on.
		fmt.Fprint(con, "booted\n[    1.0] Kernel panic - not syncing: VFS: Unable to mount root fs\n[    1.1] Call Trace:\n")
		if mode == "panic" {
			time.Sleep(300 * time.Millisecond)
			break
		}
		select {
		case <-quit:
		case <-time.After(30 * time.Second):
		}
	case "halted":
		// The decompressor on a damaged image: its message, then the CPU
		// halted, with no newline after its last words.
		fmt.Fprint(con, "Booting from ROM...\r\n\r\nZSTD-compressed data is corrupt\r\n\r\n -- System halted")
		select {
		case <-quit:
		case <-time.After(30 * time.Second):
		}
	case "silent", "wedged":
		// The guest says hello and nothing more; only QMP quit (or a
		// signal) ends QEMU.
		fmt.Fprint(con, "booted\n")
		w.Emit(wire.Event{Kind: wire.Hello, TimeNS: 1, Release: "6.99"})
		select {
		case <-quit:
			if f := os.Getenv(fakeEnv + "_QUIT"); f != "" {
				os.WriteFile(f, []byte("quit\n"), 0o644)
			}
		case <-time.After(30 * time.Second):
		}
	}
	return 0
}

// serveQMP speaks enough QMP for go-qemu's socket monitor: the greeting,
// the capabilities handshake, and quit. Like QEMU it parses a stream of
// JSON values, not lines: go-qemu sends commands without a newline. A
// wedged QEMU takes commands and never answers them.
func serveQMP(l net.Listener, quit chan<- struct{}, wedged bool) {
	c, err := l.Accept()
	if err != nil {
		return
	}
	fmt.Fprintln(c, `{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 8}, "package": ""}, "capabilities": []}}`)
	dec := json.NewDecoder(c)
	for {
		var cmd struct{ Execute string }
		if err := dec.Decode(&cmd); err != nil {
			return
		}
		if wedged && cmd.Execute != "qmp_capabilities" {
			continue
		}
		fmt.Fprintln(c, `{"return": {}}`)
		if cmd.Execute == "quit" {
			close(quit)
			return
		}
	}
}

// writeScript writes an executable shell script standing in for QEMU.
func writeScript(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "qemu-system-x86_64")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// testBoot is a QEMU boot as the tests write it: the QEMU driver's
// options, the supervisor's deadlines and where the guest's output goes.
type testBoot struct {
	qemu.Options
	BootTimeout, IdleTimeout, RunTimeout time.Duration
	Stretch                              int
	OnConsoleLine                        func(string)
	OnEvent                              func(wire.Event, []byte)
}

func bootOptions(t *testing.T, bin string) testBoot {
	return testBoot{Options: qemu.Options{
		QEMU:           bin,
		Kernel:         "/nonexistent/bzImage",
		Initrd:         "/nonexistent/initrd",
		Machine:        qemu.Machine{Type: "q35", Accel: qemu.AccelKVM, CPUs: 1, MemoryMB: 128},
		Dir:            t.TempDir(),
		EventsPortName: "harness.events",
	},
		BootTimeout: 5 * time.Second,
		IdleTimeout: 5 * time.Second,
		RunTimeout:  10 * time.Second,
	}
}

type bootResult struct {
	out *driver.Outcome
	err error
	d   time.Duration
}

// qemuBoot is one QEMU boot followed by the supervisor.
func qemuBoot(ctx context.Context, o testBoot) (*driver.Outcome, error) {
	inst, err := qemu.Start(ctx, o.Options)
	if err != nil {
		return &driver.Outcome{}, err
	}
	d := driver.Deadlines{Boot: o.BootTimeout, Idle: o.IdleTimeout, Run: o.RunTimeout, Stretch: o.Stretch}
	return Supervise(ctx, inst, d, Sinks{OnConsoleLine: o.OnConsoleLine, OnEvent: o.OnEvent})
}

// bootWithin boots and fails the test if it has not returned in limit,
// so that a hang is a failure and not a stuck test binary.
func bootWithin(t *testing.T, o testBoot, limit time.Duration) bootResult {
	t.Helper()
	done := make(chan bootResult, 1)
	go func() {
		start := time.Now()
		out, err := qemuBoot(context.Background(), o)
		done <- bootResult{out, err, time.Since(start)}
	}()
	select {
	case r := <-done:
		return r
	case <-time.After(limit):
		t.Fatalf("the boot did not return within %v", limit)
		return bootResult{}
	}
}

func TestBootKVMUnusable(t *testing.T) {
	const msg = "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69"
	qemu := writeScript(t, "echo '"+msg+"' >&2\nexit 1\n")
	r := bootWithin(t, bootOptions(t, qemu), 10*time.Second)
	if !errors.Is(r.err, driver.ErrKVMUnusable) {
		t.Fatalf("err = %v, want driver.ErrKVMUnusable", r.err)
	}
	if !strings.Contains(r.err.Error(), msg) {
		t.Errorf("error %q does not quote QEMU's message", r.err)
	}
	if r.d > 3*time.Second {
		t.Errorf("Boot took %v to notice QEMU had exited", r.d)
	}
	if !strings.Contains(r.out.Stderr, msg) {
		t.Errorf("Outcome.Stderr = %q", r.out.Stderr)
	}
}

// A QEMU that fails on an ordinary error is reported with its message,
// and is not mistaken for a KVM problem.
func TestBootQEMUError(t *testing.T) {
	qemu := writeScript(t, "echo 'qemu-system-x86_64: -foo: invalid option' >&2\nexit 1\n")
	r := bootWithin(t, bootOptions(t, qemu), 10*time.Second)
	if r.err == nil || errors.Is(r.err, driver.ErrKVMUnusable) {
		t.Fatalf("err = %v, want a QEMU error that is not driver.ErrKVMUnusable", r.err)
	}
	if !strings.Contains(r.err.Error(), "-foo: invalid option") {
		t.Errorf("error %q does not quote QEMU", r.err)
	}
}

func TestBootHangKillsQEMU(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	// exec keeps the PID, so the PID written is the process Boot must kill.
	qemu := writeScript(t, "echo $$ > "+pidFile+"\nexec sleep 30\n")
	o := bootOptions(t, qemu)
	o.BootTimeout = 500 * time.Millisecond
	r := bootWithin(t, o, 20*time.Second)
	if !errors.Is(r.err, driver.ErrBootHang) {
		t.Fatalf("err = %v, want driver.ErrBootHang", r.err)
	}
	if r.d > 3*time.Second {
		t.Errorf("Boot took %v with a 500ms boot deadline", r.d)
	}
	wantGone(t, pidFile)
}

func TestBootDone(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(fakeEnv, "done")
	o := bootOptions(t, exe)
	var mu sync.Mutex
	var kinds []wire.Kind
	var lines []string
	var console strings.Builder
	o.OnEvent = func(e wire.Event, raw []byte) {
		mu.Lock()
		defer mu.Unlock()
		kinds = append(kinds, e.Kind)
	}
	o.OnConsoleLine = func(l string) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, l)
	}
	o.Console = &console
	r := bootWithin(t, o, 15*time.Second)
	if r.err != nil {
		t.Fatalf("Boot: %v", r.err)
	}
	if !r.out.Done {
		t.Error("Outcome.Done is false after a done event")
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []wire.Kind{wire.Hello, wire.Done}; !slices.Equal(kinds, want) {
		t.Errorf("events %q, want %q", kinds, want)
	}
	if want := []string{"booted", "agent up"}; !slices.Equal(lines, want) {
		t.Errorf("console lines %q, want %q", lines, want)
	}
	if console.String() != "booted\nagent up\n" {
		t.Errorf("console %q", console.String())
	}
}

// A guest whose events port closes before QEMU exits, without a done
// event, is an error that quotes the console.
func TestBootNoDone(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(fakeEnv, "no-done")
	r := bootWithin(t, bootOptions(t, exe), 15*time.Second)
	if !errors.Is(r.err, driver.ErrNoDone) {
		t.Fatalf("err = %v, want driver.ErrNoDone", r.err)
	}
	if !strings.Contains(r.err.Error(), "reboot: Restarting system") {
		t.Errorf("error %q does not quote the console's last line", r.err)
	}
	if r.out.Done {
		t.Error("Outcome.Done is true without a done event")
	}
}

// A panic on the console ends the boot at once with the panic quoted,
// whether QEMU exits after it (panic=-1) or idles on (panic=0), and is
// not a hang worth another try.
func TestBootPanic(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"panic", "panic-hang"} {
		t.Run(mode, func(t *testing.T) {
			t.Setenv(fakeEnv, mode)
			o := bootOptions(t, exe)
			o.BootTimeout = 20 * time.Second
			r := bootWithin(t, o, 15*time.Second)
			if !errors.Is(r.err, driver.ErrPanic) || errors.Is(r.err, driver.ErrBootHang) {
				t.Fatalf("err = %v, want driver.ErrPanic", r.err)
			}
			if !strings.Contains(r.err.Error(), "Kernel panic - not syncing: VFS: Unable to mount root fs") {
				t.Errorf("error %q does not quote the panic", r.err)
			}
			if r.d > panicGrace+5*time.Second {
				t.Errorf("took %v after a panic", r.d)
			}
			if tail := strings.Join(r.out.ConsoleTail, "\n"); !strings.Contains(tail, "Call Trace") {
				t.Errorf("console tail %q lacks the lines after the panic", tail)
			}
		})
	}
}

// A guest that falls silent is an error, and QEMU is stopped over QMP
// rather than killed.
func TestBootSilentQuitsOverQMP(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	quitFile := filepath.Join(t.TempDir(), "quit")
	t.Setenv(fakeEnv, "silent")
	t.Setenv(fakeEnv+"_QUIT", quitFile)
	o := bootOptions(t, exe)
	o.IdleTimeout = 500 * time.Millisecond
	r := bootWithin(t, o, 15*time.Second)
	if !errors.Is(r.err, driver.ErrSilent) {
		t.Fatalf("err = %v, want driver.ErrSilent", r.err)
	}
	if !strings.Contains(r.err.Error(), `"booted"`) {
		t.Errorf("error %q does not quote the console's last line", r.err)
	}
	if _, err := os.Stat(quitFile); err != nil {
		t.Errorf("QEMU never got quit over QMP: %v", err)
	}
}

// A QEMU whose QMP takes quit but never answers must still be killed, and
// Boot must still return.
func TestBootWedgedQMPIsKilled(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(fakeEnv, "wedged")
	o := bootOptions(t, exe)
	o.IdleTimeout = 500 * time.Millisecond
	r := bootWithin(t, o, 15*time.Second)
	if !errors.Is(r.err, driver.ErrSilent) {
		t.Fatalf("err = %v, want driver.ErrSilent", r.err)
	}
	// 3s for quit, then SIGKILL.
	if r.d < 3*time.Second || r.d > 6*time.Second {
		t.Errorf("Boot took %v, want the idle deadline plus stop's 3s quit wait", r.d)
	}
}

// Each deadline names itself: a short --timeout is the run deadline, not
// the idle one, and the idle deadline does not run before the first
// event (the boot deadline does).
func TestBootDeadlinesNameThemselves(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(fakeEnv, "silent")
	o := bootOptions(t, exe)
	o.IdleTimeout, o.RunTimeout, o.Stretch = 2*time.Minute, 800*time.Millisecond, 4
	r := bootWithin(t, o, 15*time.Second)
	if !errors.Is(r.err, driver.ErrDeadline) || errors.Is(r.err, driver.ErrSilent) {
		t.Fatalf("err = %v, want driver.ErrDeadline", r.err)
	}
	if want := "run deadline passed (800ms: --timeout 200ms, 4x under TCG)"; !strings.Contains(r.err.Error(), want) {
		t.Errorf("error %q, want %q", r.err, want)
	}

	t.Setenv(fakeEnv, "panic-hang") // no event at all
	o = bootOptions(t, exe)
	o.Kernel = "/nonexistent/bzImage"
	o.BootTimeout, o.IdleTimeout = 5*time.Second, 200*time.Millisecond
	o.OnConsoleLine = nil
	r = bootWithin(t, o, 15*time.Second)
	if errors.Is(r.err, driver.ErrSilent) {
		t.Errorf("the idle deadline ran before the first event: %v", r.err)
	}
}

// A QEMU that ends before the kernel printed a line (a cut-off image, too
// little memory) says what to check rather than "(nothing)".
func TestBootNothingOnConsole(t *testing.T) {
	r := bootWithin(t, bootOptions(t, writeScript(t, "exit 0\n")), 10*time.Second)
	if !errors.Is(r.err, driver.ErrNoDone) {
		t.Fatalf("err = %v, want driver.ErrNoDone", r.err)
	}
	for _, want := range []string{"before the kernel printed anything", "/nonexistent/bzImage is a whole x86_64 bzImage", "--memory 128 MiB"} {
		if !strings.Contains(r.err.Error(), want) {
			t.Errorf("error %q lacks %q", r.err, want)
		}
	}
}

// Under nested KVM QEMU may print "KVM internal error" and then wait
// with the vCPU stopped, never exiting: that is KVM failing, said at
// once, not a boot hang waited out to its deadline.
func TestBootKVMInternalErrorThenWait(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	qemu := writeScript(t, "echo $$ > "+pidFile+"\necho 'KVM internal error. Suberror: 1' >&2\necho 'emulation failure' >&2\nexec sleep 30\n")
	o := bootOptions(t, qemu)
	o.BootTimeout = 20 * time.Second
	r := bootWithin(t, o, 15*time.Second)
	if !errors.Is(r.err, driver.ErrKVMUnusable) || errors.Is(r.err, driver.ErrBootHang) {
		t.Fatalf("err = %v, want driver.ErrKVMUnusable", r.err)
	}
	if r.d > 5*time.Second {
		t.Errorf("took %v to notice KVM failing", r.d)
	}
	wantGone(t, pidFile)
}

// A damaged image stops in the decompressor, which says why and halts:
// that is said at once, not waited out to the boot deadline.
func TestBootDecompressorHalted(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(fakeEnv, "halted")
	o := bootOptions(t, exe)
	o.BootTimeout = 20 * time.Second
	r := bootWithin(t, o, 15*time.Second)
	if !errors.Is(r.err, driver.ErrHalted) {
		t.Fatalf("err = %v, want driver.ErrHalted", r.err)
	}
	if !strings.Contains(r.err.Error(), "ZSTD-compressed data is corrupt") {
		t.Errorf("error %q does not quote the decompressor", r.err)
	}
	if r.d > 8*time.Second {
		t.Errorf("took %v to notice the halt", r.d)
	}
}

// A --qemu that never connects to its console (a wrapper that never
// starts QEMU) is stopped once QEMU would long have connected, and said
// so, rather than waited out to the boot deadline and retried.
func TestBootNeverConnects(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	qemu := writeScript(t, "echo $$ > "+pidFile+"\necho 'wrapper: waiting for a licence' >&2\nexec sleep 30\n")
	o := bootOptions(t, qemu)
	o.BootTimeout = 20 * time.Second
	o.ConnectWait = 300 * time.Millisecond
	r := bootWithin(t, o, 15*time.Second)
	if !errors.Is(r.err, driver.ErrNoConnect) || errors.Is(r.err, driver.ErrBootHang) {
		t.Fatalf("err = %v, want driver.ErrNoConnect", r.err)
	}
	for _, want := range []string{"without connecting to its console socket", "--qemu", "it said: wrapper: waiting for a licence"} {
		if !strings.Contains(r.err.Error(), want) {
			t.Errorf("error %q lacks %q", r.err, want)
		}
	}
	if r.d > 8*time.Second {
		t.Errorf("took %v with a 300ms connect wait", r.d)
	}
	wantGone(t, pidFile)
}

// wantGone fails the test when the process whose PID a stand-in QEMU
// wrote to pidFile still runs after the boot returned, and kills it.
func wantGone(t *testing.T, pidFile string) {
	t.Helper()
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Errorf("kill(%d, 0) = %v after the boot returned, want ESRCH: the process was left running", pid, err)
	}
}
