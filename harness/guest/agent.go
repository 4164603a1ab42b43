// Package guest is the agent that runs as PID 1 inside the VM: it sets up
// the system the kernel booted into, carries out the plan the host put in
// the initramfs, reports every step as a trace event over the events port,
// and powers the VM off.
package guest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"github.com/kernel-harness/harness/harness/text"

	"github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"

	"github.com/kernel-harness/harness/harness/features"
	"github.com/kernel-harness/harness/harness/scenario"
	"github.com/kernel-harness/harness/harness/wire"
)

// Main is the agent's whole life. It never returns: it powers the VM off.
func Main() {
	logf("agent started")
	var out *wire.Writer
	defer func() {
		if r := recover(); r != nil && out != nil {
			out.Emit(wire.Event{Kind: wire.Error, TimeNS: Now(), Message: fmt.Sprintf("agent panic: %v\n%s", r, debug.Stack())})
		}
		powerOff()
	}()
	mountErr := mountAll()
	// Modules first: the events port itself may sit behind one
	// (virtio_mmio on microvm).
	plan, planErr := readPlan(wire.PlanPath)
	var modules []moduleResult
	if planErr == nil && plan.ModulesList != "" {
		modules = loadModules(plan.ModulesList)
	}
	port, err := openPort(wire.EventsPort, 10*time.Second)
	if err != nil {
		logf("%v", err)
		return
	}
	defer port.Close()
	q := newQueue(port, 1<<16)
	out = wire.NewWriter(q)
	defer func() {
		// A panic is said while the queue still takes events.
		if r := recover(); r != nil {
			out.Emit(wire.Event{Kind: wire.Error, TimeNS: Now(), Message: fmt.Sprintf("agent panic: %v\n%s", r, debug.Stack())})
		}
		if err := q.close(2 * time.Minute); err != nil {
			logf("%v", err)
		}
	}()
	a := &agent{out: out}
	if mountErr != nil {
		a.emit(wire.Event{Kind: wire.Log, Message: mountErr.Error()})
	}
	if err := a.run(plan, planErr, modules); err != nil {
		a.emit(wire.Event{Kind: wire.Error, Message: err.Error()})
		return
	}
	a.emit(wire.Event{Kind: wire.Done, OK: true})
}

type agent struct {
	out      *wire.Writer
	features features.Set
	// files is where the host's files (/harness/plan.json, the BPF
	// object) are: "" in the initramfs, the shared folder under vng.
	files string
	// noChildState is the plan's: why the programs give a listener's
	// children no state, when they do not.
	noChildState string
	// stall bounds each wait for a wake-up after a case's last step.
	stall time.Duration
}

// emit stamps and sends an event; a port that fails leaves nothing to
// report to, so the error only goes to the console.
func (a *agent) emit(e wire.Event) {
	if e.TimeNS == 0 {
		e.TimeNS = Now()
	}
	if err := a.out.Emit(e); err != nil {
		logf("%v", err)
	}
}

func (a *agent) run(plan scenario.Plan, planErr error, modules []moduleResult) error {
	var uts unix.Utsname
	_ = unix.Uname(&uts)
	a.emit(wire.Event{Kind: wire.Hello, Release: unix.ByteSliceToString(uts.Release[:])})
	if planErr != nil {
		return planErr
	}
	for _, r := range modules {
		e := wire.Event{Kind: wire.Module, Name: r.name, OK: r.err == nil}
		if r.err != nil {
			e.Message = r.err.Error()
		}
		a.emit(e)
	}
	// Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK. Not
	// cilium/ebpf's rlimit package: its init probes the kernel before
	// this agent has mounted /proc, and caches the failure.
	if err := unix.Setrlimit(unix.RLIMIT_MEMLOCK, &unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY}); err != nil {
		a.emit(wire.Event{Kind: wire.Log, Message: fmt.Sprintf("remove memlock limit: %v", err)})
	}
	// harness selftests: the tree's test_progs in place of our scenarios.
	if sp, ok, err := readSelftests(a.files); ok {
		if err != nil {
			return fmt.Errorf("selftests plan: %w", err)
		}
		return a.runSelftests(sp)
	}

	spec, err := btf.LoadKernelSpec()
	if err != nil {
		a.features = features.Unprobed(fmt.Sprintf("kernel BTF unreadable (%v); the kernel needs CONFIG_DEBUG_INFO_BTF=y", err))
	} else {
		a.features = features.ProbeSpec(spec)
	}
	for _, p := range a.features.Probes {
		a.emit(wire.Event{Kind: wire.Feature, Name: p.Name, OK: p.Value, Value: fmt.Sprint(p.Number), Message: p.Reason})
	}

	tr, trErr := startTracer(spec)
	if trErr != nil {
		a.emit(wire.Event{Kind: wire.Log, Message: trErr.Error()})
	} else {
		defer tr.Close()
	}
	var al *autolowat
	alErr := a.features.Autolowat()
	if alErr == nil {
		al, alErr = loadAutolowat(a.files, a.features)
		if al != nil {
			defer al.Close()
		}
		a.emitBPF(al, alErr)
	}

	timeout := time.Duration(plan.StepTimeoutMS) * time.Millisecond
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	a.noChildState = plan.NoChildState
	a.stall = time.Duration(plan.StallTimeoutMS) * time.Millisecond
	for _, c := range plan.Cases {
		a.runCase(c, tr, trErr, al, alErr, timeout)
	}
	return nil
}

