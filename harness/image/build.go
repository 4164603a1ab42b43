package image

import (
	"debug/elf"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/kernel-harness/harness/harness/wire"
	"github.com/kernel-harness/harness/internal/fileutil"
)

// Spec describes an initramfs to build.
type Spec struct {
	Init       string   // host path of the static harness binary, put at /init
	ModulesDir string   // /lib/modules/<release> on the host; may be empty
	Modules    []string // module names wanted in the guest
	Extra      []File   // more files, e.g. /harness/plan.json
}

// Result says what Build put in the archive.
type Result struct {
	Load    []string // module paths (relative to ModulesDir) in load order
	Builtin []string // wanted modules that are built into the kernel
	Missing []string // wanted modules found neither as file nor built in
	Bytes   int64    // size of the archive
}

// Guest paths the agent reads modules from.
const (
	GuestModulesDir = "/lib/modules"
	GuestLoadList   = GuestModulesDir + "/load.list"
)

// Build writes the initramfs at path: Init as /init, the module files that
// Spec.Modules need at /lib/modules/<path as in modules.dep>, with
// /lib/modules/load.list naming them in load order, one per line (the guest
// finit_module()s them in that order; .ko.xz/.ko.zst are copied compressed
// and the guest passes MODULE_INIT_COMPRESSED_FILE), and Spec.Extra.
// Missing modules are reported in Result, not as an error: the caller knows
// which ones matter. The file is replaced atomically.
func Build(path string, spec Spec) (Result, error) {
	var res Result
	if spec.Init == "" {
		return res, fmt.Errorf("initramfs: no init binary given")
	}
	if err := checkStatic(spec.Init); err != nil {
		return res, err
	}

	// The modules index is only needed (and only required to be valid)
	// when modules are wanted.
	var mods *Modules
	if spec.ModulesDir != "" && len(spec.Modules) > 0 {
		var err error
		if mods, err = OpenModules(spec.ModulesDir); err != nil {
			return res, err
		}
	}
	res.Load, res.Builtin, res.Missing = mods.Resolve(spec.Modules)

	files := []File{{Path: "/init", Mode: 0o755, Source: spec.Init}}
	var list strings.Builder
	for _, rel := range res.Load {
		files = append(files, File{
			Path:   GuestModulesDir + "/" + rel,
			Mode:   0o644,
			Source: filepath.Join(spec.ModulesDir, filepath.FromSlash(rel)),
		})
		list.WriteString(rel + "\n")
	}
	// Always present, so the guest can tell "nothing to load" from a
	// broken image.
	files = append(files, File{Path: GuestLoadList, Mode: 0o644, Data: []byte(list.String())},
		File{Path: wire.AgentMarker, Mode: 0o644, Data: []byte("the harness binary at /init runs as the guest agent\n")})
	files = append(files, spec.Extra...)

	// Not synced: the archive is a rebuildable artifact, not data to keep
	// across a crash.
	cw := &countWriter{}
	err := fileutil.WriteFrom(path, 0o644, func(w io.Writer) error { cw.w = w; return Write(cw, files) })
	if err != nil {
		return res, fmt.Errorf("initramfs: %w", err)
	}
	res.Bytes = cw.n
	return res, nil
}

// checkStatic refuses an init that needs a dynamic loader: the initramfs
// has no libc, so the kernel would fail to exec it and panic.
func checkStatic(bin string) error {
	fi, err := os.Stat(bin)
	if err != nil {
		return fmt.Errorf("initramfs: init binary: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("initramfs: init binary %s is not a regular file", bin)
	}
	f, err := elf.Open(bin)
	if err != nil {
		return fmt.Errorf("initramfs: init binary %s is not an ELF executable: %w", bin, err)
	}
	defer f.Close()
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return fmt.Errorf("initramfs: init binary %s is an ELF %v, not an executable", bin, f.Type)
	}
	dynamic := false
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			dynamic = true
		}
	}
	// A shared library has no PT_INTERP but still needs others.
	if libs, err := f.DynString(elf.DT_NEEDED); err == nil && len(libs) > 0 {
		dynamic = true
	}
	if dynamic {
		return fmt.Errorf("the harness binary %s is dynamically linked; build it with CGO_ENABLED=0 (make build)", bin)
	}
	return nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
