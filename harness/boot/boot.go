// Package boot boots a kernel with the harness's agent and follows the
// guest until it is done, whichever the backend: it chooses the backend
// (QEMU or virtme-ng), the machine and the accelerator, stretches the
// deadlines under TCG, falls back from KVM to TCG when KVM cannot run the
// guest, tries a hung boot once more, and supervises each attempt the
// same way (Supervise). The backends, boot/qemu and boot/vng, only
// start a guest and hand back its events and console lines (package
// driver); they never import boot.
package boot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/kernel-harness/harness/harness/boot/driver"
	"github.com/kernel-harness/harness/harness/boot/qemu"
	"github.com/kernel-harness/harness/harness/boot/vng"
	"github.com/kernel-harness/harness/harness/image"
	"github.com/kernel-harness/harness/harness/kernel"
	"github.com/kernel-harness/harness/harness/text"
	"github.com/kernel-harness/harness/internal/fileutil"
)

// Spec is one boot of a kernel with the agent: what every backend
// takes, then each backend's own part, read only by it.
type Spec struct {
	// Backend is qemu or vng, as ChooseBackend resolved it.
	Backend string
	Kernel  kernel.Kernel
	// Agent is the harness binary, the guest's agent; Extra are the
	// host's files it needs in the guest.
	Agent string
	Extra []image.File
	// Work is a scratch folder (QEMU's sockets and initramfs); Out the
	// output folder (vng shares its vng/ folder with the guest).
	Work, Out      string
	CPUs, MemoryMB int
	Append         []string         // more kernel command-line arguments
	Accel          string           // kvm, tcg or auto
	Deadlines      driver.Deadlines // under KVM; TCG stretches them
	QEMU           QEMUConfig
	VNG            VNGConfig
	// Console receives the guest console as it came.
	Console io.Writer
	Sinks
	// Say gets notes for the user (choices, fallbacks, retries); Status
	// the live status line.
	Say    func(format string, args ...any)
	Status func(string)
}

// QEMUConfig and VNGConfig are the backends' own parts of a Spec, named
// here so that callers need import no backend.
type (
	QEMUConfig = qemu.Config
	VNGConfig  = vng.Config
)

// Result is what a boot did.
type Result struct {
	Outcome   *driver.Outcome
	Machine   string // the QEMU machine, or vng
	Accel     string
	AccelNote string
	Attempts  int
	Retries   []string
}

// SetupError is a failure before anything booted: the initramfs, the
// machine, the shared folder.
type SetupError struct{ Err error }

func (e *SetupError) Error() string { return e.Err.Error() }
func (e *SetupError) Unwrap() error { return e.Err }

// starter starts one attempt with the accelerator given.
type starter func(ctx context.Context, accel string) (driver.Instance, error)

// Run boots s. A failure before anything booted is a *SetupError; any
// other error is how the boot ended.
func Run(ctx context.Context, s Spec) (Result, error) {
	if s.Say == nil {
		s.Say = func(string, ...any) {}
	}
	if s.Status == nil {
		s.Status = func(string) {}
	}
	var (
		start starter
		res   Result
		err   error
	)
	switch s.Backend {
	case BackendVNG:
		start, err = prepareVNG(s)
		res.Machine = "vng"
		s.Status("boot (vng): " + s.Kernel.Release + " ...")
	default:
		start, res.Machine, err = prepareQEMU(s)
		s.Status("boot: " + s.Kernel.Release + " ...")
	}
	if err != nil {
		return res, &SetupError{err}
	}
	return attempts(ctx, s, res, start)
}

// attempts boots until one attempt settles it: under auto KVM where
// /dev/kvm opens, TCG after KVM failed to run the guest, and once more
// after a boot that hung before its first event.
func attempts(ctx context.Context, s Spec, res Result, start starter) (Result, error) {
	switch s.Accel {
	case driver.AccelKVM, driver.AccelTCG:
		res.Accel = s.Accel
	case driver.AccelAuto, "":
		if err := kvmUsable(); err != nil {
			res.Accel, res.AccelNote = driver.AccelTCG, fmt.Sprintf("using TCG: %v", err)
			s.Say("%s: %s", res.Machine, res.AccelNote)
		} else if why := kvmFailedBefore(); why != "" {
			res.Accel, res.AccelNote = driver.AccelTCG, "using TCG: KVM failed an earlier boot of this run ("+why+")"
			s.Say("%s: %s", res.Machine, res.AccelNote)
		} else {
			res.Accel = driver.AccelKVM
		}
	default:
		return res, &SetupError{fmt.Errorf("unknown accelerator %q (want kvm, tcg or auto)", s.Accel)}
	}
	hung := false
	for {
		res.Attempts++
		d := s.Deadlines
		switch {
		case s.Backend == BackendVNG:
			d = vng.Deadlines(d, res.Accel) // vng's own start is slower
		case res.Accel == driver.AccelTCG:
			d = d.ForTCG()
		}
		var err error
		inst, err := start(ctx, res.Accel)
		if err == nil {
			res.Outcome, err = Supervise(ctx, inst, d, s.Sinks)
		} else {
			res.Outcome = &driver.Outcome{}
		}
		auto := res.Accel == driver.AccelKVM && s.Accel != driver.AccelKVM
		switch {
		case errors.Is(err, driver.ErrKVMUnusable) && auto:
			res.Accel = driver.AccelTCG
			res.AccelNote = fmt.Sprintf("KVM cannot run this kernel here (%v); fell back to TCG, which is slower", err)
			res.Retries = append(res.Retries, err.Error())
			s.Say("%s: %s", res.Machine, res.AccelNote)
			rememberKVMFailed(err)
		case errors.Is(err, driver.ErrBootHang) && auto:
			// Nested KVM can stop a guest without a word (seen with
			// microvm: not one console line): under auto, TCG next,
			// rather than the same hang again.
			res.Accel = driver.AccelTCG
			res.AccelNote = fmt.Sprintf("the boot hung under KVM (%v); fell back to TCG, which is slower", err)
			res.Retries = append(res.Retries, err.Error())
			s.Say("%s: %s", res.Machine, res.AccelNote)
			rememberKVMFailed(err)
		case errors.Is(err, driver.ErrBootHang) && res.Accel == driver.AccelTCG && driver.LastLine(res.Outcome.ConsoleTail) == "(nothing)":
			// Not one console line under TCG: the kernel never started (a
			// damaged image, a QEMU that runs nothing). Another boot would
			// hang the same way.
			return res, fmt.Errorf("%w: the kernel printed nothing, so the boot is not tried again; check that %s is a whole x86_64 bzImage (and --qemu, if given, a QEMU)", err, s.Kernel.Image)
		case errors.Is(err, driver.ErrHalted):
			return res, fmt.Errorf("%w: %s is damaged (fetch or build it again)", err, s.Kernel.Image)
		case errors.Is(err, driver.ErrBootHang) && !hung:
			hung = true
			res.Retries = append(res.Retries, err.Error())
			s.Say("%s: boot hung, trying once more: %v", res.Machine, err)
		default:
			return res, err
		}
	}
}

