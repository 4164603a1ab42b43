package boot

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kernel-harness/harness/harness/boot/driver"
	"github.com/kernel-harness/harness/harness/kernel"
	"github.com/kernel-harness/harness/harness/wire"
)

// fakeGuest is a guest the tests script: nil channels never deliver.
type fakeGuest struct {
	started time.Time
	events  chan driver.Event
	exited  chan struct{}
}

func (g *fakeGuest) Started() time.Time          { return g.started }
func (g *fakeGuest) Events() <-chan driver.Event { return g.events }
func (g *fakeGuest) Lines() <-chan string        { return nil }
func (g *fakeGuest) Exited() <-chan struct{}     { return g.exited }
func (g *fakeGuest) Ended([]string, bool) error  { return driver.ErrNoDone }
func (g *fakeGuest) Stop() error                 { return nil }
func (g *fakeGuest) Finish(*driver.Outcome)      {}
func (g *fakeGuest) Command() driver.Command     { return driver.Command{} }

// hangingGuest is a guest that says nothing and never ends.
func hangingGuest() driver.Instance {
	return &fakeGuest{started: time.Now(), exited: make(chan struct{})}
}

// doneGuest says hello and done.
func doneGuest() driver.Instance {
	ev := make(chan driver.Event, 2)
	ev <- driver.Event{E: wire.Event{Kind: wire.Hello}}
	ev <- driver.Event{E: wire.Event{Kind: wire.Done}}
	close(ev)
	exited := make(chan struct{})
	close(exited)
	return &fakeGuest{started: time.Now(), events: ev, exited: exited}
}

// Under auto, a boot that hangs under KVM (nested KVM can stop a guest
// without a word) goes on under TCG at once, and later boots of the
// process start with TCG.
func TestHangUnderKVMFallsBackToTCG(t *testing.T) {
	defer func(f func() error) { kvmUsable = f }(kvmUsable)
	kvmUsable = func() error { return nil }
	kvmFailure.why = ""
	defer func() { kvmFailure.why = "" }()
	var accels []string
	start := func(ctx context.Context, accel string) (driver.Instance, error) {
		accels = append(accels, accel)
		if accel == driver.AccelKVM {
			return hangingGuest(), nil
		}
		return doneGuest(), nil
	}
	s := Spec{Accel: driver.AccelAuto, Deadlines: driver.Deadlines{Boot: 100 * time.Millisecond, Idle: time.Second, Run: time.Second},
		Say: func(string, ...any) {}}
	res, err := attempts(context.Background(), s, Result{Machine: "q35"}, start)
	if err != nil || strings.Join(accels, ",") != "kvm,tcg" || res.Accel != driver.AccelTCG || !res.Outcome.Done {
		t.Fatalf("err %v, attempts %v, result %+v", err, accels, res)
	}
	if !strings.Contains(res.AccelNote, "hung under KVM") {
		t.Errorf("note %q", res.AccelNote)
	}
	accels = nil
	res, err = attempts(context.Background(), s, Result{Machine: "q35"}, start)
	if err != nil || strings.Join(accels, ",") != "tcg" || !strings.Contains(res.AccelNote, "KVM failed an earlier boot") {
		t.Errorf("second boot: err %v, attempts %v, note %q", err, accels, res.AccelNote)
	}
	// --accel kvm is the user's word: a hang is retried once, not moved
	// to TCG.
	accels = nil
	s.Accel = driver.AccelKVM
	_, err = attempts(context.Background(), s, Result{Machine: "q35"}, start)
	if !errors.Is(err, driver.ErrBootHang) || strings.Join(accels, ",") != "kvm,kvm" {
		t.Errorf("--accel kvm: err %v, attempts %v", err, accels)
	}
}

// A silent guest under TCG (not one console line) is not booted again:
// the kernel never started, and would not the second time.
func TestSilentHangUnderTCGNotRetried(t *testing.T) {
	var n int
	start := func(ctx context.Context, accel string) (driver.Instance, error) {
		n++
		return hangingGuest(), nil
	}
	s := Spec{Accel: driver.AccelTCG, Kernel: kernel.Kernel{Image: "/k/bzImage"}, Deadlines: driver.Deadlines{Boot: 25 * time.Millisecond, Idle: time.Second, Run: time.Second},
		Say: func(string, ...any) {}}
	_, err := attempts(context.Background(), s, Result{Machine: "q35"}, start)
	if !errors.Is(err, driver.ErrBootHang) || n != 1 || !strings.Contains(err.Error(), "the kernel printed nothing, so the boot is not tried again; check that /k/bzImage is a whole x86_64 bzImage") {
		t.Errorf("%d boots, %v", n, err)
	}
}

// Only a character device is KVM: a FIFO in its place would make QEMU
// block in open.
func TestDeviceUsable(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "kvm")
	if err := syscall.Mkfifo(fifo, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := deviceUsable(fifo); err == nil || !strings.Contains(err.Error(), "not a character device") {
		t.Errorf("FIFO: %v", err)
	}
	if err := deviceUsable(filepath.Join(dir, "none")); err == nil {
		t.Error("a missing device taken")
	}
	if err := deviceUsable("/dev/null"); err != nil { // a character device that opens
		t.Errorf("/dev/null: %v", err)
	}
}
