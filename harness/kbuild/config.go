package kbuild

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Config is the .config a build will use.
type Config struct {
	Path    string // obj/.config
	Digest  string // sha256 hex of the .config without comment and blank lines
	Modules bool   // some option is =m
}

// Bases Configure starts from.
var bases = map[string]bool{"allnoconfig": true, "tinyconfig": true, "defconfig": true}

// mergeDir holds the fragments as merged, under obj.
const mergeDir = ".harness-merge"

// Configure makes obj/.config for the tree src: the base config, then the
// fragments and the items (CONFIG_X=y, applied last) merged over it with
// the tree's merge_config.sh, then olddefconfig. All output goes to log.
// When an option did not come out as asked, it returns the Config and a
// *VanishedError naming each one, so nothing is built on a config that
// lost what the scenarios need.
func Configure(ctx context.Context, src, obj, base string, frags []Fragment, items []string, log io.Writer) (*Config, error) {
	if log == nil {
		log = io.Discard
	}
	if !bases[base] {
		return nil, fmt.Errorf("kernel config: unknown base %q (want allnoconfig, tinyconfig or defconfig)", base)
	}
	extra, err := itemsFragment(items)
	if err != nil {
		return nil, err
	}
	all := append([]Fragment(nil), frags...)
	if len(extra.Items) > 0 {
		all = append(all, extra)
	}
	// Absolute, because make runs in src and merge_config.sh in obj.
	if src, err = filepath.Abs(src); err != nil {
		return nil, err
	}
	if obj, err = filepath.Abs(obj); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(obj, 0o755); err != nil {
		return nil, fmt.Errorf("kernel config: %w", err)
	}
	if err := runMake(ctx, src, obj, []string{base}, log, nil); err != nil {
		return nil, fmt.Errorf("kernel config: make %s: %w", base, err)
	}

	// The fragments are written out as parsed, so what is merged is what
	// Check compares with.
	dir := filepath.Join(obj, mergeDir)
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("kernel config: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("kernel config: %w", err)
	}
	dotconfig := filepath.Join(obj, ".config")
	args := []string{filepath.Join(src, "scripts", "kconfig", "merge_config.sh"), "-m", "-O", obj, dotconfig}
	for i, f := range all {
		p := filepath.Join(dir, fmt.Sprintf("%02d-%s", i, fileName(f.Path)))
		if err := os.WriteFile(p, []byte(f.text()), 0o644); err != nil {
			return nil, fmt.Errorf("kernel config: %w", err)
		}
		args = append(args, p)
	}
	// merge_config.sh makes its temporary files in the current folder.
	if err := run(ctx, obj, "sh", args, log, nil); err != nil {
		return nil, fmt.Errorf("kernel config: merge_config.sh: %w", err)
	}
	if err := runMake(ctx, src, obj, []string{"olddefconfig"}, log, nil); err != nil {
		return nil, fmt.Errorf("kernel config: make olddefconfig: %w", err)
	}

	cfg, err := readConfig(dotconfig)
	if err != nil {
		return nil, err
	}
	if v := Check(dotconfig, all, src); len(v) > 0 {
		return cfg, &VanishedError{Options: v}
	}
	return cfg, nil
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// fileName makes a fragment's path a file name merge_config.sh (which
// does not quote) can take.
func fileName(path string) string {
	name := unsafeName.ReplaceAllString(filepath.Base(path), "_")
	name = strings.TrimLeft(name, "-.")
	if name == "" {
		name = "fragment"
	}
	if !strings.HasSuffix(name, ".config") {
		name += ".config"
	}
	return name
}

// readConfig digests a .config. Comments are left out of the digest:
// they carry the kernel version and the date, not the configuration.
func readConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("kernel config: %w", err)
	}
	h := sha256.New()
	cfg := &Config{Path: path}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		io.WriteString(h, line+"\n")
		if m := setLine.FindStringSubmatch(line); m != nil && m[2] == "m" {
			cfg.Modules = true
		}
	}
	cfg.Digest = hex.EncodeToString(h.Sum(nil))
	return cfg, nil
}

// ErrNoBTF is what RequireBTF returns for a .config without BTF.
var ErrNoBTF = errors.New("CONFIG_DEBUG_INFO_BTF is not set: the scenarios need the kernel's BTF (add CONFIG_DEBUG_INFO_BTF=y, which needs CONFIG_DEBUG_INFO and pahole)")

// RequireBTF fails unless the .config builds the kernel's BTF, which the
// tracer's CO-RE programs and fentry probes load against.
func RequireBTF(dotconfig string) error {
	vals, err := readDotconfig(dotconfig)
	if err != nil {
		return fmt.Errorf("kernel config: %w", err)
	}
	if vals["CONFIG_DEBUG_INFO_BTF"] != "y" {
		return ErrNoBTF
	}
	return nil
}
