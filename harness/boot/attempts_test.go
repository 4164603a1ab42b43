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
	"github.com/kernel-harness/harness/harness/wire"
)

// hangingGuest is a guest that says nothing and never ends.
func hangingGuest() *driver.Instance {
	exited := make(chan struct{})
	return &driver.Instance{Started: time.Now(), Exited: exited, Stop: func() error { return nil }}
}

// doneGuest says hello and done.
func doneGuest() *driver.Instance {
	ev := make(chan driver.Event, 2)
	ev <- driver.Event{E: wire.Event{Kind: wire.Hello}}
	ev <- driver.Event{E: wire.Event{Kind: wire.Done}}
	close(ev)
	exited := make(chan struct{})
	close(exited)
	return &driver.Instance{Started: time.Now(), Events: ev, Exited: exited, Stop: func() error { return nil }}
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
	start := func(ctx context.Context, accel string) (*driver.Instance, error) {
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
