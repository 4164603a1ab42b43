// Package kernelconfig carries the harness's kernel config fragments inside
// the binary, so that `harness build` works from any folder.
package kernelconfig

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

//go:embed *.config
var files embed.FS

// Profiles name the fragments each --profile uses, in merge order.
var Profiles = map[string][]string{
	"minimal": {"minimal.config"},
	"debug":   {"minimal.config", "debug.config"},
}

// Version is a digest of every fragment: a change to any of them is a
// different build.
func Version() string {
	names, _ := fs.Glob(files, "*.config")
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		b, _ := files.ReadFile(n)
		fmt.Fprintf(h, "%s\n%d\n", n, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Write copies the fragments of a profile into dir and returns their paths.
func Write(profile, dir string) ([]string, error) {
	names, ok := Profiles[profile]
	if !ok {
		return nil, fmt.Errorf("unknown profile %q (want minimal or debug)", profile)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var out []string
	for _, n := range names {
		b, err := files.ReadFile(n)
		if err != nil {
			return nil, err
		}
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}
