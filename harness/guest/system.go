package guest

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// mountTable is what the agent needs mounted.
var mountTable = []struct{ src, dst, fstype string }{
	{"proc", "/proc", "proc"},
	{"sysfs", "/sys", "sysfs"},
	{"devtmpfs", "/dev", "devtmpfs"},
	{"tmpfs", "/tmp", "tmpfs"},
	{"tmpfs", "/run", "tmpfs"},
	{"cgroup2", "/sys/fs/cgroup", "cgroup2"},
	{"bpf", "/sys/fs/bpf", "bpf"},
	{"tracefs", "/sys/kernel/tracing", "tracefs"},
}

// mountAll mounts what the agent needs; each failure is named and the rest
// still mounted, since a missing tracefs should not cost us /proc.
func mountAll() error { return mountExcept(nil) }

// mountExcept mounts the table's file systems but those in skip.
func mountExcept(skip map[string]bool) error {
	var errs []error
	for _, m := range mountTable {
		if skip[m.dst] {
			continue
		}
		if err := os.MkdirAll(m.dst, 0o755); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := unix.Mount(m.src, m.dst, m.fstype, 0, ""); err != nil && !errors.Is(err, unix.EBUSY) {
			errs = append(errs, fmt.Errorf("mount %s on %s: %w", m.fstype, m.dst, err))
		}
	}
	return errors.Join(errs...)
}

// openPort finds a virtio-serial port by name through sysfs (there is no
// udev to make /dev/virtio-ports links) and opens it for writing.
func openPort(name string, wait time.Duration) (*os.File, error) {
	deadline := time.Now().Add(wait)
	for {
		dirs, _ := filepath.Glob("/sys/class/virtio-ports/*")
		for _, d := range dirs {
			b, err := os.ReadFile(filepath.Join(d, "name"))
			if err == nil && strings.TrimSpace(string(b)) == name {
				return os.OpenFile(filepath.Join("/dev", filepath.Base(d)), os.O_WRONLY, 0)
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no virtio-serial port named %s after %v: is CONFIG_VIRTIO_CONSOLE set?", name, wait)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type moduleResult struct {
	name string
	err  error
}

// moduleInitCompressedFile asks the kernel to decompress the module itself
// (CONFIG_MODULE_DECOMPRESS), so the initramfs carries modules as shipped.
const moduleInitCompressedFile = 4

// loadModules loads the modules listed in load order in list, each from
// /lib/modules; a module already present is not an error.
func loadModules(list string) []moduleResult {
	f, err := os.Open(list)
	if err != nil {
		return []moduleResult{{name: list, err: err}}
	}
	defer f.Close()
	var out []moduleResult
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rel := strings.TrimSpace(sc.Text())
		if rel == "" {
			continue
		}
		out = append(out, moduleResult{name: rel, err: loadModule(filepath.Join("/lib/modules", rel))})
	}
	return out
}

func loadModule(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	flags := 0
	if ext := filepath.Ext(path); ext == ".xz" || ext == ".zst" || ext == ".gz" {
		flags = moduleInitCompressedFile
	}
	if err := unix.FinitModule(int(f.Fd()), "", flags); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("finit_module %s: %w", path, err)
	}
	return nil
}
