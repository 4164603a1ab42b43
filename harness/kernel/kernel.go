// Package kernel finds the kernel a run boots: the one the user named, the
// host's own, or Debian's prebuilt cloud kernel fetched into the cache.
package kernel

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/kernel-harness/harness/harness/image"
	"github.com/kernel-harness/harness/harness/input"
)

// Sources of a kernel, as report.json names them.
const (
	FromFlag   = "flag"
	FromHost   = "host"
	FromDebian = "debian"
)

// Kernel is a bootable image and, when it has any, its modules.
type Kernel struct {
	Image   string
	Modules string // lib/modules/<release>, or empty
	Release string
	Source  string
}

// CacheDir is where the harness keeps what it downloads and builds:
// $XDG_CACHE_HOME/harness or ~/.cache/harness. A relative XDG_CACHE_HOME
// is ignored, as the XDG spec says: it would move with the working folder.
func CacheDir() (string, error) {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "harness"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no cache folder: set XDG_CACHE_HOME or HOME: %w", err)
	}
	return filepath.Join(home, ".cache", "harness"), nil
}

// FromFile describes a kernel image the user gave, or the image of a
// kernel build folder, finding its modules beside it (an unpacked
// package's lib/modules) when modules is empty.
func FromFile(path, modules string) (Kernel, error) {
	st, err := os.Stat(path)
	if err != nil {
		return Kernel{}, fmt.Errorf("kernel %s: %w", path, err)
	}
	if st.IsDir() {
		// A build folder, as vng --run takes one: its image, and its
		// .config found beside it as for any build folder's image.
		img := filepath.Join(path, "arch", "x86", "boot", "bzImage")
		if _, err := os.Stat(img); err != nil {
			return Kernel{}, fmt.Errorf("kernel %s: a folder without arch/x86/boot/bzImage: build it first (make, or vng --build), or name the image", path)
		}
		path = img
	}
	// Only a regular file: a FIFO would block the read.
	if err := input.Regular(path); err != nil {
		return Kernel{}, fmt.Errorf("kernel: %w", err)
	}
	rel, err := image.KernelRelease(path)
	if err != nil {
		return Kernel{}, fmt.Errorf("kernel %s: %w", path, err)
	}
	k := Kernel{Image: path, Release: rel, Source: FromFlag, Modules: modules}
	if modules != "" {
		if _, err := os.Stat(filepath.Join(modules, "modules.dep")); err != nil {
			return Kernel{}, fmt.Errorf("modules %s: no modules.dep (run depmod, or point --modules at lib/modules/%s): %w", modules, rel, err)
		}
		// Modules of another build do not load, and the guest would only
		// say that a module such as tun is missing.
		mrel, err := image.ModulesRelease(modules)
		if err != nil {
			return Kernel{}, err
		}
		if mrel != "" && mrel != rel {
			return Kernel{}, fmt.Errorf("--modules %s holds modules of %s, but the kernel is %s: point --modules at lib/modules/%s of the same build", modules, mrel, rel, rel)
		}
		return k, nil
	}
	for _, dir := range []string{
		filepath.Join(filepath.Dir(path), "..", "lib", "modules", rel),
		filepath.Join(filepath.Dir(path), "lib", "modules", rel),
		filepath.Join("/lib/modules", rel),
	} {
		if _, err := os.Stat(filepath.Join(dir, "modules.dep")); err == nil {
			k.Modules = filepath.Clean(dir)
			break
		}
	}
	return k, nil
}

// Default picks the kernel of a run that named none: the host's own when
// it can be read, else Debian's 6.12 cloud kernel from the cache, fetched
// with apt-get download and unpacked with dpkg -x (never installed).
func Default(cache string, log func(string)) (Kernel, error) {
	var uts unix.Utsname
	if err := unix.Uname(&uts); err == nil {
		rel := unix.ByteSliceToString(uts.Release[:])
		img := "/boot/vmlinuz-" + rel
		if f, err := input.Open(img); err == nil {
			f.Close()
			k, err := FromFile(img, "")
			if err == nil {
				k.Source = FromHost
				return k, nil
			}
			log(fmt.Sprintf("host kernel %s not usable (%v); using Debian's cloud kernel", img, err))
		}
	}
	return Debian(cache, log)
}

