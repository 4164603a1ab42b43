package main

import (
	"context"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A progress stream whose reader went away stops the run, naming it.
func TestPipeWatchCancels(t *testing.T) {
	rc := signalContext()
	defer rc.stop()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	w := rc.watch(pw, "standard error")
	if _, err := w.Write([]byte("line\n")); err != nil {
		t.Fatal(err)
	}
	if rc.Err() != nil {
		t.Fatal("cancelled while the reader was there")
	}
	pr.Close()
	w.Write([]byte("line\n"))
	if c := context.Cause(rc); c == nil || !strings.Contains(c.Error(), "standard error was closed") {
		t.Errorf("cause %v, want the closed standard error", c)
	}
}

// The first SIGHUP cancels the run with the signal as its cause.
func TestSignalContextHUP(t *testing.T) {
	rc := signalContext()
	defer rc.stop()
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	select {
	case <-rc.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("SIGHUP did not stop the run")
	}
	if c := context.Cause(rc); c == nil || c.Error() != "interrupted by SIGHUP" {
		t.Errorf("cause %v", c)
	}
}
