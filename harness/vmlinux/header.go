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

// Header is a vmlinux.h written for a kernel.
type Header struct {
	Path   string
	Kfuncs Kfuncs
}

// guardEnd ends the include guard of bpftool's vmlinux.h.
const guardEnd = "#endif /* __VMLINUX_H__ */"

// WriteHeader writes dir/vmlinux.h for the kernel in bzImage, with the raw
// BTF beside it (dir/vmlinux.btf), using bpftool as the kernel's own
// selftests do, then the kernel's kfunc prototypes as a newer bpftool
// would (under BPF_NO_KFUNC_PROTOTYPES, as there), leaving out those in
// skip.
func WriteHeader(ctx context.Context, bzImage, dir string, skip map[string]bool) (Header, error) {
	raw, err := BTF(bzImage)
	if err != nil {
		return Header{}, err
	}
	h, err := headerFromBTF(ctx, raw, dir, skip)
	if err != nil {
		return Header{}, fmt.Errorf("%s: %w", bzImage, err)
	}
	return h, nil
}

func headerFromBTF(ctx context.Context, raw []byte, dir string, skip map[string]bool) (Header, error) {
	// Parse it here first: a clear error beats a bpftool one.
	spec, err := btf.LoadSpecFromReader(bytes.NewReader(raw))
	if err != nil {
		return Header{}, fmt.Errorf("the kernel's BTF does not parse: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Header{}, err
	}
	rawPath := filepath.Join(dir, "vmlinux.btf")
	if err := os.WriteFile(rawPath, raw, 0o644); err != nil {
		return Header{}, err
	}
	bpftool, err := exec.LookPath("bpftool")
	if err != nil {
		return Header{}, errors.New("bpftool is needed to write vmlinux.h: apt-get install bpftool (or make deps-bpf)")
	}
	var out, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bpftool, "btf", "dump", "file", rawPath, "format", "c")
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return Header{}, fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), err, stderr.String())
	}
	h := Header{Path: filepath.Join(dir, "vmlinux.h")}
	c := out.String()
	// A bpftool that writes prototypes itself puts them under this guard.
	if !strings.Contains(c, "BPF_NO_KFUNC_PROTOTYPES") {
		if h.Kfuncs, err = Prototypes(spec, skip); err != nil {
			return Header{}, fmt.Errorf("kfunc prototypes: %w", err)
		}
		c = withPrototypes(c, h.Kfuncs)
	}
	return h, os.WriteFile(h.Path, []byte(c), 0o644)
}

// withPrototypes puts the prototypes inside the header's include guard,
// after the types they use.
func withPrototypes(c string, k Kfuncs) string {
	if k.C == "" {
		return c
	}
	block := "\n#ifndef BPF_NO_KFUNC_PROTOTYPES\n/* kfuncs, written by the harness from the kernel's BTF: " + k.From + " */\n" +
		k.C + "\n#endif /* BPF_NO_KFUNC_PROTOTYPES */\n\n"
	if i := strings.LastIndex(c, guardEnd); i >= 0 {
		return c[:i] + block + c[i:]
	}
	return c + block
}

// WriteHeaderOf writes dir/vmlinux.h from the raw BTF with bpftool (the
// tree's, as its selftests build it), adding prototypes for exactly the
// kfuncs named: what a selftests build passes as VMLINUX_H when the
// kernel's BTF declares no kfuncs. The file is left as it is when it
// would not change, so that make rebuilds nothing for it; changed says
// whether it did.
func WriteHeaderOf(ctx context.Context, raw []byte, dir, bpftool string, names []string) (h Header, changed bool, err error) {
	spec, err := btf.LoadSpecFromReader(bytes.NewReader(raw))
	if err != nil {
		return Header{}, false, fmt.Errorf("the kernel's BTF does not parse: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Header{}, false, err
	}
	rawPath := filepath.Join(dir, "vmlinux.btf")
	if err := os.WriteFile(rawPath, raw, 0o644); err != nil {
		return Header{}, false, err
	}
	var out, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bpftool, "btf", "dump", "file", rawPath, "format", "c")
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return Header{}, false, fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), err, stderr.String())
	}
	only := map[string]bool{}
	for _, n := range names {
		only[n] = true
	}
	h = Header{Path: filepath.Join(dir, "vmlinux.h")}
	if h.Kfuncs, err = PrototypesOf(spec, only); err != nil {
		return Header{}, false, fmt.Errorf("kfunc prototypes: %w", err)
	}
	c := []byte(withPrototypes(out.String(), h.Kfuncs))
	if old, err := os.ReadFile(h.Path); err == nil && bytes.Equal(old, c) {
		return h, false, nil
	}
	return h, true, os.WriteFile(h.Path, c, 0o644)
}
