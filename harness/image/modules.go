package image

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"strings"

	"github.com/kernel-harness/harness/harness/input"
)

// Modules is the module index of one kernel: its modules.dep and
// modules.builtin, with paths relative to Dir (/lib/modules/<release>).
type Modules struct {
	Dir string

	byName  map[string]string   // module name -> relative path of its file
	deps    map[string][]string // relative path -> deps as listed in modules.dep
	builtin map[string]bool     // names of modules built into the kernel
}

// ModuleName normalises a module name, file name or path to the name the
// kernel uses: the base name without .ko/.ko.xz/.ko.zst/.ko.gz, with '-'
// turned into '_' (modprobe treats them as the same character).
func ModuleName(s string) string {
	s = path.Base(strings.TrimSpace(s))
	for _, ext := range []string{".ko.xz", ".ko.zst", ".ko.gz", ".ko"} {
		if strings.HasSuffix(s, ext) {
			s = strings.TrimSuffix(s, ext)
			break
		}
	}
	return strings.ReplaceAll(s, "-", "_")
}

// OpenModules reads <dir>/modules.dep and <dir>/modules.builtin.
// modules.dep is required (it is what depmod produces); modules.builtin may
// be absent, in which case no module counts as built in.
func OpenModules(dir string) (*Modules, error) {
	m := &Modules{
		Dir:     dir,
		byName:  map[string]string{},
		deps:    map[string][]string{},
		builtin: map[string]bool{},
	}

	depPath := filepath.Join(dir, "modules.dep")
	err := eachLine(depPath, func(lineNo int, line string) error {
		mod, rest, ok := strings.Cut(line, ":")
		if !ok {
			return fmt.Errorf("%s:%d: no ':' in %q", depPath, lineNo, line)
		}
		mod = strings.TrimSpace(mod)
		if err := checkRel(mod); err != nil {
			return fmt.Errorf("%s:%d: %w", depPath, lineNo, err)
		}
		deps := strings.Fields(rest)
		for _, d := range deps {
			if err := checkRel(d); err != nil {
				return fmt.Errorf("%s:%d: %w", depPath, lineNo, err)
			}
		}
		// The first line for a name wins, as with modprobe's text lookup.
		name := ModuleName(mod)
		if _, dup := m.byName[name]; !dup {
			m.byName[name] = mod
		}
		m.deps[mod] = deps
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s not found: generate it with depmod for this kernel (depmod -b <root> <release>): %w", depPath, err)
	}
	if err != nil {
		return nil, err
	}

	builtinPath := filepath.Join(dir, "modules.builtin")
	err = eachLine(builtinPath, func(_ int, line string) error {
		m.builtin[ModuleName(line)] = true
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return m, nil
}

// Resolve maps wanted module names to what the guest must do with them.
// load holds the relative paths of the module files to load, each once,
// every module after its dependencies; builtin and missing hold the
// normalised names that are built in or unknown. Empty names are ignored.
// A nil *Modules (no modules directory) reports every name as missing.
func (m *Modules) Resolve(names []string) (load, builtin, missing []string) {
	seen := map[string]bool{}
	state := map[string]int{} // relative path -> 1 visiting, 2 loaded

	// modules.dep lists the full transitive dependencies in the order
	// modprobe removes them, so they load in reverse. Recursing on each
	// dep's own line as well keeps the order right even for a hand-written
	// list that is not transitive.
	var visit func(p string)
	visit = func(p string) {
		if state[p] != 0 {
			return // already loaded, or a cycle (depmod rejects those)
		}
		state[p] = 1
		deps := m.deps[p]
		for i := len(deps) - 1; i >= 0; i-- {
			visit(deps[i])
		}
		state[p] = 2
		load = append(load, p)
	}

	for _, raw := range names {
		name := ModuleName(raw)
		if strings.TrimSpace(raw) == "" || seen[name] {
			continue
		}
		seen[name] = true
		switch {
		case m == nil:
			missing = append(missing, name)
		case m.builtin[name]:
			builtin = append(builtin, name)
		case m.byName[name] != "":
			visit(m.byName[name])
		default:
			missing = append(missing, name)
		}
	}
	return load, builtin, missing
}

// checkRel refuses module paths that would escape the modules directory
// (or the initramfs's /lib/modules once copied there).
func checkRel(p string) error {
	if p == "" || path.IsAbs(p) || path.Clean(p) != p || p == ".." || strings.HasPrefix(p, "../") {
		return fmt.Errorf("module path %q is not a clean relative path", p)
	}
	return nil
}

// eachLine calls fn for every non-blank line of the file.
func eachLine(file string, fn func(lineNo int, line string) error) error {
	f, err := input.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024) // dep lines can be long
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if err := fn(n, line); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}
