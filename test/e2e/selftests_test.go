package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestE2ESelftests builds the 6.12 tree with our port and its test_progs,
// and runs tcp_hdr_options (a sockops test with six subtests) in the VM:
// the report has one scenario per subtest. Where the selftests cannot be
// built (a tool too old or missing: Debian 12's clang 14 is), the harness
// says which before building, and the test is skipped with its words.
func TestE2ESelftests(t *testing.T) {
	needQEMU(t)
	tree := linuxTree(t)
	series, _ := filepath.Abs("../../selftests/series/rcvq-6.12")
	out := t.TempDir()
	// The selftests' own config on top of the minimal profile, with what
	// its options depend on there (harness cache key names these).
	args := []string{"selftests", "--tree", tree, "--series", series, "-t", "tcp_hdr_options", "--out", out,
		"--config", filepath.Join(tree, "tools/testing/selftests/bpf/config")}
	for _, dep := range []string{"BLK_DEV", "HARDLOCKUP_DETECTOR", "SOFTLOCKUP_DETECTOR", "KPROBES", "IPV6_SEG6_LWTUNNEL",
		"DEBUG_FS", "INPUT", "TCP_CONG_ADVANCED", "RUNTIME_TESTING_MENU"} {
		args = append(args, "--config-item", "CONFIG_"+dep+"=y")
	}
	code, stdout, stderr := runHarness(t, args...)
	if code == 2 && strings.Contains(stderr, "cannot be built here") {
		t.Skipf("the harness refused, as it should where tools are missing:\n%s", stderr)
	}
	if code == 2 {
		t.Fatalf("exit 2\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
	var rep struct {
		Verdict   string `json:"verdict"`
		Scenarios []struct {
			Name    string `json:"name"`
			Path    string `json:"path"`
			Verdict string `json:"verdict"`
		} `json:"scenarios"`
	}
	b, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	subs := map[string]string{}
	for _, s := range rep.Scenarios {
		if s.Path != "test_progs" {
			t.Errorf("scenario %s: path %q, want test_progs", s.Name, s.Path)
		}
		subs[s.Name] = s.Verdict
	}
	for _, want := range []string{"simple_estab", "no_exprm_estab", "syncookie_estab", "fastopen_estab", "fin", "misc"} {
		if _, ok := subs["tcp_hdr_options/"+want]; !ok {
			t.Errorf("no scenario for subtest %s; got %v\nstdout:\n%s", want, subs, stdout)
		}
	}
	junit, _ := os.ReadFile(filepath.Join(out, "junit.xml"))
	if !strings.Contains(string(junit), `name="tcp_hdr_options/simple_estab" classname="test_progs"`) {
		t.Errorf("junit.xml lacks the subtests:\n%s", junit)
	}
}