// runCase carries out one case and brackets it with start and end events,
// so the host can tell a case that ran from one that never did.
func (a *agent) runCase(c scenario.Case, tr *tracer, trErr error, al *autolowat, alErr error, timeout time.Duration) {
	id := c.ID()
	a.emit(wire.Event{Kind: wire.ScenarioStart, Scenario: id})
	end := wire.Event{Kind: wire.ScenarioEnd, Scenario: id}
	switch {
	case c.Mode == scenario.Autolowat && errors.Is(alErr, features.ErrNotSupported):
		end.Value = wire.VerdictUnsupported
		end.Message = alErr.Error()
	case c.Mode == scenario.Autolowat && alErr == nil && a.noChildState != "" && c.Scenario.OptInOnListener():
		// Not the kernel's doing: the data comes before accept(), and
		// the programs keep no state that follows a listener's opt-in
		// to its child.
		end.Value = wire.VerdictUnsupported
		end.Message = a.noChildState
	case c.Mode == scenario.Autolowat && alErr != nil:
		// The whole log is in the bpf event, once; each case names the cause.
		end.Value = wire.VerdictError
		end.Message = "the autolowat programs did not load: " + text.FirstLine(alErr.Error()) + " (the verifier's log is in report.json, bpf.log)"
	case trErr != nil:
		end.Value = wire.VerdictError
		end.Message = trErr.Error()
	default:
		r := &caseRun{c: c, emit: a.emit, tr: tr, al: al, timeout: timeout, stall: a.stall}
		if err := inNetns(r.run); err != nil {
			end.Value = wire.VerdictError
			end.Message = err.Error()
		} else {
			end.OK = true
			end.Counters = r.counters
		}
	}
	a.emit(end)
}

// emitBPF tells the host what was loaded, or the loader's whole error.
func (a *agent) emitBPF(al *autolowat, err error) {
	e := wire.Event{Kind: wire.BPF, OK: err == nil}
	if al != nil {
		e.Name, e.Value = al.object, al.summary
	}
	if err != nil {
		e.Message = err.Error()
	}
	a.emit(e)
}

func readPlan(path string) (scenario.Plan, error) {
	var p scenario.Plan
	b, err := os.ReadFile(path)
	if err != nil {
		return p, fmt.Errorf("read plan: %w", err)
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("decode plan %s: %w", path, err)
	}
	return p, nil
}

// Now is CLOCK_MONOTONIC in nanoseconds, the clock of bpf_ktime_get_ns.
func Now() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stdout, "harness-agent: "+format+"\n", args...)
}

func powerOff() {
	unix.Sync()
	// A kernel without ACPI cannot power off: it halts and QEMU stays up.
	// A restart ends QEMU as well, since the host runs it with -no-reboot.
	cmd := unix.LINUX_REBOOT_CMD_POWER_OFF
	if _, err := os.Stat("/sys/firmware/acpi"); err != nil {
		cmd = unix.LINUX_REBOOT_CMD_RESTART
	}
	if err := unix.Reboot(cmd); err != nil {
		logf("power off: %v", err)
	}
	// PID 1 must not exit; the host stops the VM if power-off failed.
	select {}
}
