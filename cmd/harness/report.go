package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kernel-harness/harness/harness/htmlreport"
	"github.com/kernel-harness/harness/harness/perfetto"
)

func reportCmd(args []string) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: harness report DIR

Regenerates DIR/report.html from DIR/report.json and DIR/events.jsonl (and
DIR/base/, DIR/patched/ for a --baseline run): one self-contained page with
the run's summary and a timeline of every scenario.
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	dir := fs.Arg(0)
	if err := htmlreport.Write(dir, nil); err != nil {
		fmt.Fprintf(os.Stderr, "harness report: %v\n", err)
		return 2
	}
	if err := perfetto.Write(dir, nil); err != nil {
		fmt.Fprintf(os.Stderr, "harness report: %v\n", err)
		return 2
	}
	fmt.Println(filepath.Join(dir, htmlreport.FileName))
	return 0
}
