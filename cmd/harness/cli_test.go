package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kernel-harness/harness/harness/scenario"
	"github.com/kernel-harness/harness/harness/version"
	"github.com/kernel-harness/harness/internal/testutil"
)

// harness runs the command line in this process, as main would.
func harness(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = execute(args, &out, &errb)
	return code, out.String(), errb.String()
}

// The help of harness run is what testdata/run-help.golden holds: its
// sections and flags change only with that file (go test -update).
func TestRunHelpGolden(t *testing.T) {
	code, out, errs := harness(t, "run", "--help")
	if code != 0 || errs != "" {
		t.Fatalf("harness run --help: exit %d, stderr %q", code, errs)
	}
	testutil.Golden(t, filepath.Join("testdata", "run-help.golden"), []byte(out))
}

// Every option of run is in one of the help's sections and in the README,
// which spells them --name as help does.
func TestRunFlagsGroupedAndDocumented(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"run", "build", "bisect", "selftests"} {
		cmd, _, err := newRoot(io.Discard, io.Discard).Find([]string{verb})
		if err != nil {
			t.Fatal(err)
		}
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			if len(f.Annotations[groupKey]) == 0 {
				t.Errorf("harness %s --%s is in no section of help", verb, f.Name)
			}
			if verb == "run" && !regexp.MustCompile(`--`+f.Name+`\b`).Match(readme) {
				t.Errorf("harness run --%s is not in README.md", f.Name)
			}
		})
	}
	_, out, _ := harness(t, "run", "--help")
	for _, g := range []string{groupTree, groupVM, groupScenario, groupOutput} {
		if !strings.Contains(out, "\n"+g+":\n") {
			t.Errorf("harness run --help has no section %q", g)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"-v"}, {"version"}} {
		code, out, errs := harness(t, args...)
		if code != 0 || errs != "" || out != version.Long()+"\n" {
			t.Errorf("harness %s: exit %d, stdout %q, stderr %q; want exit 0 and %q", args[0], code, out, errs, version.Long())
		}
	}
}

// help VERB and VERB --help print the verb's help, on standard output.
func TestHelpVerb(t *testing.T) {
	_, viaFlag, _ := harness(t, "run", "--help")
	code, out, errs := harness(t, "help", "run")
	if code != 0 || errs != "" || out != viaFlag {
		t.Errorf("harness help run: exit %d, stderr %q, stdout:\n%s\nwant run --help's", code, errs, out)
	}
	if !strings.HasPrefix(out, "usage: harness run ") {
		t.Errorf("harness help run starts %q", strings.SplitN(out, "\n", 2)[0])
	}
	for _, verb := range []string{"build", "bisect", "selftests", "report", "cache", "cache prune", "scenarios list", "version", "completion"} {
		code, out, errs := harness(t, append([]string{"help"}, strings.Fields(verb)...)...)
		if code != 0 || errs != "" || !strings.HasPrefix(out, "usage: harness "+verb) {
			t.Errorf("harness help %s: exit %d, stderr %q, stdout starts %q", verb, code, errs, strings.SplitN(out, "\n", 2)[0])
		}
	}
}

// harness run --help | head shows the help: it goes to standard output.
func TestHelpThroughPipe(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "harness")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command("sh", "-c", bin+" run --help 2>/dev/null | head -n 1").Output()
	if err != nil || !strings.HasPrefix(string(out), "usage: harness run") {
		t.Errorf("harness run --help | head: %v, %q", err, out)
	}
}

// Subcommands' --help is help, exit 0: not a listing, not a usage error.
func TestCacheHelp(t *testing.T) {
	for _, sub := range []string{"list", "prune", "key"} {
		code, out, errs := harness(t, "cache", sub, "--help")
		if code != 0 || errs != "" || !strings.HasPrefix(out, "usage: harness cache "+sub) || strings.Contains(out, "KEY\tRELEASE") {
			t.Errorf("harness cache %s --help: exit %d, stderr %q, stdout:\n%s", sub, code, errs, out)
		}
	}
}

func TestDidYouMean(t *testing.T) {
	code, out, errs := harness(t, "rnu")
	if code != 2 || out != "" || !strings.Contains(errs, `unknown command "rnu"`) || !strings.Contains(errs, "Did you mean this?\n\trun\n") {
		t.Errorf("harness rnu: exit %d, stdout %q, stderr:\n%s\nwant exit 2 and a suggestion of run", code, out, errs)
	}
	code, _, errs = harness(t, "help", "rnu")
	if code != 2 || !strings.Contains(errs, "Did you mean this?\n\trun\n") {
		t.Errorf("harness help rnu: exit %d, stderr:\n%s\nwant exit 2 and a suggestion of run", code, errs)
	}
	code, _, errs = harness(t, "cache", "lst")
	if code != 2 || !strings.Contains(errs, "Did you mean this?\n\tlist\n") {
		t.Errorf("harness cache lst: exit %d, stderr:\n%s\nwant exit 2 and a suggestion of list", code, errs)
	}
}