// kvmFailure remembers, for the rest of the process, that KVM failed a
// boot: the later boots of a bisect, a --repeat-boot or a --baseline run
// on the same machine go to TCG at once instead of each losing a boot
// deadline to it.
var kvmFailure struct {
	sync.Mutex
	why string
}

func rememberKVMFailed(err error) {
	kvmFailure.Lock()
	defer kvmFailure.Unlock()
	if kvmFailure.why == "" {
		kvmFailure.why = text.FirstLine(err.Error())
	}
}

func kvmFailedBefore() string {
	kvmFailure.Lock()
	defer kvmFailure.Unlock()
	return kvmFailure.why
}

// kvmUsable is KVMUsable, replaced in tests.
var kvmUsable = KVMUsable

// KVMUsable says why KVM cannot be used here, or nil.
func KVMUsable() error { return deviceUsable("/dev/kvm") }

// deviceUsable says why the KVM device at path cannot be used. It must
// be a character device: anything else in its place (a FIFO left by a
// test, a plain file) would make QEMU block or fail on it.
func deviceUsable(path string) error {
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

// prepareQEMU makes the initramfs and chooses the machine: the harness
// as PID 1, its events over a virtio-serial port.
func prepareQEMU(s Spec) (starter, string, error) {
	initrd := filepath.Join(s.Work, "initramfs.cpio")
	img, err := image.Build(initrd, image.Spec{Init: s.Agent, ModulesDir: s.Kernel.Modules, Modules: s.QEMU.Modules, Extra: s.Extra})
	if err != nil {
		return nil, "", fmt.Errorf("initramfs: %w", err)
	}
	s.Say("initramfs: %d KiB, %d modules", img.Bytes>>10, len(img.Load))
	machine, why, err := ChooseMachine(s.QEMU.Machine, s.Kernel)
	if err != nil {
		return nil, "", err
	}
	s.Say("machine: %s (%s)", machine.Type, why)
	machine.CPUs, machine.MemoryMB = s.CPUs, s.MemoryMB
	return func(ctx context.Context, accel string) (driver.Instance, error) {
		m := machine
		m.Accel = accel
		return qemu.Start(ctx, qemu.Options{QEMU: s.QEMU.Binary, Kernel: s.Kernel.Image, Initrd: initrd, Machine: m, Dir: s.Work,
			Cmdline: s.Append, EventsPortName: s.QEMU.EventsPort, Console: s.Console})
	}, machine.Type, nil
}

// prepareVNG lays out the folder vng shares with the guest: the agent's
// files, the agent itself (the host's binary may sit where the guest
// cannot see it) and its events file.
func prepareVNG(s Spec) (starter, error) {
	// A kernel vng cannot boot is refused before anything is written.
	force9p, more, err := vngFit(s.Kernel, s.Say)
	if err != nil {
		return nil, err
	}
	shared, err := filepath.Abs(filepath.Join(s.Out, "vng"))
	if err != nil {
		return nil, err
	}
	os.RemoveAll(shared)
	for _, f := range s.Extra {
		p := filepath.Join(shared, f.Path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		if err := writeExtra(p, f); err != nil {
			return nil, err
		}
	}
	agent := filepath.Join(shared, "harness-agent")
	if err := fileutil.CopyFileMode(s.Agent, agent, 0o755); err != nil {
		return nil, fmt.Errorf("vng: the agent: %w", err)
	}
	events := filepath.Join(shared, "events.jsonl")
	return func(ctx context.Context, accel string) (driver.Instance, error) {
		return vng.Start(ctx, vng.Options{VNG: s.VNG.Binary, Kernel: vng.KernelArg(s.Kernel.Image), CPUs: s.CPUs, MemoryMB: s.MemoryMB,
			Append: append(more, s.Append...), Accel: accel, RWDir: shared, Force9P: force9p,
			Command: []string{agent, "agent", "--events", events, "--files", shared}},
			events, s.Console)
	}, nil
}

// writeExtra puts a file meant for the initramfs into the shared folder.
func writeExtra(p string, f image.File) error {
	mode := f.Mode
	if f.Source != "" {
		if mode == 0 {
			st, err := os.Stat(f.Source)
			if err != nil {
				return err
			}
			mode = st.Mode().Perm()
		}
		return fileutil.CopyFileMode(f.Source, p, mode)
	}
	if mode == 0 {
		mode = 0o644
	}
	return os.WriteFile(p, f.Data, mode)
}
