package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kernel-harness/harness/harness/artifact"
	"github.com/kernel-harness/harness/harness/kernel"
)

func newCacheCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cache",
		Short: "list or prune the built kernels, or print a build's cache key",
		Annotations: map[string]string{"synopsis": `harness cache list
harness cache prune [--keep N]
harness cache key --tree DIR [--series S] [build options]`},
		Long: `The built kernels kept in $XDG_CACHE_HOME/harness/artifacts (else
~/.cache/harness/artifacts), by the key of their inputs.`,
		// A subcommand is needed: bare "harness cache" or an unknown one is
		// a usage error (exit 2), with suggestions for a typo.
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return fmt.Errorf("want a subcommand: list, prune or key")
			}
			msg := fmt.Sprintf("unknown command %q", args[0])
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t")
			}
			return fmt.Errorf("%s", msg)
		},
		RunE:                       func(*cobra.Command, []string) error { return nil },
		SuggestionsMinimumDistance: 2,
	}
	var keep int
	prune := &cobra.Command{
		Use:   "prune",
		Short: "remove all but the most recently used builds",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			return status(withCache(func(c *artifact.Cache) int {
				removed, err := c.Prune(keep)
				for _, e := range removed {
					fmt.Printf("removed %s (%s)\n", e.Key.String(), e.Release)
				}
				if err != nil {
					fmt.Fprintf(stderr, "harness cache: %v\n", err)
					return 2
				}
				return 0
			}))
		},
	}
	prune.Flags().IntVar(&keep, "keep", 5, "how many of the most recently used builds to keep")
	list := &cobra.Command{
		Use:   "list",
		Short: "list the built kernels: key, release, base commit, when, build seconds, image",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			return status(withCache(func(c *artifact.Cache) int {
				list, err := c.List()
				if err != nil {
					fmt.Fprintf(stderr, "harness cache: %v\n", err)
					return 2
				}
				w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "KEY\tRELEASE\tBASE\tBUILT\tSECONDS\tIMAGE")
				for _, e := range list {
					fmt.Fprintf(w, "%s\t%s\t%.12s %s\t%s\t%.0f\t%s\n", e.Key.String(), e.Release, e.Key.Base, e.Subject, e.Built.Format("2006-01-02 15:04"), e.Seconds, e.Image())
				}
				w.Flush()
				return 0
			}))
		},
	}
	cmd.AddCommand(list, prune, newCacheKeyCmd())
	return cmd
}

// withCache opens the artifact cache for f; an error is exit 2.
func withCache(f func(*artifact.Cache) int) int {
	dir, err := kernel.CacheDir()
	if err != nil {
		fmt.Fprintf(stderr, "harness cache: %v\n", err)
		return 2
	}
	c, err := artifact.Open(dir)
	if err != nil {
		fmt.Fprintf(stderr, "harness cache: %v\n", err)
		return 2
	}
	return f(c)
}