// Usage errors exit 2 before anything is made: no output folder, named
// or default.
func TestUsageErrorsCreateNothing(t *testing.T) {
	cwd := t.TempDir()
	t.Chdir(cwd)
	out := filepath.Join(cwd, "out")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--accel", "kwm"}, `invalid argument "kwm" for "--accel" flag: want kvm, tcg or auto`},
		{[]string{"run", "--repeat", "0"}, `invalid argument "0" for "--repeat" flag: want a count of runs, 1 or more`},
		{[]string{"run", "--exit-untestable", "0"}, `invalid argument "0" for "--exit-untestable" flag: want an exit status git bisect run takes (125 skips the commit), from 1 to 127`},
		{[]string{"run", "--exit-untestable", "128"}, `from 1 to 127`},
		{[]string{"run", "--exit-untestable", "skip"}, `invalid argument "skip" for "--exit-untestable" flag: want a whole number`},
		{[]string{"run", "--machine", "pc"}, `want q35 or microvm`},
		{[]string{"run", "--backend", "docker"}, `want qemu, vng or auto`},
		{[]string{"run", "-accel", "kvm"}, `-accel: long options take two dashes: --accel`},
		{[]string{"run", "--acel", "kvm"}, `unknown flag: --acel`},
		{[]string{"run", "stray"}, `unexpected argument "stray"`},
		{[]string{"selftests", "-tree", "x"}, `-tree: long options take two dashes: --tree`},
		{[]string{"bisect", "--boot-failure", "good"}, `want skip or bad`},
		{[]string{"cache"}, `want a subcommand`},
		{[]string{"report"}, `want one output folder`},
		{[]string{}, `usage: harness COMMAND`},
	} {
		args := tt.args
		if len(args) > 0 && args[0] != "cache" && args[0] != "report" {
			args = append(args, "--out", out)
		}
		code, stdout, errs := harness(t, args...)
		if code != 2 || stdout != "" || !strings.Contains(errs, tt.want) {
			t.Errorf("harness %s: exit %d, stdout %q, stderr:\n%s\nwant exit 2 and %q", strings.Join(args, " "), code, stdout, errs, tt.want)
		}
	}
	if ents, _ := os.ReadDir(cwd); len(ents) > 0 {
		t.Errorf("usage errors left %v in the working folder", ents)
	}
}

func TestCompletion(t *testing.T) {
	for shell, want := range map[string]string{"bash": "__start_harness", "zsh": "#compdef harness", "fish": "complete -c harness"} {
		code, out, errs := harness(t, "completion", shell)
		if code != 0 || errs != "" || !strings.Contains(out, want) {
			t.Errorf("harness completion %s: exit %d, stderr %q, no %q in the script", shell, code, errs, want)
		}
	}
	// Without a shell nothing is written, and it is an error.
	if code, out, errs := harness(t, "completion"); code != 2 || out != "" || !strings.Contains(errs, "name the shell") {
		t.Errorf("harness completion: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	// The words of a choice complete.
	_, out, _ := harness(t, cobra.ShellCompRequestCmd, "run", "--accel", "")
	if !strings.Contains(out, "kvm\n") || !strings.Contains(out, "tcg\n") {
		t.Errorf("completing --accel gave:\n%s", out)
	}
}

// make man writes a page per command from the same definitions as help.
func TestManTarget(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed: apt-get install make")
	}
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "man")
	cmd := exec.Command("make", "-s", "-C", "../..", "man", "MANDIR="+dir, "BIN="+filepath.Join(tmp, "harness"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make man: %v\n%s", err, out)
	}
	for _, page := range []string{"harness.1", "harness-run.1", "harness-cache-prune.1", "harness-scenarios-list.1"} {
		b, err := os.ReadFile(filepath.Join(dir, page))
		if err != nil {
			t.Error(err)
			continue
		}
		if !bytes.HasPrefix(b, []byte(".nh\n.TH \"HARNESS\" \"1\"")) {
			t.Errorf("%s starts %q", page, b[:min(40, len(b))])
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "harness-run.1"))
	if !bytes.Contains(b, []byte(`\fB--accel\fP`)) || !bytes.Contains(b, []byte("lib/modules/<release>")) {
		t.Errorf("harness-run.1 lacks --accel or the escaped <release>:\n%s", b)
	}
	if _, err := os.Stat(filepath.Join(dir, "harness-agent.1")); err == nil {
		t.Error("the hidden agent verb has a man page")
	}
}

func TestScenariosList(t *testing.T) {
	code, out, errs := harness(t, "scenarios", "list")
	if code != 0 || errs != "" {
		t.Fatalf("harness scenarios list: exit %d, stderr %q", code, errs)
	}
	for _, sc := range scenario.All() {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(sc.Name) + ` +` + regexp.QuoteMeta(sc.Path) + ` +` + regexp.QuoteMeta(sc.Description) + `$`).MatchString(out) {
			t.Errorf("no row %s %s in:\n%s", sc.Name, sc.Path, out)
		}
	}
}

// The guest agent verb is there for the host to run in a vng guest, and
// hidden from people: not in help, completion or man pages.
func TestAgentVerbHidden(t *testing.T) {
	if _, out, _ := harness(t, "help"); strings.Contains(out, "\n  agent ") || strings.Contains(out, "\n  gen-man ") {
		t.Errorf("help lists a hidden verb:\n%s", out)
	}
	code, _, errs := harness(t, "agent")
	if code != 2 || !strings.Contains(errs, "--events and --files are required") {
		t.Errorf("harness agent: exit %d, stderr %q", code, errs)
	}
	if isAgent() {
		t.Error("a test process is taken for the guest agent")
	}
}
