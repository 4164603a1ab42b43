package vmlinux

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/cilium/ebpf/btf"
)

// WriteHeader writes dir/vmlinux.h for the kernel in bzImage, with the raw
// BTF beside it (dir/vmlinux.btf), using bpftool as the kernel's own
// selftests do.
func WriteHeader(ctx context.Context, bzImage, dir string) (string, error) {
	raw, err := BTF(bzImage)
	if err != nil {
		return "", err
	}
	// Parse it here first: a clear error beats a bpftool one.
	if _, err := btf.LoadSpecFromReader(bytes.NewReader(raw)); err != nil {
		return "", fmt.Errorf("%s: the kernel's BTF does not parse: %w", bzImage, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	rawPath := filepath.Join(dir, "vmlinux.btf")
	if err := os.WriteFile(rawPath, raw, 0o644); err != nil {
		return "", err
	}
	bpftool, err := exec.LookPath("bpftool")
	if err != nil {
		return "", errors.New("bpftool is needed to write vmlinux.h: apt-get install bpftool (or make deps-bpf)")
	}
	var out, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bpftool, "btf", "dump", "file", rawPath, "format", "c")
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), err, stderr.String())
	}
	header := filepath.Join(dir, "vmlinux.h")
	return header, os.WriteFile(header, out.Bytes(), 0o644)
}