// debianPackage matches Debian's unsigned 6.12 cloud kernel packages.
var debianPackage = regexp.MustCompile(`^linux-image-(6\.12\.\d+)\+deb\d+-cloud-amd64-unsigned$`)

// Debian returns Debian's 6.12 cloud kernel, from the cache when one was
// fetched before, else the newest the package lists offer.
func Debian(cache string, log func(string)) (Kernel, error) {
	dir := filepath.Join(cache, "kernels")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Kernel{}, err
	}
	unlock, err := Lock(filepath.Join(dir, ".lock"))
	if err != nil {
		return Kernel{}, err
	}
	defer unlock()
	if k, ok := cached(dir); ok {
		return k, nil
	}
	pkg, err := newestPackage()
	if err != nil {
		return Kernel{}, err
	}
	log(fmt.Sprintf("fetching %s with apt-get download into %s", pkg, dir))
	tmp, err := os.MkdirTemp(dir, ".fetch-")
	if err != nil {
		return Kernel{}, err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command("apt-get", "download", pkg)
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		return Kernel{}, fmt.Errorf("apt-get download %s: %w: %s", pkg, err, strings.TrimSpace(string(out)))
	}
	debs, _ := filepath.Glob(filepath.Join(tmp, "*.deb"))
	if len(debs) != 1 {
		return Kernel{}, fmt.Errorf("apt-get download %s left %d .deb files", pkg, len(debs))
	}
	root := filepath.Join(tmp, "root")
	if out, err := exec.Command("dpkg-deb", "-x", debs[0], root).CombinedOutput(); err != nil {
		return Kernel{}, fmt.Errorf("dpkg-deb -x %s: %w: %s", debs[0], err, strings.TrimSpace(string(out)))
	}
	if err := depmod(root); err != nil {
		return Kernel{}, err
	}
	if err := os.Rename(root, filepath.Join(dir, pkg)); err != nil {
		return Kernel{}, err
	}
	k, ok := cached(dir)
	if !ok {
		return Kernel{}, fmt.Errorf("%s has no boot/vmlinuz-* after unpacking", pkg)
	}
	return k, nil
}

// cached returns the newest unpacked Debian kernel in dir.
func cached(dir string) (Kernel, bool) {
	imgs, _ := filepath.Glob(filepath.Join(dir, "linux-image-*", "boot", "vmlinuz-*"))
	pkg := func(img string) string { return filepath.Base(filepath.Dir(filepath.Dir(img))) }
	sort.Slice(imgs, func(i, j int) bool { return versionLess(pkg(imgs[i]), pkg(imgs[j])) })
	for i := len(imgs) - 1; i >= 0; i-- {
		k, err := FromFile(imgs[i], "")
		if err == nil {
			k.Source = FromDebian
			return k, true
		}
	}
	return Kernel{}, false
}

func newestPackage() (string, error) {
	out, err := exec.Command("apt-cache", "search", "--names-only", `^linux-image-6\.12\..*-cloud-amd64-unsigned$`).Output()
	if err != nil {
		return "", fmt.Errorf("apt-cache search: %w (is this a Debian machine?)", err)
	}
	var names []string
	for _, line := range strings.Split(string(out), "\n") {
		name, _, _ := strings.Cut(line, " ")
		if debianPackage.MatchString(name) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return "", errors.New("no linux-image-6.12.*-cloud-amd64-unsigned in the package lists: run apt-get update, or pass --kernel")
	}
	sort.Slice(names, func(i, j int) bool { return versionLess(names[i], names[j]) })
	return names[len(names)-1], nil
}

