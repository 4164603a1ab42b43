// Package artifact keeps built kernels in the cache, addressed by what
// made them: the base commit, the applied patches, the final .config and
// the harness's own fragments. The same key never builds twice.
package artifact

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/kernel-harness/harness/harness/kernel"
	"github.com/kernel-harness/harness/internal/fileutil"
)

// Key addresses one build.
type Key struct {
	Base      string `json:"base"`      // commit the series was applied on
	Series    string `json:"series"`    // digest of the applied patches; empty for none
	Config    string `json:"config"`    // digest of the final .config
	Fragments string `json:"fragments"` // digest of the harness's fragments
}

// String is the key's name on disk.
func (k Key) String() string {
	h := sha256.New()
	fmt.Fprintf(h, "base=%s\nseries=%s\nconfig=%s\nfragments=%s\n", k.Base, k.Series, k.Config, k.Fragments)
	return hex.EncodeToString(h.Sum(nil))[:24]
}

// Entry is one cached build.
type Entry struct {
	Key      Key       `json:"key"`
	Release  string    `json:"release"`
	Built    time.Time `json:"built"`
	Seconds  float64   `json:"build_seconds"`
	Tree     string    `json:"tree,omitempty"`
	Subject  string    `json:"subject,omitempty"`
	Dir      string    `json:"-"`
	LastUsed time.Time `json:"-"`
}

// Image is the entry's bzImage.
func (e Entry) Image() string { return filepath.Join(e.Dir, "bzImage") }

// Modules is the entry's lib/modules/<release>, or empty.
func (e Entry) Modules() string {
	d := filepath.Join(e.Dir, "modules")
	if _, err := os.Stat(filepath.Join(d, "modules.dep")); err != nil {
		return ""
	}
	return d
}

// Kernel describes the entry as a bootable kernel.
func (e Entry) Kernel() kernel.Kernel {
	return kernel.Kernel{Image: e.Image(), Modules: e.Modules(), Release: e.Release, Source: "build"}
}

// Cache is a folder of entries.
type Cache struct{ Dir string }

// Open returns the artifact cache under the harness cache folder.
func Open(cacheDir string) (*Cache, error) {
	dir := filepath.Join(cacheDir, "artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("artifact cache: %w", err)
	}
	return &Cache{Dir: dir}, nil
}

// Lock serialises builds and prunes of one key (or, with "", the whole
// cache): concurrent runs wait instead of building the same thing twice.
func (c *Cache) Lock(k *Key) (func(), error) {
	name := ".lock"
	if k != nil {
		name = ".lock-" + k.String()
	}
	return kernel.Lock(filepath.Join(c.Dir, name))
}

// Get returns the entry for the key, and marks it used.
func (c *Cache) Get(k Key) (Entry, bool) {
	dir := filepath.Join(c.Dir, k.String())
	e, err := readEntry(dir)
	if err != nil {
		return Entry{}, false
	}
	if _, err := os.Stat(e.Image()); err != nil {
		return Entry{}, false
	}
	now := time.Now()
	os.Chtimes(filepath.Join(dir, "entry.json"), now, now)
	return e, true
}

// Put stores a build: the image, its .config when given (it tells which
// machine the kernel boots on) and, when there are any, the installed
// modules folder. Files go into a temporary folder first and are renamed
// into place, so a reader never sees half an entry.
func (c *Cache) Put(e Entry, image, config, modules string) (Entry, error) {
	final := filepath.Join(c.Dir, e.Key.String())
	tmp, err := os.MkdirTemp(c.Dir, ".put-")
	if err != nil {
		return Entry{}, err
	}
	defer os.RemoveAll(tmp)
	// Readable like the rest of the cache, not MkdirTemp's 0700.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return Entry{}, err
	}
	if err := fileutil.CopyFile(image, filepath.Join(tmp, "bzImage")); err != nil {
		return Entry{}, fmt.Errorf("store image: %w", err)
	}
	if config != "" {
		if err := fileutil.CopyFile(config, filepath.Join(tmp, "config")); err != nil {
			return Entry{}, fmt.Errorf("store config: %w", err)
		}
	}
	if modules != "" {
		if err := copyTree(modules, filepath.Join(tmp, "modules")); err != nil {
			return Entry{}, fmt.Errorf("store modules: %w", err)
		}
	}
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return Entry{}, err
	}
	if err := os.WriteFile(filepath.Join(tmp, "entry.json"), append(b, '\n'), 0o644); err != nil {
		return Entry{}, err
	}
	os.RemoveAll(final)
	if err := os.Rename(tmp, final); err != nil {
		return Entry{}, fmt.Errorf("store entry: %w", err)
	}
	e.Dir = final
	return e, nil
}

// List returns every entry, most recently used first.
func (c *Cache) List() ([]Entry, error) {
	dirs, err := os.ReadDir(c.Dir)
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, d := range dirs {
		if !d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			continue
		}
		if e, err := readEntry(filepath.Join(c.Dir, d.Name())); err == nil {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LastUsed.After(out[j].LastUsed) })
	return out, nil
}

// Prune removes all but the keep most recently used entries.
func (c *Cache) Prune(keep int) ([]Entry, error) {
	if keep < 0 {
		return nil, errors.New("prune: --keep must be 0 or more")
	}
	unlock, err := c.Lock(nil)
	if err != nil {
		return nil, err
	}
	defer unlock()
	all, err := c.List()
	if err != nil || len(all) <= keep {
		return nil, err
	}
	var removed []Entry
	var errs []error
	for _, e := range all[keep:] {
		if err := os.RemoveAll(e.Dir); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, e)
	}
	return removed, errors.Join(errs...)
}

func readEntry(dir string) (Entry, error) {
	p := filepath.Join(dir, "entry.json")
	b, err := os.ReadFile(p)
	if err != nil {
		return Entry{}, err
	}
	var e Entry
	if err := json.Unmarshal(b, &e); err != nil {
		return Entry{}, fmt.Errorf("%s: %w", p, err)
	}
	e.Dir = dir
	if fi, err := os.Stat(p); err == nil {
		e.LastUsed = fi.ModTime()
	}
	return e, nil
}

// copyTree copies a modules folder, following no links: depmod's output
// and the module files are all regular files.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type().IsRegular():
			return fileutil.CopyFile(p, target)
		default:
			return nil
		}
	})
}
