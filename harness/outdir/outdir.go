// Package outdir gives one harness process an output folder of its own:
// a default name no other run gets, a lock held for the whole run so
// that two runs never write one folder, and a previous output replaced
// as a whole rather than mixed with the new one.
package outdir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kernel-harness/harness/harness/input"
	"golang.org/x/sys/unix"
)

// Files the harness keeps in every output folder.
const (
	// Marker says the folder is a harness output, which a later run
	// given it as --out may replace.
	Marker = ".harness-out"
	// LockName is held locked by the run that writes the folder; it is
	// never removed, so that two runs always lock the same file.
	LockName = ".harness.lock"
)

// Parent is where default output folders go.
const Parent = "harness-out"

// ErrInUse is a folder another harness is writing.
var ErrInUse = errors.New("in use by another harness")

// Dir is a claimed output folder.
type Dir struct {
	Path string
	// Replaced says a previous output was removed from it.
	Replaced bool
	lock     *os.File
}

// Options of Claim.
type Options struct {
	// Keep leaves a previous output in place (bisect --resume reads it).
	Keep bool
}

// New claims a fresh folder under parent named by the time, with a
// suffix when another run took that name in the same second. The folder
// is made with mkdir, which fails when it exists: no two runs share it.
func New(parent string, now time.Time) (*Dir, error) {
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("output folder: %w", err)
	}
	base := now.Format("20060102-150405")
	for i := 1; i <= 1000; i++ {
		name := base
		if i > 1 {
			name = fmt.Sprintf("%s-%d", base, i)
		}
		p := filepath.Join(parent, name)
		err := os.Mkdir(p, 0o755)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("output folder: %w", err)
		}
		return claim(p, Options{})
	}
	return nil, fmt.Errorf("output folder: %s has 1000 folders named %s-*: clean it up", parent, base)
}

// Claim takes path as the output folder: made when missing, taken when
// empty, replaced when it holds a previous harness output, refused when
// it holds anything else or another harness writes it.
func Claim(path string, o Options) (*Dir, error) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(path, 0o755); err != nil {
			return nil, fmt.Errorf("--out: %w", err)
		}
	case err != nil:
		return nil, fmt.Errorf("--out: %w", err)
	case !fi.IsDir():
		return nil, fmt.Errorf("--out %s is a file, not a folder: give a folder", path)
	}
	return claim(path, o)
}

func claim(path string, o Options) (*Dir, error) {
	// A folder of the user's is refused before anything is made in it.
	if !o.Keep && !previousOutput(path) {
		ents, err := os.ReadDir(path)
		if err != nil {
			return nil, fmt.Errorf("output folder: %w", err)
		}
		for _, e := range ents {
			if e.Name() != LockName {
				return nil, notOurs(path)
			}
		}
	}
	f, err := os.OpenFile(filepath.Join(path, LockName), os.O_CREATE|os.O_RDWR|syscall.O_CLOEXEC|syscall.O_NOFOLLOW, 0o644)
	if err != nil {
		return nil, fmt.Errorf("output folder %s: %w", path, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		owner := ""
		b := make([]byte, 32)
		n, _ := f.ReadAt(b, 0)
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b[:n]))); err == nil {
			owner = fmt.Sprintf(" (pid %d)", pid)
		}
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("output folder %s is %w%s: give another --out, or wait for it to end", path, ErrInUse, owner)
		}
		return nil, fmt.Errorf("output folder %s: lock: %w", path, err)
	}
	d := &Dir{Path: path, lock: f}
	fail := func(err error) (*Dir, error) { d.Close(); return nil, err }
	ents, err := os.ReadDir(path)
	if err != nil {
		return fail(fmt.Errorf("output folder: %w", err))
	}
	var stale []string
	for _, e := range ents {
		if e.Name() != LockName {
			stale = append(stale, e.Name())
		}
	}
	if len(stale) > 0 && !o.Keep {
		if !previousOutput(path) {
			return fail(notOurs(path))
		}
		if listed, ok := manifest(path); ok {
			var others []string
			for _, name := range stale {
				if !listed[name] && name != Marker {
					others = append(others, name)
				}
			}
			if len(others) > 0 {
				return fail(fmt.Errorf("--out %s holds what the harness did not write there (%s): move it out, or give another --out, so that nothing of yours is removed", path, strings.Join(others, ", ")))
			}
		}
		for _, name := range stale {
			if err := os.RemoveAll(filepath.Join(path, name)); err != nil {
				return fail(fmt.Errorf("replace the previous output in %s: %w", path, err))
			}
		}
		d.Replaced = true
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	if err := writeMarker(path, false); err != nil {
		return fail(err)
	}
	return d, nil
}

func notOurs(path string) error {
	return fmt.Errorf("--out %s is not empty and holds no harness output (no %s, no harness report.json): give an empty or new folder, so that nothing of yours is removed", path, Marker)
}

