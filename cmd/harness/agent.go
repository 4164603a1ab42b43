package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/kernel-harness/harness/harness/guest"
)

// agentCmd is the guest agent run as a command in a guest with an init of
// its own (--backend vng); under QEMU the agent is PID 1 and needs no verb.
func agentCmd(args []string) int {
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	events := fs.String("events", "", "write the events to this `FILE` (in a folder shared with the host)")
	files := fs.String("files", "", "`DIR` that holds the host's files for the agent (harness/plan.json, ...)")
	if code, done := parseFlags(fs, args, "agent"); done {
		return code
	}
	if *events == "" || *files == "" {
		fmt.Fprintln(os.Stderr, "harness agent: --events and --files are required; the host runs this inside the guest")
		return 2
	}
	if err := guest.MainShared(*events, *files); err != nil {
		fmt.Fprintf(os.Stderr, "harness agent: %v\n", err)
		return 1
	}
	return 0
}
