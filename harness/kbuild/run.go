package kbuild

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kernel-harness/harness/harness/cleanup"
)

// Fixed build identity, so that building the same tree and config twice
// gives the same kernel (and ccache hits).
const (
	buildTimestamp = "Wed Jan  1 00:00:00 UTC 2025" // date -d must read it
	buildUser      = "harness"
	buildHost      = "harness"
)

// makeEnv is the environment of every command: the caller's, in the C
// locale (so that compiler messages are in English with ASCII quotes) and
// with the build identity fixed.
func makeEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case name == "KCONFIG_CONFIG", name == "LC_ALL", strings.HasPrefix(name, "KBUILD_BUILD_"):
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"LC_ALL=C",
		"KBUILD_BUILD_TIMESTAMP="+buildTimestamp,
		"KBUILD_BUILD_USER="+buildUser,
		"KBUILD_BUILD_HOST="+buildHost,
		"KBUILD_BUILD_VERSION=1",
	)
}

// makeVars are the make variables of every make: ccache when there is
// one. Configure passes them too, because Kconfig records CC and would
// redo the config when the build's differs.
func makeVars() []string {
	if _, err := exec.LookPath("ccache"); err == nil {
		return []string{"CC=ccache gcc", "HOSTCC=ccache gcc"}
	}
	return nil
}

// runMake runs make -C src O=obj with the harness's variables and args.
func runMake(ctx context.Context, src, obj string, args []string, out io.Writer, line func(string)) error {
	argv := append([]string{"-C", src, "O=" + obj}, makeVars()...)
	return runEnv(ctx, "", ccacheEnv(src, obj), "make", append(argv, args...), out, line)
}

// ccacheEnv lets ccache hit for the same sources in another place (another
// cache folder, another machine's): kbuild gives gcc absolute paths, which
// ccache makes relative to the build folder when they lie under its base
// folder, the one that holds both src and obj; the build folder itself is
// left out of the hash (debug info then names the folder that first built
// an object; the BTF made from it does not depend on that). A base folder
// of the user's own is kept.
func ccacheEnv(src, obj string) []string {
	if os.Getenv("CCACHE_BASEDIR") != "" {
		return nil
	}
	base := commonDir(src, obj)
	if base == "/" || base == "" {
		return nil
	}
	return []string{"CCACHE_BASEDIR=" + base, "CCACHE_NOHASHDIR=1"}
}

// commonDir is the deepest folder that holds both a and b.
func commonDir(a, b string) string {
	a, b = filepath.Clean(a), filepath.Clean(b)
	for {
		if b == a || strings.HasPrefix(b, a+string(filepath.Separator)) {
			return a
		}
		parent := filepath.Dir(a)
		if parent == a {
			return a
		}
		a = parent
	}
}

// run runs a command in dir, its output (stdout and stderr interleaved)
// copied to out and, line by line, to line. Cancelling ctx stops the
// command's whole process group, so no compiler outlives it.
func run(ctx context.Context, dir, name string, args []string, out io.Writer, line func(string)) error {
	return runEnv(ctx, dir, nil, name, args, out, line)
}

// runEnv is run with more environment variables.
func runEnv(ctx context.Context, dir string, env []string, name string, args []string, out io.Writer, line func(string)) error {
	fmt.Fprintf(out, "$ %s\n", quoteCommand(name, args))
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(makeEnv(), env...)
	// A harness that dies (even by SIGKILL) stops make: SIGTERM, so that
	// it still deletes half-written targets.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	cmd.Cancel = func() error {
		// SIGTERM lets make delete half-written targets.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	}
	cmd.WaitDelay = 30 * time.Second
	lw := &lineWriter{out: out, line: line}
	cmd.Stdout, cmd.Stderr = lw, lw
	err := cmd.Start()
	if err == nil {
		forget := cleanup.Group(cmd.Process.Pid) // killed by a second Ctrl-C
		err = cmd.Wait()
		forget()
	}
	lw.flush()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		return err
	}
	if lw.err != nil {
		return fmt.Errorf("writing output: %w", lw.err)
	}
	return nil
}

func quoteCommand(name string, args []string) string {
	parts := []string{name}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\"'$\\") {
			a = strconv.Quote(a)
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

// lineWriter copies a command's output to out and hands each line to
// line. A failing out is remembered, not returned: the command must not
// block on a full pipe because the log cannot be written.
type lineWriter struct {
	out  io.Writer
	line func(string)
	buf  []byte
	err  error
}

func (w *lineWriter) Write(p []byte) (int, error) {
	if w.err == nil {
		if _, err := w.out.Write(p); err != nil {
			w.err = err
		}
	}
	if w.line == nil {
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.line(strings.TrimSuffix(string(w.buf[:i]), "\r"))
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}

func (w *lineWriter) flush() {
	if w.line != nil && len(w.buf) > 0 {
		w.line(string(w.buf))
	}
	w.buf = nil
}