// previousOutput says whether path holds what a harness left there: its
// marker, or (from before the marker) a harness report.json or a
// bisect.log of JSON lines. Anything else is the user's and stays.
func previousOutput(path string) bool {
	if fi, err := os.Lstat(filepath.Join(path, Marker)); err == nil && fi.Mode().IsRegular() {
		return true
	}
	head := func(name string) string {
		f, err := os.Open(filepath.Join(path, name))
		if err != nil {
			return ""
		}
		defer f.Close()
		if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
			return ""
		}
		b := make([]byte, 512)
		n, _ := f.Read(b)
		return string(b[:n])
	}
	if !strings.Contains(head("report.json"), `"harness.report/`) && !strings.HasPrefix(head("bisect.log"), "{") {
		return false
	}
	// From before the marker: taken as the harness's only when it holds
	// nothing a harness does not write (a copy of a fixture with its
	// README is the user's).
	ents, err := os.ReadDir(path)
	if err != nil {
		return false
	}
	for _, e := range ents {
		if !harnessName.MatchString(e.Name()) {
			return false
		}
	}
	return true
}

// harnessName matches what a harness writes in an output folder.
var harnessName = regexp.MustCompile(`^(report\.(json|html)|junit\.xml|results\.ktap|kcidb\.json|trace\.json|events\.jsonl|console\.log|build\.log|bisect\.(log|json)|selftests-build\.log|test_progs\.(out|json)|bpf|vng|steps|base|patched|run-\d+|patches-\d+|\.harness\.lock|\.harness-out)$`)

// Close releases the folder to other runs.
func (d *Dir) Close() error {
	if d == nil || d.lock == nil {
		return nil
	}
	// What the run left is listed in the marker: a later run given this
	// folder removes those and nothing else.
	werr := writeMarker(d.Path, true)
	err := d.lock.Close() // closing drops the flock
	d.lock = nil
	return errors.Join(werr, err)
}

// markerHead starts the marker; a manifest follows it, a name a line.
const markerHead = "harness output folder: a harness run given it as --out replaces what is listed below\n"

// writeMarker writes the marker, with the folder's entries as its
// manifest when listed (at the end of a run).
func writeMarker(path string, listed bool) error {
	var b strings.Builder
	b.WriteString(markerHead)
	if listed {
		b.WriteString(manifestLine)
		ents, err := os.ReadDir(path)
		if err != nil {
			return fmt.Errorf("output folder: %w", err)
		}
		for _, e := range ents {
			if n := e.Name(); n != LockName && n != Marker {
				b.WriteString(n + "\n")
			}
		}
	}
	if err := os.WriteFile(filepath.Join(path, Marker), []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("output folder: %w", err)
	}
	return nil
}

// Record adds names to the manifest of the harness output at path:
// files a harness wrote there after the run (harness report writes a
// newer harness's files into an older run's folder), which a later run
// may then replace. A folder without a manifest needs none.
func Record(path string, names ...string) error {
	listed, ok := manifest(path)
	if !ok {
		return nil
	}
	var add strings.Builder
	for _, n := range names {
		if !listed[n] {
			add.WriteString(n + "\n")
		}
	}
	if add.Len() == 0 {
		return nil
	}
	f, err := os.OpenFile(filepath.Join(path, Marker), os.O_WRONLY|os.O_APPEND|syscall.O_NOFOLLOW, 0)
	if err == nil {
		_, err = f.WriteString(add.String())
		err = errors.Join(err, f.Close())
	}
	if err != nil {
		return fmt.Errorf("output folder: %w", err)
	}
	return nil
}

// manifestLine starts the list, written when the run ends.
const manifestLine = "written by the run:\n"

// manifest is what the marker lists as the harness's, and whether it
// has a list (a marker of a run that was killed, or of an older harness,
// has none: the folder is then taken as all the harness's, as before).
func manifest(path string) (names map[string]bool, ok bool) {
	b, err := input.ReadFile(filepath.Join(path, Marker), 1<<20)
	if err != nil {
		return nil, false
	}
	_, rest, found := strings.Cut(string(b), manifestLine)
	if !found {
		return nil, false
	}
	names = map[string]bool{}
	for _, n := range strings.Fields(rest) {
		names[n] = true
	}
	return names, true
}

// Outside refuses inputs inside out, each given as {option, path}: a run
// replaces what a previous one left in its folder before it reads them.
func Outside(out string, inputs [][2]string) []error {
	if out == "" {
		return nil
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		return nil
	}
	var errs []error
	for _, in := range inputs {
		if in[1] == "" {
			continue
		}
		p, err := filepath.Abs(in[1])
		if err != nil {
			continue
		}
		if rel, err := filepath.Rel(abs, p); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			errs = append(errs, fmt.Errorf("%s %s is inside --out %s, which this run replaces before reading it: move it out, or give another --out", in[0], in[1], out))
		}
	}
	return errs
}
