package kernel

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kernel-harness/harness/internal/testutil"
)

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
	testutil.WriteFile(t, img, testutil.BzImageOf("6.12.1-test"))
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
	testutil.WriteFile(t, img, testutil.BzImageOf("6.12.2"))
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
		testutil.WriteFile(t, filepath.Join(dir, pkg, "boot", "vmlinuz-"+rel), testutil.BzImageOf(rel))
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

// Modules of another release are refused naming both releases.
func TestFromFileModulesOfAnotherRelease(t *testing.T) {
	img := filepath.Join(t.TempDir(), "bzImage")
	testutil.WriteFile(t, img, testutil.BzImageOf("6.12.2"))
	mods, _ := filepath.Abs(filepath.Join("..", "image", "testdata", "modules-6.12.9"))
	_, err := FromFile(img, mods)
	if err == nil || !strings.Contains(err.Error(), "holds modules of 6.12.9-test, but the kernel is 6.12.2") {
		t.Errorf("%v", err)
	}
}

// A kernel that is not a regular file is refused at once: a FIFO would
// block the open.
func TestFromFileNotRegular(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := FromFile(fifo, ""); err == nil || !strings.Contains(err.Error(), "is a named pipe, not a regular file") {
		t.Errorf("%v", err)
	}
}

func TestCacheDirIgnoresRelative(t *testing.T) {
	t.Setenv("HOME", "/home/u")
	t.Setenv("XDG_CACHE_HOME", "rel/cache")
	if d, err := CacheDir(); err != nil || d != "/home/u/.cache/harness" {
		t.Errorf("relative XDG_CACHE_HOME: %q %v", d, err)
	}
	t.Setenv("XDG_CACHE_HOME", "/abs")
	if d, _ := CacheDir(); d != "/abs/harness" {
		t.Errorf("absolute: %q", d)
	}
}

// A second build of a tree says whom it waits for, and stops waiting when
// told to.
func TestLockWait(t *testing.T) {
	p := filepath.Join(t.TempDir(), "tree.lock")
	unlock, err := LockWait(context.Background(), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	var got []int
	if _, err := LockWait(ctx, p, func(pid int) { got = append(got, pid) }); err == nil {
		t.Fatal("took a held lock")
	}
	if len(got) != 1 || got[0] != os.Getpid() {
		t.Errorf("waiting called with %v, want once with %d", got, os.Getpid())
	}
	unlock()
	unlock2, err := LockWait(context.Background(), p, func(int) { t.Error("waited for a free lock") })
	if err != nil {
		t.Fatal(err)
	}
	unlock2()
}

func TestConfigOf(t *testing.T) {
	dir := t.TempDir()
	// The artifact cache: config beside bzImage.
	write(t, filepath.Join(dir, "art/bzImage"), "k")
	write(t, filepath.Join(dir, "art/config"), "")
	// /boot: config-<release> beside vmlinuz-<release>.
	write(t, filepath.Join(dir, "boot/vmlinuz-6.12.57+deb13-cloud-amd64"), "k")
	write(t, filepath.Join(dir, "boot/config-6.12.57+deb13-cloud-amd64"), "")
	// A build folder: obj/.config for obj/arch/x86/boot/bzImage.
	write(t, filepath.Join(dir, "obj/arch/x86/boot/bzImage"), "k")
	write(t, filepath.Join(dir, "obj/.config"), "")
	// An image alone.
	write(t, filepath.Join(dir, "alone/bzImage"), "k")
	for _, tc := range []struct{ image, release, want string }{
		{"art/bzImage", "6.12.57", "art/config"},
		{"boot/vmlinuz-6.12.57+deb13-cloud-amd64", "", "boot/config-6.12.57+deb13-cloud-amd64"},
		{"boot/vmlinuz-6.12.57+deb13-cloud-amd64", "6.12.57+deb13-cloud-amd64", "boot/config-6.12.57+deb13-cloud-amd64"},
		{"obj/arch/x86/boot/bzImage", "6.12.57", "obj/.config"},
		{"alone/bzImage", "6.12.57", ""},
	} {
		want := tc.want
		if want != "" {
			want = filepath.Join(dir, want)
		}
		if got := ConfigOf(filepath.Join(dir, tc.image), tc.release); got != want {
			t.Errorf("ConfigOf(%s) = %q, want %q", tc.image, got, want)
		}
	}
}

func write(t *testing.T, path, text string) {
	t.Helper()
	testutil.WriteFile(t, path, []byte(text))
}

// A build folder, as vng --run takes one, stands for its image.
func TestFromFileBuildFolder(t *testing.T) {
	tree := t.TempDir()
	if _, err := FromFile(tree, ""); err == nil || !strings.Contains(err.Error(), "without arch/x86/boot/bzImage") {
		t.Fatalf("a folder without an image: %v", err)
	}
	img := filepath.Join(tree, "arch", "x86", "boot", "bzImage")
	testutil.WriteFile(t, img, testutil.BzImageOf("6.12.0-vng"))
	k, err := FromFile(tree, "")
	if err != nil {
		t.Fatal(err)
	}
	if k.Image != img || k.Release != "6.12.0-vng" {
		t.Errorf("got %+v", k)
	}
}
