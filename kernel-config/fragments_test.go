package kernelconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestProfilesWrite(t *testing.T) {
	tree := t.TempDir()
	frag := filepath.Join(tree, SelftestsFragment)
	if err := os.MkdirAll(filepath.Dir(frag), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(frag, []byte("CONFIG_MPTCP=y\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	versions := map[string]string{}
	for name, names := range Profiles {
		paths, err := Write(name, t.TempDir(), tree)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(paths) != len(names) {
			t.Fatalf("%s: %d paths for %d fragments", name, len(paths), len(names))
		}
		for i, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil || len(b) == 0 {
				t.Errorf("%s: fragment %s: %v (%d bytes)", name, p, err, len(b))
			}
			if strings.HasPrefix(names[i], TreePrefix) && string(b) != "CONFIG_MPTCP=y\n" {
				t.Errorf("%s: %s is not the tree's fragment: %q", name, p, b)
			}
		}
		if v, seen := versions[Version(name)]; seen {
			t.Errorf("profiles %s and %s have the same version", v, name)
		}
		versions[Version(name)] = name
	}
	// Every profile starts from what the harness's guest needs.
	for name, names := range Profiles {
		if names[0] != "harness.config" {
			t.Errorf("profile %s starts with %s", name, names[0])
		}
	}
}

func TestProfileErrors(t *testing.T) {
	if _, err := Write("selftests", t.TempDir(), t.TempDir()); err == nil || !strings.Contains(err.Error(), "takes "+SelftestsFragment+" from the tree") {
		t.Errorf("a tree without the selftests' fragment: %v", err)
	}
	if _, err := Write("nosuch", t.TempDir(), ""); err == nil || !strings.Contains(err.Error(), "debug, minimal, selftests") {
		t.Errorf("unknown profile: %v", err)
	}
}
