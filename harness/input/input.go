// Package input reads what users name on the command line: only regular
// files (a FIFO or a device such as /dev/zero would block or never end),
// and never more than a limit, so a wrong path is refused at once.
package input

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"syscall"
	"unicode"
)

// TextLimit bounds the files users give that are read whole: scenarios,
// config fragments, patch series.
const TextLimit = 64 << 20

// Regular says why path cannot be read as a file, or nil.
func Regular(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	return checkMode(path, fi)
}

// RegularOrDir is Regular, folders allowed too.
func RegularOrDir(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return nil
	}
	return checkMode(path, fi)
}

func checkMode(path string, fi os.FileInfo) error {
	if fi.Mode().IsRegular() {
		return nil
	}
	kind := "special file"
	switch m := fi.Mode(); {
	case m.IsDir():
		kind = "folder"
	case m&os.ModeNamedPipe != 0:
		kind = "named pipe"
	case m&os.ModeCharDevice != 0:
		kind = "character device"
	case m&os.ModeDevice != 0:
		kind = "block device"
	case m&os.ModeSocket != 0:
		kind = "socket"
	}
	return fmt.Errorf("%s is a %s, not a regular file", Quote(path), kind)
}

// Open opens a regular file for reading without ever blocking in open
// (O_NONBLOCK: a FIFO put in its place after the check cannot hang us).
func Open(path string) (*os.File, error) {
	if err := Regular(path); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil {
		err = checkMode(path, fi)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// ReadFile reads a regular file of at most limit bytes.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > limit {
		return nil, fmt.Errorf("%s is %d bytes, more than the %d MiB the harness reads", Quote(path), fi.Size(), limit>>20)
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit { // grew while read
		return nil, fmt.Errorf("%s is more than the %d MiB the harness reads", Quote(path), limit>>20)
	}
	return b, nil
}

// Quote returns s as it is when it is plain text, else Go-quoted, so that
// a name with escape characters never reaches a terminal raw.
func Quote(s string) string {
	for _, r := range s {
		if unicode.IsControl(r) || r == unicode.ReplacementChar || !unicode.IsPrint(r) && r != ' ' {
			return strconv.Quote(s)
		}
	}
	return s
}

// HasControl says whether s holds a control or invalid character.
func HasControl(s string) bool { return Quote(s) != s }
