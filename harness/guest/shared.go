package guest

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/kernel-harness/harness/harness/wire"
)

// MainShared is the agent run as a command in a guest that has its own
// init (virtme-ng): events go to a file in a folder the host shares with
// the guest, the host's files are read from under files, and the agent
// returns instead of powering off, since it is not PID 1. The guest init
// has mounted /proc, /sys and /dev; only what is missing is mounted.
func MainShared(eventsFile, files string) (err error) {
	f, err := os.OpenFile(eventsFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("events file: %w", err)
	}
	defer f.Close()
	out := wire.NewWriter(f)
	a := &agent{out: out, files: files}
	defer func() {
		if r := recover(); r != nil {
			a.emit(wire.Event{Kind: wire.Error, Message: fmt.Sprintf("agent panic: %v\n%s", r, debug.Stack())})
			err = fmt.Errorf("agent panic: %v", r)
		}
	}()
	if err := mountMissing(); err != nil {
		a.emit(wire.Event{Kind: wire.Log, Message: err.Error()})
	}
	// Modules are vng's business: it gives the guest the kernel's own.
	plan, planErr := readPlan(filepath.Join(files, wire.PlanPath))
	if err := a.run(plan, planErr, nil); err != nil {
		a.emit(wire.Event{Kind: wire.Error, Message: err.Error()})
		return err
	}
	a.emit(wire.Event{Kind: wire.Done, OK: true})
	return f.Sync()
}

// mountMissing mounts the file systems of mountAll that are not mounted
// yet, leaving the guest init's own alone.
func mountMissing() error {
	mounted, err := mountPoints()
	if err != nil {
		return err
	}
	return mountExcept(mounted)
}

func mountPoints() (map[string]bool, error) {
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		return nil, fmt.Errorf("list mounts: %w", err)
	}
	defer f.Close()
	out := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) > 1 {
			out[fields[1]] = true
		}
	}
	return out, sc.Err()
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
