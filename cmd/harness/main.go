// Command harness tests a TCP/BPF kernel patch series for real: it boots a
// kernel in QEMU with itself as the guest agent, drives TCP traffic through
// the paths the series touches, and reports what the kernel did.
//
// Started as PID 1 of the initramfs it makes, it is that guest agent.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kernel-harness/harness/harness/guest"
	"github.com/kernel-harness/harness/harness/text"
	"github.com/kernel-harness/harness/harness/version"
	"github.com/kernel-harness/harness/harness/wire"
)

func main() {
	if isAgent() {
		guest.Main()
		return
	}
	os.Exit(execute(os.Args[1:], os.Stdout, stderr))
}

// isAgent says whether this process is the guest agent: PID 1 of an
// initramfs the harness built, which holds the marker. PID 1 alone is
// also a harness started as a container's command.
func isAgent() bool {
	if os.Getpid() != 1 {
		return false
	}
	_, err := os.Lstat(wire.AgentMarker)
	return err == nil
}

// exitCode is a verb's exit status other than 0, after the verb has
// said why on standard error.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// status turns a verb's exit status into what cobra's RunE returns.
func status(code int) error {
	if code == 0 {
		return nil
	}
	return exitCode(code)
}

// execute runs the command line args (without the program's name) and
// returns the exit status: a command line that cannot be taken (unknown
// verb or flag, a bad flag value, a stray argument) is 2, said on
// stderr, before anything is created.
func execute(args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	if cmd, _, err := root.Find(args); err == nil {
		if err := singleDash(cmd, args); err != nil {
			return usageError(stderr, cmd, err)
		}
	}
	cmd, err := root.ExecuteC()
	if err == nil {
		return 0
	}
	var code exitCode
	if errors.As(err, &code) {
		return int(code)
	}
	return usageError(stderr, cmd, err)
}

func usageError(stderr io.Writer, cmd *cobra.Command, err error) int {
	fmt.Fprintf(stderr, "%s: %s\n", cmd.CommandPath(), strings.TrimSpace(err.Error()))
	fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
	return 2
}

// newRoot is the command tree, writing help and completion scripts to
// stdout and usage errors to stderr.
func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "harness",
		Short: "test a TCP/BPF kernel patch series in QEMU",
		Annotations: map[string]string{
			"synopsis": "harness COMMAND [options]\n" +
				"harness help COMMAND",
		},
		Long: `Tests a TCP/BPF kernel patch series for real: applies it to a kernel tree,
builds the kernel, boots it in QEMU with the harness as the guest agent,
drives TCP traffic through the paths the series touches, traces what the
kernel did with BPF, and reports a verdict per scenario.`,
		Version:       version.Long(),
		SilenceErrors: true,
		SilenceUsage:  true,
		// Bare "harness" is a usage error, as before: usage on stderr, exit 2.
		RunE: func(cmd *cobra.Command, _ []string) error {
			writeHelp(cmd.ErrOrStderr(), cmd)
			return exitCode(2)
		},
	}
	// Commands in the order people reach for them, not alphabetical.
	cobra.EnableCommandSorting = false
	root.Flags().BoolP("version", "v", false, "print the version (as harness version)")
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetHelpFunc(func(c *cobra.Command, _ []string) { writeHelp(c.OutOrStdout(), c) })
	root.AddCommand(newRunCmd(), newBuildCmd(), newSelftestsCmd(), newBisectCmd(),
		newReportCmd(), newCacheCmd(), newScenariosCmd(), newVersionCmd(),
		newAgentCmd(), newGenManCmd())
	root.SetHelpCommand(newHelpCmd())
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			c.Short = "print a shell completion script (bash, zsh, fish)"
			// Without a shell it would print its help and exit 0, as if a
			// script had been written.
			c.Args = noArgs
			c.RunE = func(c *cobra.Command, _ []string) error {
				fmt.Fprintln(c.ErrOrStderr(), "harness completion: name the shell: harness completion bash (or zsh, fish, powershell)")
				return exitCode(2)
			}
		}
	}
	return root
}

// newHelpCmd is harness help [COMMAND...]: cobra's own prints the top
// level's usage and exits 0 for an unknown command; this one is a usage
// error with suggestions, as harness COMMAND would be.
func newHelpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "help [COMMAND]",
		Short: "print the help of a command",
		RunE: func(c *cobra.Command, args []string) error {
			cmd, rest, err := c.Root().Find(args)
			switch {
			case err != nil:
				return err
			case len(rest) > 0:
				return fmt.Errorf("unknown command %q for %q", rest[0], cmd.CommandPath())
			}
			cmd.InitDefaultHelpFlag() // as cmd --help lists it
			writeHelp(c.OutOrStdout(), cmd)
			return nil
		},
		ValidArgsFunction: func(c *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
			cmd, _, err := c.Root().Find(args)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var names []string
			for _, sub := range cmd.Commands() {
				if sub.IsAvailableCommand() && strings.HasPrefix(sub.Name(), prefix) {
					names = append(names, sub.Name())
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
	}
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "print the harness version, its revision, Go version and linking",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), version.Long())
			return nil
		},
	}
}

// noArgs refuses positional arguments: no verb but report takes any.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected argument %q", args[0])
	}
	return nil
}

// singleDash refuses -name for a long option --name of cmd: Go's flag
// package took both spellings, pflag reads -name as the short options
// -n -a -m -e, which could silently mean something else.
func singleDash(cmd *cobra.Command, args []string) error {
	for _, a := range args {
		if a == "--" {
			break
		}
		if len(a) < 3 || a[0] != '-' || a[1] == '-' {
			continue
		}
		name, _, _ := strings.Cut(a[1:], "=")
		if len(name) > 1 && cmd.Flags().Lookup(name) != nil {
			return fmt.Errorf("%s: long options take two dashes: --%s", a, a[1:])
		}
	}
	return nil
}

// stderr is where the command's own messages go: through
// text.Printable, so that a name or an error never reaches the terminal
// with raw escapes.
var stderr io.Writer = text.SafeWriter{W: os.Stderr}
