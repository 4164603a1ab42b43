package main

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kernel-harness/harness/harness/guest"
)

// newAgentCmd is the guest agent run as a command in a guest with an init
// of its own (--backend vng); under QEMU the agent is PID 1 of the
// initramfs (isAgent) and needs no verb. Hidden: the host runs it.
func newAgentCmd() *cobra.Command {
	var events, files string
	cmd := &cobra.Command{
		Use:    "agent --events FILE --files DIR",
		Short:  "the guest agent in a vng guest (run by the host)",
		Hidden: true,
		Args:   noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if events == "" || files == "" {
				fmt.Fprintln(cmd.ErrOrStderr(), "harness agent: --events and --files are required; the host runs this inside the guest")
				return exitCode(2)
			}
			if err := inGuest(procCmdline, events, files); err != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "harness agent: %v\n", err)
				return exitCode(2)
			}
			if err := guest.MainShared(events, files); err != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "harness agent: %v\n", err)
				return exitCode(1)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&events, "events", "", "write the events to this `FILE` (in a folder shared with the host)")
	cmd.Flags().StringVar(&files, "files", "", "`DIR` that holds the host's files for the agent (harness/plan.json, ...)")
	return cmd
}

// procCmdline is where the kernel's command line is read (a test's file
// elsewhere).
var procCmdline = "/proc/cmdline"

// inGuest refuses to run the agent where the harness did not start it:
// the agent mounts over /tmp and /run before it reads its plan. vng
// gives the guest's command to its init as virtme.exec= on the kernel's
// command line, base64-encoded: the agent runs only where that command
// is this one.
func inGuest(cmdline, events, files string) error {
	b, err := os.ReadFile(cmdline)
	if err == nil {
		for _, f := range strings.Fields(string(b)) {
			v, ok := strings.CutPrefix(f, "virtme.exec=")
			if !ok {
				continue
			}
			cmd, err := base64.StdEncoding.DecodeString(strings.Trim(v, "`"))
			if err == nil && strings.Contains(string(cmd), " agent --events "+events+" --files "+files) {
				return nil
			}
		}
	}
	return errors.New("this runs only as the agent of a guest the harness started through vng; here it would mount over /tmp and /run. To test a kernel, use harness run")
}
