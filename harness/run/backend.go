package run

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/kernel-harness/harness/harness/guest"
	"github.com/kernel-harness/harness/harness/image"
	"github.com/kernel-harness/harness/harness/kernel"
	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/trace"
	"github.com/kernel-harness/harness/harness/vm"
	"github.com/kernel-harness/harness/harness/vng"
)

// Backends: how the kernel is booted.
const (
	BackendQEMU = "qemu" // QEMU started by the harness, the agent as PID 1 of an initramfs
	BackendVNG  = "vng"  // virtme-ng, the agent a command in a view of the host's root
	BackendAuto = "auto" // vng when the user's config asks for it and it is installed
)

// BackendEnv overrides the config file's backend.
const BackendEnv = "HARNESS_BACKEND"

// ConfigPath is the user's config file: $XDG_CONFIG_HOME/harness/config,
// else ~/.config/harness/config. Lines are "key = value"; # starts a
// comment. The only key is backend.
func ConfigPath() string {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "harness", "config")
}

// configBackend is the backend the user asked for outside the command
// line ($HARNESS_BACKEND, else the config file), and where it came from.
func configBackend() (string, string, error) {
	if v := os.Getenv(BackendEnv); v != "" {
		return v, "$" + BackendEnv, nil
	}
	p := ConfigPath()
	f, err := os.Open(p)
	if os.IsNotExist(err) || p == "" {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	return parseConfig(f, p)
}

func parseConfig(r io.Reader, name string) (string, string, error) {
	sc := bufio.NewScanner(r)
	backend, n := "", 0
	for sc.Scan() {
		n++
		line, _, _ := strings.Cut(sc.Text(), "#")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return "", "", fmt.Errorf("%s:%d: want key = value, got %q", name, n, line)
		}
		switch k = strings.TrimSpace(k); k {
		case "backend":
			backend = strings.TrimSpace(v)
		default:
			return "", "", fmt.Errorf("%s:%d: unknown key %q (known: backend)", name, n, k)
		}
	}
	return backend, name, sc.Err()
}

// chooseBackend resolves --backend: auto is vng when the config asks for
// it and vng is installed, QEMU otherwise. why says what decided.
func chooseBackend(asked string) (backend, why string, err error) {
	switch asked {
	case BackendQEMU:
		return BackendQEMU, "--backend", nil
	case BackendVNG:
		_, err := vng.Find("")
		return BackendVNG, "--backend", err
	case BackendAuto, "":
	default:
		return "", "", fmt.Errorf("--backend %q: want qemu, vng or auto", asked)
	}
	want, from, err := configBackend()
	if err != nil {
		return "", "", err
	}
	switch want {
	case "", BackendQEMU, BackendAuto:
		return BackendQEMU, "the default", nil
	case BackendVNG:
		if !vng.Installed() {
			return BackendQEMU, from + " asks for vng, which is not installed (pipx install virtme-ng)", nil
		}
		return BackendVNG, from, nil
	}
	return "", "", fmt.Errorf("%s: backend %q: want qemu, vng or auto", from, want)
}

// bootIn is what a boot needs, whichever the backend.
type bootIn struct {
	k       kernel.Kernel
	initBin string       // the harness binary
	extra   []image.File // the host's files for the agent (/harness/...)
	work    string       // a scratch folder
	console io.Writer
	onLine  func(string)
	onEvent func(trace.Event, []byte)
	say     func(string, ...any)
	status  func(string)
}

// bootOut is what a boot did; setupErr is a failure before anything booted.
type bootOut struct {
	res     vm.Result
	machine string
}

// record puts how the boot went into the report, for every kind of run.
func (b bootOut) record(rep *report.Report) {
	rep.Kernel.Accel, rep.Kernel.AccelNote = b.res.Accel, b.res.AccelNote
	rep.Boot = report.Boot{Attempts: b.res.Attempts, Retries: b.res.Retries, Machine: b.machine}
	if b.res.Outcome != nil {
		rep.Boot.FirstEventS = b.res.Outcome.FirstEvent.Seconds()
	}
}

// resolveBackend settles --backend before anything is built or booted,
// so that a missing vng is said at once.
func resolveBackend(o *Options) error {
	if o.backendWhy != "" {
		return nil // resolved already (a run of several boots)
	}
	backend, why, err := chooseBackend(o.Backend)
	if err != nil {
		return err
	}
	o.Backend, o.backendWhy = backend, why
	return vngDefaults(o)
}

// boot boots the kernel on the chosen backend; the run's analysis and
// report are the same for both.
func boot(ctx context.Context, o Options, in bootIn) (out bootOut, setupErr, bootErr error) {
	if err := resolveBackend(&o); err != nil {
		return out, err, nil
	}
	in.say("backend: %s (%s)", o.Backend, o.backendWhy)
	if o.Backend == BackendVNG {
		return bootVNG(ctx, o, in)
	}
	return bootQEMU(ctx, o, in)
}

