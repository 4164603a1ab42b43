package boot

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/kernel-harness/harness/harness/boot/vng"
	"github.com/kernel-harness/harness/harness/input"
	kernelconfig "github.com/kernel-harness/harness/kernel-config"
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
// comment. The only key is backend. A relative XDG_CONFIG_HOME is
// ignored, as the XDG spec says.
func ConfigPath() string {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" || !filepath.IsAbs(dir) {
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
	if p == "" {
		return "", "", nil
	}
	// Read as a regular file only: a FIFO or a device there must not hang
	// or flood the run.
	raw, err := input.ReadFile(p, 64<<10)
	if errors.Is(err, fs.ErrNotExist) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("config file: %w", err)
	}
	return parseConfig(bytes.NewReader(raw), p)
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

// ChooseBackend resolves --backend: auto is vng when the config asks for
// it and vng is installed, QEMU otherwise. why says what decided.
func ChooseBackend(asked string) (backend, why string, err error) {
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

// CheckPath says why backend cannot take path, given as the option what
// (--out, --kernel), or nil: vng splits some paths, QEMU takes any. It
// keeps callers from importing a backend to check.
func CheckPath(backend, what, path string) error {
	if backend == BackendVNG {
		return vng.SafePath(what, path)
	}
	return nil
}

// CheckPaths is CheckPath for pairs of an option and its path, in order;
// an empty path is left out, a relative one made absolute first.
func CheckPaths(backend string, pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" && pairs[i] != "--out" {
			continue
		}
		abs, err := filepath.Abs(pairs[i+1])
		if err != nil {
			return err
		}
		if err := CheckPath(backend, pairs[i], abs); err != nil {
			return err
		}
	}
	return nil
}

// DefaultProfile is the kernel profile a tree is built with for backend
// when --profile does not say, for a run or for the BPF selftests: one
// vng can boot under vng.
func DefaultProfile(backend string, selftests bool) string {
	switch {
	case selftests && backend == BackendVNG:
		return kernelconfig.SelftestsVNG
	case selftests:
		return "selftests"
	case backend == BackendVNG:
		return kernelconfig.VNG
	}
	return "minimal"
}
