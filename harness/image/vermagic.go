package image

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"debug/elf"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/kernel-harness/harness/harness/input"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// maxModuleBytes bounds a module read for its vermagic.
const maxModuleBytes = 64 << 20

// ModulesRelease is the kernel release the modules of dir were built for:
// the vermagic of the first module modules.dep lists. Empty when dir has
// no module to tell (a kernel with everything built in).
func ModulesRelease(dir string) (string, error) {
	f, err := input.Open(filepath.Join(dir, "modules.dep"))
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, 16<<20))
	for sc.Scan() {
		rel, _, ok := strings.Cut(sc.Text(), ":")
		if !ok || rel == "" {
			continue
		}
		magic, err := vermagic(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			return "", fmt.Errorf("modules %s: %w", dir, err)
		}
		release, _, _ := strings.Cut(magic, " ")
		return release, nil
	}
	return "", sc.Err()
}

// vermagic reads the vermagic= string of a module's .modinfo, the module
// compressed or not.
func vermagic(path string) (string, error) {
	f, err := input.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var r io.Reader = f
	switch {
	case strings.HasSuffix(path, ".xz"):
		if r, err = xz.NewReader(f); err != nil {
			return "", fmt.Errorf("%s: %w", path, err)
		}
	case strings.HasSuffix(path, ".zst"):
		d, err := zstd.NewReader(f)
		if err != nil {
			return "", fmt.Errorf("%s: %w", path, err)
		}
		defer d.Close()
		r = d
	case strings.HasSuffix(path, ".gz"):
		if r, err = gzip.NewReader(f); err != nil {
			return "", fmt.Errorf("%s: %w", path, err)
		}
	}
	data, err := io.ReadAll(io.LimitReader(r, maxModuleBytes))
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	ef, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	sec := ef.Section(".modinfo")
	if sec == nil {
		return "", fmt.Errorf("%s: no .modinfo section", path)
	}
	info, err := sec.Data()
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	for _, kv := range bytes.Split(info, []byte{0}) {
		if v, ok := bytes.CutPrefix(kv, []byte("vermagic=")); ok {
			return string(v), nil
		}
	}
	return "", fmt.Errorf("%s: no vermagic in .modinfo", path)
}
