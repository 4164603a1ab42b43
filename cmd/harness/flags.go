package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// The sections a verb's help shows its options in, in this order; an
// option in none of them is listed last, under "Other".
const (
	groupTree     = "Tree and build"
	groupVM       = "VM"
	groupScenario = "Scenarios"
	groupOutput   = "Output"
	groupOther    = "Other"
	groupKey      = "harness_group" // the annotation that names a flag's section
)

var groupOrder = []string{groupTree, groupVM, groupScenario, groupOutput, groupOther}

// helpWidth wraps the options' help; fixed, so that help reads the same
// on every terminal and a golden file can hold it.
const helpWidth = 80

// group puts the named flags of fs in a help section.
func group(fs *pflag.FlagSet, name string, flags ...string) {
	for _, f := range flags {
		if err := fs.SetAnnotation(f, groupKey, []string{name}); err != nil {
			panic(err) // a flag name misspelt here: a bug, caught by the help tests
		}
	}
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }
func (l *listFlag) Type() string       { return "stringArray" }

// choice is a string flag that takes one of a few words, refused at
// parse time: a typo stops the command before anything is done.
type choice struct {
	p  *string
	of []string // "" among them: the flag may be left empty
}

func newChoice(p *string, def string, of ...string) *choice {
	*p = def
	return &choice{p: p, of: of}
}

func (c *choice) String() string { return *c.p }
func (c *choice) Type() string   { return strings.Join(c.nonEmpty(), "|") }
func (c *choice) Set(s string) error {
	if !slices.Contains(c.of, s) {
		return fmt.Errorf("want %s", c.words())
	}
	*c.p = s
	return nil
}

func (c *choice) nonEmpty() []string {
	var w []string
	for _, s := range c.of {
		if s != "" {
			w = append(w, s)
		}
	}
	return w
}

func (c *choice) words() string {
	w := c.nonEmpty()
	if len(w) < 2 {
		return strings.Join(w, "")
	}
	return strings.Join(w[:len(w)-1], ", ") + " or " + w[len(w)-1]
}

// choiceFlag registers a choice and completes its words in the shells.
func choiceFlag(cmd *cobra.Command, p *string, name, def, usage string, of ...string) {
	c := newChoice(p, def, of...)
	cmd.Flags().Var(c, name, usage)
	cmd.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(c.nonEmpty(), cobra.ShellCompDirectiveNoFileComp))
}

// bounded is an int flag with a lower bound, and an upper one when max
// is not 0, refused at parse time.
type bounded struct {
	p        *int
	min, max int
	why      string
}

func (a *bounded) String() string { return strconv.Itoa(*a.p) }
func (a *bounded) Type() string   { return "int" }
func (a *bounded) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("want a whole number")
	}
	switch {
	case a.max != 0 && (n < a.min || n > a.max):
		return fmt.Errorf("want %s, from %d to %d", a.why, a.min, a.max)
	case n < a.min:
		return fmt.Errorf("want %s, %d or more", a.why, a.min)
	}
	*a.p = n
	return nil
}

func atLeastFlag(fs *pflag.FlagSet, p *int, name string, def, min int, why, usage string) {
	*p = def
	fs.Var(&bounded{p: p, min: min, why: why}, name, usage)
}

// betweenFlag is an int flag from min to max; def may lie outside, as
// "not given".
func betweenFlag(fs *pflag.FlagSet, p *int, name string, def, min, max int, why, usage string) {
	*p = def
	fs.Var(&bounded{p: p, min: min, max: max, why: why}, name, usage)
}

// writeHelp is every command's help: its synopsis, what it does, its
// subcommands, and its options by section. It goes to standard output.
func writeHelp(w io.Writer, cmd *cobra.Command) {
	synopsis := cmd.UseLine()
	if s, ok := cmd.Annotations["synopsis"]; ok {
		synopsis = s
	}
	for i, line := range strings.Split(synopsis, "\n") {
		if i == 0 {
			fmt.Fprintf(w, "usage: %s\n", line)
		} else {
			fmt.Fprintf(w, "       %s\n", line)
		}
	}
	if long := strings.TrimSpace(cmd.Long); long != "" {
		fmt.Fprintf(w, "\n%s\n", long)
	} else if cmd.Short != "" {
		fmt.Fprintf(w, "\n%s.\n", upper(cmd.Short))
	}
	if subs := visible(cmd.Commands()); len(subs) > 0 {
		fmt.Fprintln(w, "\nCommands:")
		pad := 0
		for _, c := range subs {
			pad = max(pad, len(c.Name()))
		}
		for _, c := range subs {
			fmt.Fprintf(w, "  %-*s  %s\n", pad, c.Name(), c.Short)
		}
		if !cmd.HasParent() {
			fmt.Fprintln(w, "\nRun 'harness help COMMAND' (or 'harness COMMAND --help') for a command's options.")
		}
	}
	sections := map[string]*pflag.FlagSet{}
	cmd.NonInheritedFlags().VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		g := groupOther
		if a := f.Annotations[groupKey]; len(a) > 0 {
			g = a[0]
		}
		if sections[g] == nil {
			sections[g] = pflag.NewFlagSet(g, pflag.ContinueOnError)
			sections[g].SortFlags = false
		}
		sections[g].AddFlag(f)
	})
	for _, g := range groupOrder {
		if fs := sections[g]; fs != nil {
			heading := g
			if len(sections) == 1 {
				heading = "Options" // no sections: "Other" than nothing
			}
			fmt.Fprintf(w, "\n%s:\n%s", heading, fs.FlagUsagesWrapped(helpWidth))
		}
	}
}

func visible(cmds []*cobra.Command) []*cobra.Command {
	var v []*cobra.Command
	for _, c := range cmds {
		if c.IsAvailableCommand() || c.Name() == "help" {
			v = append(v, c)
		}
	}
	return v
}

func upper(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
