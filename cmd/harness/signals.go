package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"golang.org/x/term"

	"github.com/kernel-harness/harness/harness/cleanup"
)

// stopSignals end a run as Ctrl-C does: the terminal closing (SIGHUP) and
// a service manager's stop (SIGTERM) too.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// runContext is a verb's context: cancelled by the first of stopSignals,
// with the signal as its cause, so that the run stops QEMU, writes its
// report and removes its temporary folders. A second signal ends the
// process at once, after killing the VMs and removing those folders.
//
// A closed standard output or error (`harness run | head`) is a stop too:
// SIGPIPE is caught so that the write fails, and progress goes through
// watch, which cancels the context on that failure.
type runContext struct {
	context.Context
	cancel context.CancelCauseFunc
	ch     chan os.Signal
}

// catchPipe makes a write to a closed standard output or error fail with
// EPIPE instead of killing the process. The signal is caught, not
// ignored: an ignored one would stay ignored in git, make and their
// shells, whose pipelines count on it.
var catchPipe = sync.OnceFunc(func() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGPIPE)
	go func() {
		for range ch {
		}
	}()
})

func signalContext() *runContext {
	catchPipe()
	ctx, cancel := context.WithCancelCause(context.Background())
	rc := &runContext{Context: ctx, cancel: cancel, ch: make(chan os.Signal, 2)}
	signal.Notify(rc.ch, stopSignals...)
	go func() {
		sig, ok := <-rc.ch
		if !ok {
			return
		}
		cancel(fmt.Errorf("interrupted by %s", signalName(sig)))
		fmt.Fprintf(stderr, "harness: %s: stopping the run (again to quit at once)\n", signalName(sig))
		if sig, ok = <-rc.ch; !ok {
			return
		}
		cleanup.Now()
		fmt.Fprintf(stderr, "harness: %s again: quit\n", signalName(sig))
		os.Exit(128 + int(sig.(syscall.Signal)))
	}()
	return rc
}

// stop ends the watching for signals.
func (rc *runContext) stop() {
	signal.Stop(rc.ch)
	rc.cancel(nil)
}

func signalName(sig os.Signal) string {
	switch sig {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return sig.String()
}

// watch returns f for progress lines, cancelling the run when a write
// finds it closed. A terminal is returned as it is: it never breaks that
// way, and the status line looks for one.
func (rc *runContext) watch(f *os.File, name string) io.Writer {
	if term.IsTerminal(int(f.Fd())) {
		return f
	}
	return &pipeWatch{w: f, name: name, cancel: rc.cancel}
}

// pipeWatch cancels the run when its reader went away.
type pipeWatch struct {
	w      io.Writer
	name   string
	cancel context.CancelCauseFunc
}

func (p *pipeWatch) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	if errors.Is(err, syscall.EPIPE) {
		p.cancel(fmt.Errorf("interrupted: %s was closed (broken pipe)", p.name))
	}
	return n, err
}
