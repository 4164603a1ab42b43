package image

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"sort"

	"github.com/kernel-harness/harness/harness/input"
	"github.com/u-root/mkuimage/cpio"
)

// File is one regular file to put in the initramfs: its content is Data,
// or the host file Source (copied when the archive is written).
type File struct {
	Path   string      // path in the guest, e.g. "/harness/plan.json"
	Mode   os.FileMode // permission bits; 0 means Source's, or 0644 for Data
	Data   []byte
	Source string
}

// Device numbers of /dev/console.
const (
	consoleMajor = 5
	consoleMinor = 1
)

// baseDirs are created in every archive: mount points the guest agent needs
// before it can mount anything, and /tmp, /run to write to.
var baseDirs = map[string]uint64{
	"dev":  0o755,
	"proc": 0o755,
	"sys":  0o755,
	"run":  0o755,
	"tmp":  0o1777,
}

// entry is one archive record before it is written.
type entry struct {
	name           string // clean, without leading '/'
	mode           uint64 // unix mode, type bits included
	rmajor, rminor uint64
	data           []byte
	source         string
	size           int64
}

func (e *entry) isDir() bool { return e.mode&cpio.S_IFMT == cpio.S_IFDIR }

// Write writes a newc cpio archive with files, the directories they need
// (0755, parents first), /dev /proc /sys /run /tmp and a /dev/console
// character device, which the kernel opens for init's stdio before
// devtmpfs can be mounted. Records are sorted by path and carry no
// timestamps or owners, so the same inputs give the same bytes.
func Write(w io.Writer, files []File) error {
	entries, err := plan(files)
	if err != nil {
		return err
	}
	rw := cpio.Newc.Writer(w)
	for i, e := range entries {
		if err := writeEntry(rw, uint64(i+1), e); err != nil {
			return err
		}
	}
	return cpio.WriteTrailer(rw)
}

// plan validates files (and stats sources) before anything is written, so a
// bad input fails without producing half an archive.
func plan(files []File) ([]*entry, error) {
	byName := map[string]*entry{}
	for name, perm := range baseDirs {
		byName[name] = &entry{name: name, mode: cpio.S_IFDIR | perm}
	}
	byName["dev/console"] = &entry{
		name: "dev/console", mode: cpio.S_IFCHR | 0o600,
		rmajor: consoleMajor, rminor: consoleMinor,
	}

	for _, f := range files {
		name, err := cleanName(f.Path)
		if err != nil {
			return nil, err
		}
		if _, dup := byName[name]; dup {
			return nil, fmt.Errorf("initramfs: %s is given twice (or clashes with a built-in entry)", f.Path)
		}
		if f.Mode.Type() != 0 {
			return nil, fmt.Errorf("initramfs: %s: only regular files are supported, got mode %v", f.Path, f.Mode)
		}
		if f.Source != "" && f.Data != nil {
			return nil, fmt.Errorf("initramfs: %s: both Data and Source are set", f.Path)
		}
		e := &entry{name: name, data: f.Data, source: f.Source, size: int64(len(f.Data))}
		perm := f.Mode
		if f.Source != "" {
			fi, err := os.Stat(f.Source)
			if err != nil {
				return nil, fmt.Errorf("initramfs: %s: %w", f.Path, err)
			}
			if !fi.Mode().IsRegular() {
				return nil, fmt.Errorf("initramfs: %s: source %s is not a regular file", f.Path, f.Source)
			}
			e.size = fi.Size()
			if perm == 0 {
				perm = fi.Mode()
			}
		}
		if perm == 0 {
			perm = 0o644
		}
		// newc stores sizes in 32 bits.
		if e.size > math.MaxUint32 {
			return nil, fmt.Errorf("initramfs: %s: %d bytes is too large for a newc archive", f.Path, e.size)
		}
		e.mode = cpio.S_IFREG | unixPerm(perm)
		byName[name] = e
	}

	// Parent directories: the kernel's unpacker does not create them.
	for _, e := range byName {
		if e.isDir() {
			continue
		}
		for d := path.Dir(e.name); d != "."; d = path.Dir(d) {
			p, ok := byName[d]
			if ok && !p.isDir() {
				return nil, fmt.Errorf("initramfs: /%s is a file but /%s needs it as a directory", d, e.name)
			}
			if !ok {
				byName[d] = &entry{name: d, mode: cpio.S_IFDIR | 0o755}
			}
		}
	}

	// A prefix sorts before its extensions, so parents come before contents.
	out := make([]*entry, 0, len(byName))
	for _, e := range byName {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

func writeEntry(rw cpio.RecordWriter, ino uint64, e *entry) error {
	info := cpio.Info{
		Ino:    ino,
		Mode:   e.mode,
		NLink:  1,
		Rmajor: e.rmajor,
		Rminor: e.rminor,
		Name:   e.name,
	}
	if e.isDir() {
		info.NLink = 2
		return rw.WriteRecord(cpio.Record{Info: info})
	}
	if e.mode&cpio.S_IFMT != cpio.S_IFREG {
		return rw.WriteRecord(cpio.Record{Info: info})
	}
	info.FileSize = uint64(e.size)
	if e.source == "" {
		return rw.WriteRecord(cpio.Record{ReaderAt: bytes.NewReader(e.data), Info: info})
	}
	f, err := input.Open(e.source)
	if err != nil {
		return fmt.Errorf("initramfs: /%s: %w", e.name, err)
	}
	defer f.Close()
	// Hide Close from the writer: it closes only on success, we always do.
	// The writer also fails if the file changed size since plan.
	if err := rw.WriteRecord(cpio.Record{ReaderAt: readerAt{f}, Info: info}); err != nil {
		return fmt.Errorf("initramfs: /%s from %s: %w", e.name, e.source, err)
	}
	return nil
}

type readerAt struct{ r io.ReaderAt }

func (r readerAt) ReadAt(p []byte, off int64) (int, error) { return r.r.ReadAt(p, off) }

// cleanName turns a guest path into an archive name (relative to /).
func cleanName(p string) (string, error) {
	if p == "" {
		return "", fmt.Errorf("initramfs: empty file path")
	}
	c := path.Clean("/" + p)
	if c == "/" {
		return "", fmt.Errorf("initramfs: %q is not a file path", p)
	}
	return c[1:], nil
}

// unixPerm converts Go's permission and special bits to mode_t bits.
func unixPerm(m os.FileMode) uint64 {
	u := uint64(m.Perm())
	if m&os.ModeSetuid != 0 {
		u |= cpio.S_ISUID
	}
	if m&os.ModeSetgid != 0 {
		u |= cpio.S_ISGID
	}
	if m&os.ModeSticky != 0 {
		u |= cpio.S_ISVTX
	}
	return u
}