func bootQEMU(ctx context.Context, o Options, in bootIn) (out bootOut, setupErr, bootErr error) {
	initrd := filepath.Join(in.work, "initramfs.cpio")
	img, err := image.Build(initrd, image.Spec{Init: in.initBin, ModulesDir: in.k.Modules, Modules: wantedModules, Extra: in.extra})
	if err != nil {
		return out, fmt.Errorf("initramfs: %w", err), nil
	}
	in.say("initramfs: %d KiB, %d modules", img.Bytes>>10, len(img.Load))
	machine, why, err := chooseMachine(o.Machine, in.k)
	if err != nil {
		return out, err, nil
	}
	in.say("machine: %s (%s)", machine.Type, why)
	machine.CPUs, machine.MemoryMB = o.CPUs, o.MemoryMB
	in.status("boot: " + in.k.Release + " ...")
	out.machine = machine.Type
	out.res, bootErr = vm.Run(ctx, vm.Plan{
		Options: vm.Options{QEMU: o.QEMU, Kernel: in.k.Image, Initrd: initrd, Machine: machine, Dir: in.work, Cmdline: o.Append,
			EventsPortName: guest.EventsPort, Console: in.console, OnConsoleLine: in.onLine, OnEvent: in.onEvent},
		Accel: o.Accel, Deadlines: sameBootDeadlines(o), Log: func(s string) { in.say("vm: %s", s) },
	})
	return out, nil, bootErr
}

// bootVNG boots through virtme-ng. The agent's files, the agent itself
// (the host's binary may sit where the guest cannot see it) and its
// events file go to a folder of the output folder shared with --rwdir.
func bootVNG(ctx context.Context, o Options, in bootIn) (out bootOut, setupErr, bootErr error) {
	// A kernel vng cannot boot is refused before anything is written.
	force9p, more, err := vngFit(in.k, in.say)
	if err != nil {
		return out, err, nil
	}
	shared, err := filepath.Abs(filepath.Join(o.Out, "vng"))
	if err != nil {
		return out, err, nil
	}
	os.RemoveAll(shared)
	for _, f := range in.extra {
		p := filepath.Join(shared, f.Path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return out, err, nil
		}
		if err := writeExtra(p, f); err != nil {
			return out, err, nil
		}
	}
	agent := filepath.Join(shared, "harness-agent")
	if err := copyFile(in.initBin, agent, 0o755); err != nil {
		return out, fmt.Errorf("vng: the agent: %w", err), nil
	}
	events := filepath.Join(shared, "events.jsonl")
	accel, note := o.Accel, ""
	switch accel {
	case vm.AccelKVM, vm.AccelTCG:
	case vm.AccelAuto, "":
		// vng takes KVM when /dev/kvm opens; say which it will be.
		accel = vm.AccelKVM
		if err := vng.KVMUsable(); err != nil {
			accel, note = vm.AccelTCG, fmt.Sprintf("using TCG: %v", err)
			in.say("vng: %s", note)
		}
	default:
		return out, fmt.Errorf("unknown accelerator %q (want kvm, tcg or auto)", o.Accel), nil
	}
	in.status("boot (vng): " + in.k.Release + " ...")
	out.machine = "vng"
	for {
		out.res.Attempts++
		d := vng.Deadlines(sameBootDeadlines(o), accel)
		out.res.Accel, out.res.AccelNote = accel, note
		out.res.Outcome, bootErr = vng.Run(ctx, vng.Boot{
			Options: vng.Options{Kernel: vng.KernelArg(in.k.Image), CPUs: o.CPUs, MemoryMB: o.MemoryMB, Append: append(more, o.Append...),
				Accel: accel, RWDir: shared, Force9P: force9p, Command: []string{agent, "agent", "--events", events, "--files", shared}},
			EventsFile: events, Deadlines: d,
			Console: in.console, OnConsoleLine: in.onLine, OnEvent: in.onEvent,
		})
		// /dev/kvm opens but KVM cannot run the guest (as QEMU finds on
		// some nested hosts): under auto, once more without KVM.
		if bootErr == nil || accel != vm.AccelKVM || o.Accel == vm.AccelKVM || out.res.Outcome == nil ||
			!vng.KVMFailed(out.res.Outcome.ConsoleTail) {
			return out, nil, bootErr
		}
		out.res.Retries = append(out.res.Retries, bootErr.Error())
		accel, note = vm.AccelTCG, "KVM cannot run this kernel here (vng failed with it); fell back to TCG, which is slower"
		in.say("vng: %s", note)
	}
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
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
		return copyFile(f.Source, p, mode)
	}
	if mode == 0 {
		mode = 0o644
	}
	return os.WriteFile(p, f.Data, mode)
}
