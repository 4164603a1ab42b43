package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kernel-harness/harness/harness/scenario"
)

func newScenariosCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:         "scenarios",
		Short:       "list the scenarios a run can use",
		Annotations: map[string]string{"synopsis": "harness scenarios list [--scenarios FILE]"},
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return fmt.Errorf("want a subcommand: list")
			}
			return fmt.Errorf("unknown command %q", args[0])
		},
		RunE: func(*cobra.Command, []string) error { return nil },
	}
	var files []string
	list := &cobra.Command{
		Use:   "list",
		Short: "print the built-in scenarios (and those of --scenarios files) with their path and description",
		Long: `Prints each scenario a run plans, one a line: its name, the receive path
it drives (in-order, ofo, fastopen) and what it is about. The names are
what --scenario matches; the files given with --scenarios are checked as
a run checks them.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return status(listScenarios(cmd.OutOrStdout(), files)) },
	}
	list.Flags().Var((*listFlag)(&files), "scenarios", "also list the scenarios of this JSON or YAML `FILE` (repeatable)")
	list.MarkFlagFilename("scenarios", "yaml", "yml", "json")
	cmd.AddCommand(list)
	return cmd
}

func listScenarios(stdout io.Writer, files []string) int {
	all := scenario.All()
	taken := map[string]bool{}
	for _, sc := range all {
		taken[sc.Name] = true
	}
	for _, f := range files {
		scs, err := scenario.LoadFile(f, taken)
		if err != nil {
			fmt.Fprintf(stderr, "harness scenarios list: %v\n", err)
			return 2
		}
		all = append(all, scs...)
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tPATH\tDESCRIPTION")
	for _, sc := range all {
		fmt.Fprintf(w, "%s\t%s\t%s\n", sc.Name, sc.Path, sc.Description)
	}
	w.Flush()
	return 0
}