// versionLess orders package names by their 6.12.N patch level; names
// of another form sort first, by name.
func versionLess(a, b string) bool {
	pa, pb := debianPackage.FindStringSubmatch(a), debianPackage.FindStringSubmatch(b)
	if pa == nil || pb == nil {
		return pa == nil && (pb != nil || a < b)
	}
	var na, nb int
	fmt.Sscanf(strings.TrimPrefix(pa[1], "6.12."), "%d", &na)
	fmt.Sscanf(strings.TrimPrefix(pb[1], "6.12."), "%d", &nb)
	return na < nb
}

// Lock takes an exclusive lock on path, so that concurrent runs sharing a
// cache do not fetch or build the same thing at once.
func Lock(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { unix.Flock(int(f.Fd()), unix.LOCK_UN); f.Close() }, nil
}

// LockWait is Lock for a wait that may be long (another build of the
// same tree): when the lock is taken it calls waiting with the holder's
// pid (0 when unknown) once, then waits until it is free or ctx ends.
// The holder's pid is written into the file.
func LockWait(ctx context.Context, path string, waiting func(pid int)) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	told := false
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if !told && waiting != nil {
			told = true
			b := make([]byte, 32)
			n, _ := f.ReadAt(b, 0)
			pid, _ := strconv.Atoi(strings.TrimSpace(string(b[:n])))
			waiting(pid)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for %s: %w", path, context.Cause(ctx))
		case <-time.After(250 * time.Millisecond):
		}
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() { unix.Flock(int(f.Fd()), unix.LOCK_UN); f.Close() }, nil
}

// depmod writes modules.dep for each kernel under root: the package ships
// none, because installing it would run depmod.
func depmod(root string) error {
	rels, _ := filepath.Glob(filepath.Join(root, "lib", "modules", "*"))
	for _, dir := range rels {
		bin, err := exec.LookPath("depmod")
		if err != nil {
			if _, serr := os.Stat("/sbin/depmod"); serr != nil {
				return errors.New("depmod not found: install it with: apt-get install kmod")
			}
			bin = "/sbin/depmod"
		}
		if out, err := exec.Command(bin, "-b", root, filepath.Base(dir)).CombinedOutput(); err != nil {
			return fmt.Errorf("depmod for %s: %w: %s", filepath.Base(dir), err, strings.TrimSpace(string(out)))
		}
	}
	return nil
}

// ConfigOf finds the .config of a kernel image, or returns "": a file
// named config beside it (the artifact cache), config-<release> beside it
// (/boot, an unpacked Debian package), or the .config of the build folder
// that made it (obj/arch/x86/boot/bzImage).
func ConfigOf(image, release string) string {
	dir := filepath.Dir(image)
	cands := []string{filepath.Join(dir, "config")}
	if release != "" {
		cands = append(cands, filepath.Join(dir, "config-"+release))
	}
	if v, ok := strings.CutPrefix(filepath.Base(image), "vmlinuz-"); ok {
		cands = append(cands, filepath.Join(dir, "config-"+v))
	}
	if filepath.Base(dir) == "boot" && filepath.Base(filepath.Dir(dir)) == "x86" {
		cands = append(cands, filepath.Join(dir, "..", "..", "..", ".config"))
	}
	for _, c := range cands {
		if st, err := os.Stat(c); err == nil && st.Mode().IsRegular() {
			return filepath.Clean(c)
		}
	}
	return ""
}

// Config is the .config of k's image, or "" (ConfigOf).
func (k Kernel) Config() string { return ConfigOf(k.Image, k.Release) }

// OptionsOn reads a kernel's .config: the options it turns on, built in
// (y) or as modules (m).
func OptionsOn(config string) (map[string]bool, error) {
	f, err := input.Open(config)
	if err != nil {
		return nil, fmt.Errorf("kernel config: %w", err)
	}
	defer f.Close()
	on := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, val, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if ok && strings.HasPrefix(name, "CONFIG_") && (val == "y" || val == "m") {
			on[name] = true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("kernel config %s: %w", config, err)
	}
	return on, nil
}
