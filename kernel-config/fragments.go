// Package kernelconfig carries the harness's kernel config fragments inside
// the binary, so that `harness build` works from any folder.
package kernelconfig

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

//go:embed *.config
var files embed.FS

// Profiles name the fragments each --profile uses, in merge order. A
// name starting with TreePrefix is a fragment of the kernel tree itself,
// read from the worktree with the series applied, so that a series that
// changes it is built with its own version.
var Profiles = map[string][]string{
	"minimal":   {"harness.config", "minimal.config"},
	"debug":     {"harness.config", "minimal.config", "debug.config"},
	"selftests": {"harness.config", TreePrefix + SelftestsFragment, "selftests.config"},
	// What virtme-ng needs on top of minimal's; --backend vng's default.
	VNG: {"harness.config", "minimal.config", "vng.config"},
	// The selftests' kernel, with what virtme-ng needs: harness
	// selftests' default under --backend vng.
	SelftestsVNG: {"harness.config", TreePrefix + SelftestsFragment, "selftests.config", "vng.config"},
}

// VNG is the profile whose kernels virtme-ng boots; SelftestsVNG the
// selftests profile's kernel vng boots.
const (
	VNG          = "vng"
	SelftestsVNG = "selftests-vng"
)

// TreePrefix marks a profile's fragment that lives in the kernel tree.
const TreePrefix = "tree:"

// SelftestsFragment is the BPF selftests' list of the options they are
// built and run against.
const SelftestsFragment = "tools/testing/selftests/bpf/config"

// Names lists the profiles, for messages.
func Names() string {
	var names []string
	for n := range Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// Version is a digest of a profile's own fragments: a change to one of
// them is a different build of that profile only. A tree's fragment is
// not in it; the .config it gives is part of the build's key.
func Version(profile string) string {
	h := sha256.New()
	for _, n := range Profiles[profile] {
		b, _ := files.ReadFile(n)
		fmt.Fprintf(h, "%s\n%d\n", n, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Write copies the fragments of a profile into dir, those of the tree
// from tree, and returns their paths in merge order.
func Write(profile, dir, tree string) ([]string, error) {
	names, ok := Profiles[profile]
	if !ok {
		return nil, fmt.Errorf("unknown profile %q (want %s)", profile, Names())
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var out []string
	for _, n := range names {
		var b []byte
		var err error
		if rel, ok := strings.CutPrefix(n, TreePrefix); ok {
			if b, err = os.ReadFile(filepath.Join(tree, rel)); err != nil {
				return nil, fmt.Errorf("profile %s takes %s from the tree: %w", profile, rel, err)
			}
			n = "tree-" + strings.ReplaceAll(rel, "/", "-")
		} else if b, err = files.ReadFile(n); err != nil {
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
