package main

import (
	"flag"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/kernel-harness/harness/harness/artifact"
	"github.com/kernel-harness/harness/harness/kernel"
)

func cacheCmd(args []string) int {
	usage := "usage: harness cache list | harness cache prune --keep N | harness cache key --tree DIR [--series S] [build options]"
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, usage)
		return 2
	}
	if args[0] == "key" {
		return cacheKeyCmd(args[1:])
	}
	dir, err := kernel.CacheDir()
	if err != nil {
		fmt.Fprintf(os.Stderr, "harness cache: %v\n", err)
		return 2
	}
	c, err := artifact.Open(dir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "harness cache: %v\n", err)
		return 2
	}
	switch args[0] {
	case "list":
		list, err := c.List()
		if err != nil {
			fmt.Fprintf(os.Stderr, "harness cache: %v\n", err)
			return 2
		}
		w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "KEY\tRELEASE\tBASE\tBUILT\tSECONDS\tIMAGE")
		for _, e := range list {
			fmt.Fprintf(w, "%s\t%s\t%.12s %s\t%s\t%.0f\t%s\n", e.Key.String(), e.Release, e.Key.Base, e.Subject, e.Built.Format("2006-01-02 15:04"), e.Seconds, e.Image())
		}
		w.Flush()
		return 0
	case "prune":
		fs := flag.NewFlagSet("cache prune", flag.ContinueOnError)
		keep := fs.Int("keep", 5, "how many of the most recently used builds to keep")
		if err := fs.Parse(args[1:]); err != nil {
			return 2
		}
		removed, err := c.Prune(*keep)
		for _, e := range removed {
			fmt.Printf("removed %s (%s)\n", e.Key.String(), e.Release)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "harness cache: %v\n", err)
			return 2
		}
		return 0
	default:
		fmt.Fprintln(os.Stderr, usage)
		return 2
	}
}
