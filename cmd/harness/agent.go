package main

import (
	"fmt"

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
