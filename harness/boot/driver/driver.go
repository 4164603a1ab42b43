// Package driver is the contract between the boot supervisor (package
// boot) and the backends that start a guest: boot/qemu, which starts
// QEMU, and boot/vng, which starts virtme-ng. A backend starts one
// attempt and hands back the guest's events and console lines as an
// Instance; deadlines, panics, retries and the accelerator's fallback
// are the supervisor's. It imports no backend.
package driver

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"github.com/kernel-harness/harness/harness/wire"
)

// Errors a boot can end in. Each is wrapped with what was seen.
var (
	ErrKVMUnusable = errors.New("kvm unusable")
	ErrBootHang    = errors.New("guest sent nothing before the boot deadline")
	ErrSilent      = errors.New("guest fell silent")
	ErrNoDone      = errors.New("guest ended without a done event")
	ErrDeadline    = errors.New("run deadline passed")
	// ErrPanic is a kernel panic seen on the console: nothing more will
	// come, whatever the kernel's panic= says, so the boot ends at once.
	ErrPanic = errors.New("kernel panic")
	// ErrHalted is the kernel's decompressor giving up on its image
	// (" -- System halted"): it halts the CPU, so nothing else comes.
	ErrHalted = errors.New("the kernel's decompressor halted")
	// ErrNoConnect is a backend's process that never connected to the
	// sockets it was given: not the emulator it should be, or stuck
	// before the guest could run.
	ErrNoConnect = errors.New("the emulator never connected")
)

// HaltedLine is how the x86 decompressor ends its error message, with
// no newline after it (arch/x86/boot/compressed/misc.c, error()).
const HaltedLine = "-- System halted"

// Accelerators.
const (
	AccelKVM  = "kvm"
	AccelTCG  = "tcg"
	AccelAuto = "auto"
)

// Event is one event line from the guest, or the error that ended the
// stream.
type Event struct {
	E   wire.Event
	Raw []byte
	Err error
}

// Instance is a guest a backend started, as each backend's own type.
// The supervisor reads Events and Lines until Exited is closed, then
// asks Ended why; it calls Stop once, whatever state the guest is in.
type Instance interface {
	// Started is when the backend's process started: the boot deadline
	// runs from it.
	Started() time.Time
	// Events carries the guest's events; it is closed when the stream
	// ends (the guest closed it, or the process is gone and every line
	// was read).
	Events() <-chan Event
	// Lines carries the console's lines; closed when the console ends.
	Lines() <-chan string
	// Exited is closed when the backend's process is gone.
	Exited() <-chan struct{}
	// Ended says why the process ended without a done event, once Exited
	// is closed: an error wrapping ErrKVMUnusable when KVM could not run
	// the guest, else what the backend printed. tail is the console's
	// last lines; early says no event ever came.
	Ended(tail []string, early bool) error
	// Stop ends the process and frees what the attempt held.
	Stop() error
	// Finish adds the backend's own facts to the outcome.
	Finish(*Outcome)
	// Command is what the backend ran, when its errors need it said.
	Command() Command
}

// Command is a backend's command line, added to every error of the
// attempt: vng's messages do not say what vng was asked. The zero
// Command adds nothing.
type Command struct {
	Name string // the backend, as the user calls it: vng
	Line string // the binary and its arguments, quoted for a shell
}

// String is the line added to errors, or "" for no command.
func (c Command) String() string {
	if c.Line == "" {
		return ""
	}
	return c.Name + " command: " + c.Line
}

// Outcome is how one boot ended.
type Outcome struct {
	FirstEvent time.Duration
	Duration   time.Duration
	Done       bool
	QMPEvents  []string
	// Stderr is what QEMU printed on its standard error.
	Stderr string
	// ConsoleTail holds the last console lines, for error messages.
	ConsoleTail []string
}

// Deadlines for a boot under KVM; TCG gets TCGStretch times each.
type Deadlines struct {
	Boot, Idle, Run time.Duration
	// Stretch is the factor TCG applied (0: none), for the messages.
	Stretch int
}

// TCGStretch is how much longer every deadline is under TCG, which
// emulates each instruction.
const TCGStretch = 4

// ForTCG is d stretched for TCG.
func (d Deadlines) ForTCG() Deadlines {
	return Deadlines{Boot: Times(d.Boot, TCGStretch), Idle: Times(d.Idle, TCGStretch), Run: Times(d.Run, TCGStretch), Stretch: TCGStretch}
}

// Times is d times n, saturating at the longest duration instead of
// turning negative.
func Times(d time.Duration, n int) time.Duration {
	if n > 0 && d > math.MaxInt64/time.Duration(n) {
		return math.MaxInt64
	}
	return d * time.Duration(n)
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

// Interrupted is the error of a boot stopped by ctx: its cause (such as
// the signal) when it has one.
func Interrupted(ctx context.Context) error {
	if c := context.Cause(ctx); c != nil && c != ctx.Err() {
		return c
	}
	return fmt.Errorf("interrupted: %w", ctx.Err())
}

// LastLine is the last line of the console that says something, quoted,
// for messages.
func LastLine(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		if s := strings.TrimSpace(lines[i]); s != "" {
			return fmt.Sprintf("%q", s)
		}
	}
	return "(nothing)"
}

// ExitText says how a process ended, for messages.
func ExitText(err error) string {
	if err == nil {
		return "status 0"
	}
	return err.Error()
}

// kvmErrors are QEMU's words when KVM opens but cannot run the guest
// (as on some nested hosts), or cannot be opened at all.
var kvmErrors = regexp.MustCompile(`KVM internal error|failed to set MSR|kvm_buf_set_msrs|Could not access KVM kernel module|failed to initialize kvm|KVM_CREATE_VM|kvm: .*(error|failed)`)

// KVMFailure says whether what QEMU printed shows it failing with KVM.
func KVMFailure(text string) bool { return kvmErrors.MatchString(text) }
