package kernel

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// bzImage makes the smallest file image.KernelRelease accepts.
func bzImage(t *testing.T, path, release string) {
	t.Helper()
	b := make([]byte, 0x400)
	copy(b[0x202:], "HdrS")
	binary.LittleEndian.PutUint16(b[0x20e:], 0x300-0x200)
	copy(b[0x300:], release+" (builder) #1 SMP\x00")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func touch(t *testing.T, path string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

// An unpacked package keeps its modules at ../lib/modules/<release>.
func TestFromFileFindsModulesBeside(t *testing.T) {
	root := t.TempDir()
	img := filepath.Join(root, "boot", "vmlinuz-6.12.1-test")
	bzImage(t, img, "6.12.1-test")
	touch(t, filepath.Join(root, "lib", "modules", "6.12.1-test", "modules.dep"))
	k, err := FromFile(img, "")
	if err != nil {
		t.Fatal(err)
	}
	if k.Release != "6.12.1-test" || k.Modules != filepath.Join(root, "lib", "modules", "6.12.1-test") || k.Source != FromFlag {
		t.Fatalf("%+v", k)
	}
}

func TestFromFileModulesFlag(t *testing.T) {
	root := t.TempDir()
	img := filepath.Join(root, "bzImage")
	bzImage(t, img, "6.12.2")
	if _, err := FromFile(img, root); err == nil || !strings.Contains(err.Error(), "no modules.dep") {
		t.Fatalf("modules folder without modules.dep: %v", err)
	}
	touch(t, filepath.Join(root, "mods", "modules.dep"))
	k, err := FromFile(img, filepath.Join(root, "mods"))
	if err != nil || k.Modules != filepath.Join(root, "mods") {
		t.Fatalf("%+v %v", k, err)
	}
}

func TestFromFileErrors(t *testing.T) {
	if _, err := FromFile("/nonexistent/bzImage", ""); err == nil {
		t.Fatal("missing file accepted")
	}
	notKernel := filepath.Join(t.TempDir(), "x")
	os.WriteFile(notKernel, []byte("hello"), 0o644)
	if _, err := FromFile(notKernel, ""); err == nil || !strings.Contains(err.Error(), notKernel) {
		t.Fatalf("not a kernel: %v", err)
	}
}

// The cache serves the newest kernel it holds, without apt.
func TestCachedPicksNewest(t *testing.T) {
	dir := t.TempDir()
	for _, v := range []string{"6.12.9", "6.12.10"} {
		pkg := "linux-image-" + v + "+deb12-cloud-amd64-unsigned"
		rel := v + "+deb12-cloud-amd64"
		bzImage(t, filepath.Join(dir, pkg, "boot", "vmlinuz-"+rel), rel)
	}
	k, ok := cached(dir)
	if !ok || k.Release != "6.12.10+deb12-cloud-amd64" || k.Source != FromDebian {
		t.Fatalf("%+v %v", k, ok)
	}
	if _, ok := cached(t.TempDir()); ok {
		t.Fatal("empty cache served a kernel")
	}
}

func TestVersionLess(t *testing.T) {
	a := "linux-image-6.12.9+deb12-cloud-amd64-unsigned"
	b := "linux-image-6.12.117+deb12-cloud-amd64-unsigned"
	if !versionLess(a, b) || versionLess(b, a) {
		t.Fatal("6.12.9 must sort before 6.12.117")
	}
}

func TestCacheDir(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "/x/cache")
	if d, _ := CacheDir(); d != "/x/cache/harness" {
		t.Fatalf("CacheDir %q", d)
	}
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "/home/u")
	if d, _ := CacheDir(); d != "/home/u/.cache/harness" {
		t.Fatalf("CacheDir %q", d)
	}
}

// A build folder, as vng --run takes one, stands for its image.
func TestFromFileBuildFolder(t *testing.T) {
	tree := t.TempDir()
	if _, err := FromFile(tree, ""); err == nil || !strings.Contains(err.Error(), "without arch/x86/boot/bzImage") {
		t.Fatalf("a folder without an image: %v", err)
	}
	img := filepath.Join(tree, "arch", "x86", "boot", "bzImage")
	bzImage(t, img, "6.12.0-vng")
	k, err := FromFile(tree, "")
	if err != nil {
		t.Fatal(err)
	}
	if k.Image != img || k.Release != "6.12.0-vng" {
		t.Errorf("got %+v", k)
	}
}
