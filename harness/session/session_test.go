package session

import (
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
)

// A full disk under the output folder stops the boot at the first write
// it refuses, once, naming the file; later writes fail without a word.
func TestLogWritersStopOnFullDisk(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no /dev/full here: %v", err)
	}
	defer full.Close()
	ok, err := os.Create(t.TempDir() + "/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer ok.Close()
	var stops []error
	l := &logWriters{stop: func(err error) { stops = append(stops, err) }}
	evw, con := l.writer(ok), l.writer(full)
	if _, err := evw.Write([]byte("{}\n")); err != nil {
		t.Fatalf("a write with room: %v", err)
	}
	if _, err := con.Write([]byte("console\n")); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("a write to a full disk: %v", err)
	}
	if _, err := evw.Write([]byte("{}\n")); err == nil {
		t.Error("a write after the disk filled went on")
	}
	if len(stops) != 1 || !strings.Contains(stops[0].Error(), "write /dev/full: no space left on device") {
		t.Errorf("stops %v", stops)
	}
}
