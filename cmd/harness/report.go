package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/kernel-harness/harness/harness/htmlreport"
	"github.com/kernel-harness/harness/harness/outdir"
	"github.com/kernel-harness/harness/harness/outputs"
)

func newReportCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "report DIR",
		Short: "regenerate report.html, trace.json, junit.xml, results.ktap and kcidb.json in an output folder",
		Long: `Regenerates the files of DIR from DIR/report.json and DIR/events.jsonl
(and DIR/base/, DIR/patched/ for a --baseline run), as harness run writes
them: report.html, one self-contained page with the run's summary and a
timeline of every scenario; trace.json, the same timelines for Perfetto;
junit.xml; results.ktap; kcidb.json; and report.json itself, in this
harness's layout.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("want one output folder, got %d arguments", len(args))
			}
			return nil
		},
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return nil, cobra.ShellCompDirectiveFilterDirs
		},
		RunE: func(_ *cobra.Command, args []string) error { return status(reportMain(args[0])) },
	}
}

func reportMain(dir string) int {
	out, err := outdir.Load(dir)
	if err == nil {
		err = outputs.WriteOutput(dir, out)
	}
	if err == nil {
		// An older run's folder gains files: a later --out replaces them too.
		err = outdir.Record(dir, outputs.Names()...)
	}
	if err != nil {
		fmt.Fprintf(stderr, "harness report: %v\n", err)
		return 2
	}
	fmt.Println(filepath.Join(dir, htmlreport.FileName))
	return 0
}
