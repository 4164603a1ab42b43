package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
	"github.com/spf13/pflag"

	"github.com/kernel-harness/harness/harness/version"
)

// newGenManCmd writes the man pages of every command from the same
// definitions as --help (make man). Hidden: a release step, not a verb.
func newGenManCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "gen-man DIR",
		Short:  "write the man pages to DIR",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			// No generation date: the same harness writes the same pages.
			root.DisableAutoGenTag = true
			h := &doc.GenManHeader{Title: "HARNESS", Section: "1", Source: "harness " + version.String(), Manual: "harness manual"}
			escapeMarkdown(root)
			err := os.MkdirAll(args[0], 0o755)
			if err == nil {
				err = doc.GenManTree(root, h, args[0])
			}
			if err != nil {
				fmt.Fprintf(stderr, "harness gen-man: %v\n", err)
				return exitCode(2)
			}
			return nil
		},
	}
}

// escapeMarkdown keeps <release> and friends in the man pages: cobra/doc
// renders through Markdown, which would take them for HTML tags.
func escapeMarkdown(cmd *cobra.Command) {
	esc := strings.NewReplacer("<", `\<`, ">", `\>`)
	cmd.Long = esc.Replace(cmd.Long)
	cmd.Flags().VisitAll(func(f *pflag.Flag) { f.Usage = esc.Replace(f.Usage) })
	for _, c := range cmd.Commands() {
		escapeMarkdown(c)
	}
}
