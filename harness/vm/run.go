package vm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// Deadlines for a boot under KVM; TCG gets TCGStretch times each.
type Deadlines struct {
	Boot, Idle, Run time.Duration
	// Stretch is the factor TCG applied (0: none), for the messages.
	Stretch int
}

// ForTCG is d stretched for TCG.
func (d Deadlines) ForTCG() Deadlines {
	return Deadlines{Boot: d.Boot * TCGStretch, Idle: d.Idle * TCGStretch, Run: d.Run * TCGStretch, Stretch: TCGStretch}
}

// Note names a deadline for a message: its length, the option that sets
// it, and the TCG stretch: "--boot-timeout 15s" under KVM, "1m0s:
// --boot-timeout 15s, 4x under TCG" under TCG.
func (d Deadlines) Note(v time.Duration, option string) string {
	if d.Stretch > 1 {
		return fmt.Sprintf("%v: %s %v, %dx under TCG", v, option, v/time.Duration(d.Stretch), d.Stretch)
	}
	return fmt.Sprintf("%s %v", option, v)
}

// TCGStretch is how much longer every deadline is under TCG, which
// emulates each instruction.
const TCGStretch = 4

// Plan is a boot with the choices Run makes for the user: which
// accelerator works, and whether a hung boot deserves another try.
type Plan struct {
	Options
	Accel     string // kvm, tcg or auto
	Deadlines Deadlines
	// Log receives one-line notes meant for the user (fallbacks, retries).
	Log func(string)
}

// Result is what Run did.
type Result struct {
	Outcome   *Outcome
	Accel     string
	AccelNote string
	Attempts  int
	Retries   []string
}

// Run boots the plan. With accel auto it tries KVM where /dev/kvm is
// writable and falls back to TCG when QEMU says KVM cannot run the guest;
// a boot that hangs before the guest's first event is tried once more.
func Run(ctx context.Context, p Plan) (Result, error) {
	logf := p.Log
	if logf == nil {
		logf = func(string) {}
	}
	res := Result{Accel: p.Accel}
	switch p.Accel {
	case AccelKVM, AccelTCG:
	case AccelAuto, "":
		if err := kvmWritable(); err != nil {
			res.Accel = AccelTCG
			res.AccelNote = fmt.Sprintf("using TCG: %v", err)
		} else {
			res.Accel = AccelKVM
		}
	default:
		return res, fmt.Errorf("unknown accelerator %q (want kvm, tcg or auto)", p.Accel)
	}
	if res.AccelNote != "" {
		logf(res.AccelNote)
	}
	hung := false
	for {
		res.Attempts++
		o := p.Options
		o.Machine.Accel = res.Accel
		d := p.Deadlines
		if res.Accel == AccelTCG {
			d = d.ForTCG()
		}
		o.BootTimeout, o.IdleTimeout, o.RunTimeout, o.Stretch = d.Boot, d.Idle, d.Run, d.Stretch
		out, err := Boot(ctx, o)
		res.Outcome = out
		switch {
		case errors.Is(err, ErrKVMUnusable) && res.Accel == AccelKVM && p.Accel != AccelKVM:
			res.Accel = AccelTCG
			res.AccelNote = fmt.Sprintf("KVM cannot run this kernel here (%v); fell back to TCG, which is slower", err)
			res.Retries = append(res.Retries, err.Error())
			logf(res.AccelNote)
		case errors.Is(err, ErrBootHang) && !hung:
			hung = true
			res.Retries = append(res.Retries, err.Error())
			logf(fmt.Sprintf("boot hung, trying once more: %v", err))
		default:
			return res, err
		}
	}
}

func kvmWritable() error { return KVMUsable("/dev/kvm") }

// KVMUsable says why the KVM device at path cannot be used, or nil. It
// must be a character device: anything else (a FIFO left by a test, a
// plain file) would make QEMU block or fail on it.
func KVMUsable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("%s is not usable (%v)", path, err)
	}
	if fi.Mode()&os.ModeCharDevice == 0 {
		return fmt.Errorf("%s is not usable (not a character device: %v)", path, fi.Mode())
	}
	f, err := os.OpenFile(path, os.O_RDWR|syscall.O_NONBLOCK, 0)
	if err != nil {
		return fmt.Errorf("%s is not usable (%v)", path, err)
	}
	return f.Close()
}
