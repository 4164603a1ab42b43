package kbuild

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/kernel-harness/harness/internal/fileutil"
)

// sourcesFile in the O= folder lists, for the last successful build, each
// source path with its git blob.
const sourcesFile = ".harness-sources"

// unchangedTime is the mtime given to sources that did not change since
// the last build: older than any object, so make leaves them alone.
var unchangedTime = time.Unix(1<<30, 0)

// KeepTimes makes a fresh checkout in src look, to make, like the one the
// O= folder was last built from: every file whose git blob is the same as
// then gets an old mtime, so only what changed is compiled. A worktree
// made anew for each run would otherwise rebuild the whole kernel. The
// returned function records the checkout after a successful build.
func KeepTimes(ctx context.Context, src, obj string) (kept int, record func() error, err error) {
	cur, err := blobs(ctx, src)
	if err != nil {
		return 0, nil, err
	}
	record = func() error { return writeSources(filepath.Join(obj, sourcesFile), cur) }
	prev, err := readSources(filepath.Join(obj, sourcesFile))
	if err != nil {
		// No earlier build of this folder: everything is new anyway.
		return 0, record, nil
	}
	// Until this build succeeds the folder may hold objects of sources
	// that are not recorded: a failed build must not leave a record that
	// would let them pass for up to date.
	if err := os.Remove(filepath.Join(obj, sourcesFile)); err != nil {
		return 0, nil, err
	}
	for path, blob := range cur {
		if prev[path] != blob {
			continue
		}
		if err := os.Chtimes(filepath.Join(src, path), unchangedTime, unchangedTime); err == nil {
			kept++
		}
	}
	return kept, record, nil
}

// blobs lists the blob of every file at HEAD of the checkout.
func blobs(ctx context.Context, src string) (map[string]string, error) {
	cmd := exec.CommandContext(ctx, "git", "-C", src, "ls-files", "-s", "-z")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("list sources of %s: %w: %s", src, err, strings.TrimSpace(errb.String()))
	}
	m := map[string]string{}
	for _, rec := range bytes.Split(out.Bytes(), []byte{0}) {
		// "<mode> <blob> <stage>\t<path>"
		meta, path, ok := bytes.Cut(rec, []byte{'\t'})
		if !ok {
			continue
		}
		f := strings.Fields(string(meta))
		if len(f) == 3 {
			m[string(path)] = f[1]
		}
	}
	return m, nil
}

func readSources(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		blob, path, ok := strings.Cut(sc.Text(), " ")
		if ok {
			m[path] = blob
		}
	}
	return m, sc.Err()
}

func writeSources(path string, m map[string]string) error {
	var b bytes.Buffer
	for p, blob := range m {
		fmt.Fprintf(&b, "%s %s\n", blob, p)
	}
	return fileutil.WriteFile(path, b.Bytes(), 0o644)
}
