package run

import (
	"context"
	"errors"
	"io"

	"github.com/kernel-harness/harness/harness/boot"
	"github.com/kernel-harness/harness/harness/image"
	"github.com/kernel-harness/harness/harness/kernel"
	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/wire"
)

// Backends, as --backend names them.
const (
	BackendQEMU = boot.BackendQEMU
	BackendVNG  = boot.BackendVNG
	BackendAuto = boot.BackendAuto
)

// bootIn is what a boot needs, whichever the backend.
type bootIn struct {
	k       kernel.Kernel
	initBin string       // the harness binary
	extra   []image.File // the host's files for the agent (/harness/...)
	work    string       // a scratch folder
	console io.Writer
	onLine  func(string)
	onEvent func(wire.Event, []byte)
	say     func(string, ...any)
	status  func(string)
}

// record puts how the boot went into the report, for every kind of run.
func record(res boot.Result, rep *report.Report) {
	rep.Kernel.Accel, rep.Kernel.AccelNote = res.Accel, res.AccelNote
	rep.Boot = report.Boot{Attempts: res.Attempts, Retries: res.Retries, Machine: res.Machine}
	if res.Outcome != nil {
		rep.Boot.FirstEventS = res.Outcome.FirstEvent.Seconds()
	}
}

// backend is the backend a run boots on, resolved before anything is
// built or booted so that a missing vng is said at once.
type backend struct{ name, why string }

func resolveBackend(o Options) (backend, error) {
	name, why, err := boot.ChooseBackend(o.Backend)
	return backend{name, why}, err
}

// bootKernel boots the kernel on the chosen backend; the run's analysis
// and report are the same for both. setupErr is a failure before
// anything booted, bootErr how the boot ended.
func bootKernel(ctx context.Context, o Options, be backend, in bootIn) (res boot.Result, setupErr, bootErr error) {
	in.say("backend: %s (%s)", be.name, be.why)
	res, err := boot.Run(ctx, boot.Spec{
		Backend: be.name, Kernel: in.k, Agent: in.initBin, Extra: in.extra,
		Work: in.work, Out: o.Out, CPUs: o.CPUs, MemoryMB: o.MemoryMB, Append: o.Append,
		Accel: o.Accel, Deadlines: sameBootDeadlines(o),
		QEMU:    boot.QEMUConfig{Binary: o.QEMU, Machine: o.Machine, EventsPort: wire.EventsPort, Modules: wantedModules},
		Console: in.console, Sinks: boot.Sinks{OnConsoleLine: in.onLine, OnEvent: in.onEvent},
		Say: in.say, Status: in.status,
	})
	var se *boot.SetupError
	if errors.As(err, &se) {
		return res, se.Err, nil
	}
	return res, nil, err
}
