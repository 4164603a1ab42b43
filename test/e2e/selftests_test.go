package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestE2ESelftests builds the 7.3 tree with our port and its test_progs,
// and runs tcp_hdr_options (a sockops test with six subtests) and the
// port's own tcp_autolowat (four cases on IPv4 and IPv6) in the VM: the
// report has one scenario per subtest, and each passed. Where the
// selftests cannot be built (a tool too old or missing: Debian 12's
// default clang 14 is; make test installs clang-19), the harness says
// which before building, and the test is skipped with its words (in CI,
// where make test installs them, it fails).
func TestE2ESelftests(t *testing.T) {
	needQEMU(t)
	tree := linuxTree(t)
	series, _ := filepath.Abs("../../selftests/series/" + port)
	out := t.TempDir()
	// The selftests profile (harness selftests' default): the tree's
	// tools/testing/selftests/bpf/config with what its options need.
	args := []string{"selftests", "--tree", tree, "--series", series, "-t", "tcp_hdr_options", "-t", "tcp_autolowat", "--out", out}
	code, stdout, stderr := runHarness(t, args...)
	if code == 2 && strings.Contains(stderr, "cannot be built here") && os.Getenv("CI") == "" {
		t.Skipf("the harness refused, as it should where tools are missing:\n%s", stderr)
	}
	if code == 2 {
		t.Fatalf("exit 2\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
	var rep struct {
		Verdict   string `json:"verdict"`
		Selftests struct {
			Tests []string `json:"tests"`
		} `json:"selftests"`
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
	for _, fam := range []string{"ipv4", "ipv6"} {
		for _, c := range []string{"one_frame_one_send", "two_frames_then_one", "two_frames_then_descriptor", "descriptor_byte_by_part"} {
			if v := subs["tcp_autolowat/"+fam+"_"+c]; v != "pass" {
				t.Errorf("tcp_autolowat subtest %s_%s: %q, want pass\nstdout:\n%s", fam, c, v, stdout)
			}
		}
	}
	// The test passes on a kernel with the port: nothing the series does
	// breaks TCP header options from sockops.
	if rep.Verdict != "pass" || code != 0 {
		t.Errorf("verdict %s, exit %d (%v)\nstdout:\n%s", rep.Verdict, code, subs, stdout)
	}
	if strings.Join(rep.Selftests.Tests, " ") != "tcp_hdr_options tcp_autolowat" {
		t.Errorf("report's selftests: %+v", rep.Selftests)
	}
	junit, _ := os.ReadFile(filepath.Join(out, "junit.xml"))
	if !strings.Contains(string(junit), `name="tcp_hdr_options/simple_estab" classname="test_progs"`) {
		t.Errorf("junit.xml lacks the subtests:\n%s", junit)
	}
}
