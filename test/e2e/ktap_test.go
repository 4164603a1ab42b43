package e2e

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kernel-harness/harness/harness/ktap"
	"github.com/kernel-harness/harness/harness/report"
)

// kunitGroup is a test of kunit.py parse's JSON (tools/testing/kunit/
// kunit_json.py): its groups, its cases and the counts under it.
type kunitGroup struct {
	Name      string       `json:"name"`
	SubGroups []kunitGroup `json:"sub_groups"`
	TestCases []struct {
		Name   string `json:"name"`
		Status string `json:"status"`
	} `json:"test_cases"`
	Misc kunitCounts `json:"misc"`
}

type kunitCounts struct {
	Tests   int `json:"tests"`
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
	Crashed int `json:"crashed"`
	Skipped int `json:"skipped"`
	Errors  int `json:"errors"`
}

// kunitParse reads file with the kernel's own KTAP parser, the example
// tree's kunit.py parse, failing the test when the parser found the file
// malformed (its errors: a missing test, a wrong number or plan).
func kunitParse(t *testing.T, file string) kunitGroup {
	t.Helper()
	tree := linuxTree(t)
	abs, err := filepath.Abs(file) // kunit.py reads from its own folder
	if err != nil {
		t.Fatal(err)
	}
	js := filepath.Join(t.TempDir(), "kunit.json")
	cmd := exec.Command("python3", filepath.Join(tree, "tools/testing/kunit/kunit.py"), "parse", "--json="+js, abs)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	// 1 is a run with a failed test: parsed all the same.
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) {
		t.Fatalf("kunit.py parse %s: %v\n%s", file, err, out)
	}
	b, err := os.ReadFile(js)
	if err != nil {
		t.Fatalf("kunit.py parse wrote no JSON: %v\n%s", err, out)
	}
	var g kunitGroup
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if g.Misc.Errors != 0 || g.Misc.Crashed != 0 || strings.Contains(string(out), "[ERROR]") {
		t.Errorf("kunit.py parse %s: %+v\n%s", file, g.Misc, out)
	}
	return g
}

// checkKTAP reads the results.ktap a run left in out with kunit.py
// parse: the cases it counts passed, failed (errors too: KTAP has no
// other word for them) and skipped are report.json's, a group per
// scenario with its cases by name and status.
func checkKTAP(t *testing.T, out string, rep report.Report) {
	t.Helper()
	g := kunitParse(t, filepath.Join(out, ktap.FileName))
	var want kunitCounts
	status := map[string]string{}
	for _, s := range rep.Scenarios {
		want.Tests++
		st := "FAIL"
		switch s.Verdict {
		case report.Pass:
			want.Passed, st = want.Passed+1, "PASS"
		case report.Unsupported:
			want.Skipped, st = want.Skipped+1, "SKIP"
		default:
			want.Failed++
		}
		status[s.Name+" "+s.Family+"."+s.Mode] = st
	}
	if g.Misc != want {
		t.Errorf("kunit.py parse counts %+v; report.json has %+v", g.Misc, want)
	}
	seen := 0
	for _, sg := range g.SubGroups {
		for _, c := range sg.TestCases {
			seen++
			if st, ok := status[sg.Name+" "+c.Name]; !ok || st != c.Status {
				t.Errorf("kunit.py parse: %s %s %s; report.json: %q", sg.Name, c.Name, c.Status, st)
			}
		}
	}
	if seen != len(rep.Scenarios) {
		t.Errorf("kunit.py parse found %d cases in groups, report.json has %d", seen, len(rep.Scenarios))
	}
}

// ktapResult is a result line: its indentation, result and SKIP.
var ktapResult = regexp.MustCompile(`^( *)(ok|not ok) [0-9]+ [^#]*(# SKIP)?`)

// TestE2EKTAPGoldenParse: kunit.py parse reads each of ktap's golden
// files (real runs' reports: errors, selftests, --baseline) without an
// error, and counts the cases the file holds. It needs the example tree
// but boots nothing.
func TestE2EKTAPGoldenParse(t *testing.T) {
	files, _ := filepath.Glob("../../harness/ktap/testdata/*.ktap")
	if len(files) == 0 {
		t.Fatal("no golden KTAP files")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			// A result line is a case unless the line before it (past
			// diagnostics) is deeper in: then it ends a group.
			var want kunitCounts
			prev := 0
			for _, l := range strings.Split(string(b), "\n") {
				depth := len(l) - len(strings.TrimLeft(l, " "))
				if strings.HasPrefix(strings.TrimLeft(l, " "), "#") || l == "" {
					continue
				}
				if m := ktapResult.FindStringSubmatch(l); m != nil && prev <= depth {
					want.Tests++
					switch {
					case m[3] != "":
						want.Skipped++
					case m[2] == "ok":
						want.Passed++
					default:
						want.Failed++
					}
				}
				prev = depth
			}
			if g := kunitParse(t, f); g.Misc != want || want.Tests == 0 {
				t.Errorf("kunit.py parse counts %+v, the file holds %+v", g.Misc, want)
			}
		})
	}
}
