// Command harness tests a TCP/BPF kernel patch series for real: it boots a
// kernel in QEMU with itself as the guest agent, drives TCP traffic through
// the paths the series touches, and reports what the kernel did.
//
// Started as PID 1 of the initramfs it makes, it is that guest agent.
package main

import (
	"errors"
	"flag"
	"fmt"
	"github.com/kernel-harness/harness/harness/version"
	"os"

	"github.com/kernel-harness/harness/harness/guest"
	"github.com/kernel-harness/harness/harness/image"
)

const usage = `usage: harness <command> [options]

commands:
  run       boot a kernel, run the scenarios, report (harness run -h)
  build     apply a series to a tree and build the kernel (harness build -h)
  bisect    find the first commit at which scenarios fail (harness bisect -h)
  selftests build and run the tree's BPF selftests (test_progs) in the VM (harness selftests -h)
  report    regenerate report.html in an output folder (harness report DIR)
  cache     list or prune the built kernels, or print a build's cache key (harness cache list|prune|key)
  version   print the harness version
`

func main() {
	if isAgent() {
		guest.Main()
		return
	}
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	switch os.Args[1] {
	case "run":
		os.Exit(runCmd(os.Args[2:]))
	case "build":
		os.Exit(buildCmd(os.Args[2:]))
	case "bisect":
		os.Exit(bisectCmd(os.Args[2:]))
	case "report":
		os.Exit(reportCmd(os.Args[2:]))
	case "cache":
		os.Exit(cacheCmd(os.Args[2:]))
	case "selftests":
		os.Exit(selftestsCmd(os.Args[2:]))
	case "agent": // inside a vng guest (agent.go)
		os.Exit(agentCmd(os.Args[2:]))
	case "version":
		fmt.Println(version.Long())
	case "-h", "--help", "help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "harness: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
}

// isAgent says whether this process is the guest agent: PID 1 of an
// initramfs the harness built, which holds the marker. PID 1 alone is
// also a harness started as a container's command.
func isAgent() bool {
	if os.Getpid() != 1 {
		return false
	}
	_, err := os.Lstat(image.AgentMarker)
	return err == nil
}

// parseFlags parses a verb's flags, none of which take arguments after
// them; done says the verb must return code now: 0 after -help, 2 on a
// bad flag or a stray argument.
func parseFlags(fs *flag.FlagSet, args []string, verb string) (code int, done bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, true
		}
		return 2, true
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "harness %s: unexpected argument %q\n", verb, fs.Arg(0))
		return 2, true
	}
	return 0, false
}
