// Package cleanup keeps what a harness process must not leave behind when
// it ends early: its temporary folders and the process groups it started
// (QEMU, vng). The normal paths clean up with defers; Now is for the
// paths that skip them (a second Ctrl-C exits at once), and a folder left
// by a killed harness is removed by the next harness that makes one.
package cleanup

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// lockName is the file a live temporary folder holds locked.
const lockName = ".harness-owner.lock"

var (
	mu     sync.Mutex
	dirs   = map[string]*os.File{} // folder -> its locked owner file
	groups = map[int]bool{}        // process group IDs
)

// TempDir makes a temporary folder in $TMPDIR, as os.MkdirTemp, that
// stays locked while this process lives; remove deletes it. Folders of
// the same pattern whose owner died (SIGKILL skips every defer) are
// removed first.
func TempDir(pattern string) (dir string, remove func(), err error) {
	Sweep(os.TempDir(), pattern)
	dir, err = os.MkdirTemp("", pattern)
	if err != nil {
		return "", nil, err
	}
	// Locked under another name and then renamed, so that a sweeping
	// harness never finds the lock file unlocked.
	tmp := filepath.Join(dir, ".owner-new")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_RDWR|syscall.O_CLOEXEC, 0o600)
	if err == nil {
		if err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err == nil {
			err = os.Rename(tmp, filepath.Join(dir, lockName))
		}
		if err != nil {
			f.Close()
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	mu.Lock()
	dirs[dir] = f
	mu.Unlock()
	return dir, func() {
		mu.Lock()
		defer mu.Unlock()
		if f, ok := dirs[dir]; ok {
			os.RemoveAll(dir)
			f.Close()
			delete(dirs, dir)
		}
	}, nil
}

// Sweep removes the folders of parent named pattern (os.MkdirTemp's
// pattern) whose owner is gone: they hold an owner file nobody locks.
// Folders without one are not the harness's to remove.
func Sweep(parent, pattern string) {
	prefix, _, _ := strings.Cut(pattern, "*")
	ents, _ := os.ReadDir(parent)
	for _, e := range ents {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		dir := filepath.Join(parent, e.Name())
		f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|syscall.O_CLOEXEC|syscall.O_NOFOLLOW, 0)
		if err != nil {
			continue
		}
		if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil {
			os.RemoveAll(dir)
		}
		f.Close()
	}
}

// SysProcAttr is for a child that must not outlive the harness: a process
// group of its own (a terminal's Ctrl-C reaches the harness alone, which
// stops the child in order, and a kill reaches the child's children), and
// SIGKILL when the harness dies. The kernel sends that signal when the
// thread that started the child exits; Go only ends threads of
// goroutines that exit while locked to them, which no starter does.
func SysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// Group registers the process group a child leads (started with
// SysProcAttr); forget is for when it has exited.
func Group(pid int) (forget func()) {
	mu.Lock()
	groups[pid] = true
	mu.Unlock()
	return func() {
		mu.Lock()
		delete(groups, pid)
		mu.Unlock()
	}
}

// Now kills every registered process group and removes every registered
// folder: what a process that exits at once must still do.
func Now() {
	mu.Lock()
	defer mu.Unlock()
	for pgid := range groups {
		syscall.Kill(-pgid, syscall.SIGKILL)
	}
	for dir, f := range dirs {
		os.RemoveAll(dir)
		f.Close()
	}
	groups, dirs = map[int]bool{}, map[string]*os.File{}
}
