package input

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	os.WriteFile(big, make([]byte, 100), 0o644)
	ok := filepath.Join(dir, "ok")
	os.WriteFile(ok, []byte("hello"), 0o644)
	for _, tt := range []struct{ path, want string }{
		{"/dev/zero", "/dev/zero is a character device, not a regular file"},
		{fifo, fifo + " is a named pipe, not a regular file"},
		{dir, dir + " is a folder, not a regular file"},
		{big, big + " is 100 bytes, more than the 0 MiB the harness reads"},
		{filepath.Join(dir, "none"), "no such file"},
	} {
		done := make(chan error, 1)
		go func() { _, err := ReadFile(tt.path, 50); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s: %v, want %q", tt.path, err, tt.want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: still reading after 5s", tt.path)
		}
	}
	if b, err := ReadFile(ok, 50); err != nil || string(b) != "hello" {
		t.Errorf("%q %v", b, err)
	}
	if err := RegularOrDir(dir); err != nil {
		t.Error(err)
	}
	if err := RegularOrDir(fifo); err == nil {
		t.Error("a FIFO taken as a folder")
	}
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"plain name/ipv4": "plain name/ipv4",
		"été":             "été",
		"x\x1b[2Jy":       `"x\x1b[2Jy"`,
		"a\nb":            `"a\nb"`,
		"bad\xffutf8":     `"bad\xffutf8"`,
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
}
