package kbuild

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Artifact is what a build made.
type Artifact struct {
	Image    string // obj/arch/x86/boot/bzImage
	Modules  string // obj/mods/lib/modules/<release>, or empty without modules
	Release  string // from obj/include/config/kernel.release
	Objects  int    // kbuild steps (compile, archive, link...): the progress count
	Compiled int    // C and assembly files compiled to objects (CC, AS)
	Duration time.Duration
}

// BuildError is a failed make, told by its first error.
type BuildError struct {
	Target string // make target that failed: bzImage, modules or modules_install
	First  string // first compiler or linker error; empty when none was seen
	Log    string // file with the full output
	Err    error  // how make ended
}

func (e *BuildError) Error() string {
	what := e.First
	if what == "" {
		what = e.Err.Error()
	}
	msg := fmt.Sprintf("kernel build: make %s: %s", e.Target, what)
	if e.Log != "" {
		msg += "; full output in " + e.Log
	}
	return msg
}

func (e *BuildError) Unwrap() error { return e.Err }

// objectsFile, in obj, holds how many kbuild steps the last successful
// build of that folder made: the next build's estimate.
const objectsFile = ".harness-objects"

// Build builds bzImage in obj (configured by Configure) from src with
// jobs parallel jobs, and the modules, installed under obj/mods, when
// modules is set. The full output is appended to logFile; progress gets a
// bar when it is a terminal, else a line every 100 objects, and may be
// nil. A failed make is a *BuildError.
func Build(ctx context.Context, src, obj string, jobs int, modules bool, logFile string, progress io.Writer) (*Artifact, error) {
	start := time.Now()
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	var err error
	if src, err = filepath.Abs(src); err != nil {
		return nil, err
	}
	if obj, err = filepath.Abs(obj); err != nil {
		return nil, err
	}
	var log io.Writer = io.Discard
	if logFile != "" {
		f, err := os.OpenFile(logFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("kernel build: %w", err)
		}
		defer f.Close()
		log = f
	}
	mods := filepath.Join(obj, "mods")
	steps := [][]string{{"bzImage"}}
	if modules {
		steps = append(steps, []string{"modules"}, []string{"modules_install", "INSTALL_MOD_PATH=" + mods})
	}

	m := newMeter(progress, readEstimate(obj))
	var s scan
	line := func(l string) {
		n := s.steps
		s.line(l)
		if s.steps != n {
			m.Set(s.steps)
		}
	}
	for _, step := range steps {
		if step[0] == "modules_install" {
			// Nothing left over from another config's modules.
			if err := os.RemoveAll(mods); err != nil {
				m.Done()
				return nil, fmt.Errorf("kernel build: %w", err)
			}
		}
		s = scan{steps: s.steps, compiled: s.compiled} // an error is the failing step's
		args := append([]string{"-j" + strconv.Itoa(jobs)}, step...)
		if err := runMake(ctx, src, obj, args, log, line); err != nil {
			m.Done()
			if ctx.Err() != nil {
				return nil, fmt.Errorf("kernel build: make %s: %w", step[0], ctx.Err())
			}
			return nil, &BuildError{Target: step[0], First: s.firstError(), Log: logFile, Err: err}
		}
	}
	m.Done()

	a := &Artifact{Image: filepath.Join(obj, "arch", "x86", "boot", "bzImage"), Objects: s.steps, Compiled: s.compiled}
	if _, err := os.Stat(a.Image); err != nil {
		return nil, fmt.Errorf("kernel build: make bzImage succeeded but: %w", err)
	}
	rel, err := os.ReadFile(filepath.Join(obj, "include", "config", "kernel.release"))
	if err != nil {
		return nil, fmt.Errorf("kernel build: no release: %w", err)
	}
	if a.Release = strings.TrimSpace(string(rel)); a.Release == "" {
		return nil, fmt.Errorf("kernel build: empty include/config/kernel.release")
	}
	if modules {
		a.Modules = filepath.Join(mods, "lib", "modules", a.Release)
		if _, err := os.Stat(a.Modules); err != nil {
			return nil, fmt.Errorf("kernel build: make modules_install succeeded but: %w", err)
		}
	}
	// Only an estimate: a failure to keep it costs the next bar its total.
	os.WriteFile(filepath.Join(obj, objectsFile), []byte(strconv.Itoa(s.steps)+"\n"), 0o644)
	a.Duration = time.Since(start)
	return a, nil
}

// readEstimate is the object count of the folder's last build, or 0.
func readEstimate(obj string) int {
	data, err := os.ReadFile(filepath.Join(obj, objectsFile))
	if err != nil {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || n < 0 {
		return 0
	}
	return n
}
