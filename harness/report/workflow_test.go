package report_test

import (
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// The results job of the shipped workflow merges the shards' junit.xml
// into one that is still junit-10, with every shard's suites and totals,
// and appends every shard's step summary to its own.
func TestWorkflowMergesShards(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed (apt-get install python3): it runs the workflow's merge step")
	}
	raw, err := os.ReadFile("../../.github/workflows/harness-kernel.yml")
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Jobs map[string]struct {
			Steps []struct {
				Name  string `yaml:"name"`
				Shell string `yaml:"shell"`
				Run   string `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(raw, &wf); err != nil {
		t.Fatal(err)
	}
	script := ""
	for _, st := range wf.Jobs["results"].Steps {
		if strings.HasPrefix(st.Name, "Merge") && st.Shell == "python" {
			script = st.Run
		}
	}
	if script == "" {
		t.Fatal("no python Merge step in the results job")
	}
	dir := t.TempDir()
	junit, err := os.ReadFile("testdata/junit.xml")
	if err != nil {
		t.Fatal(err)
	}
	shards := []string{"harness-minimal-shard-1", "harness-minimal-shard-2"}
	for _, s := range shards {
		os.MkdirAll(filepath.Join(dir, "shards", s), 0o755)
		os.WriteFile(filepath.Join(dir, "shards", s, "junit.xml"), junit, 0o644)
		os.WriteFile(filepath.Join(dir, "shards", s, "step-summary.md"), []byte("### summary of "+s+"\n"), 0o644)
	}
	summary := filepath.Join(dir, "summary.md")
	os.WriteFile(summary, []byte("before\n"), 0o644)
	cmd := exec.Command(python, "-c", script)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), "GITHUB_STEP_SUMMARY="+summary)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("merge step: %v\n%s", err, out)
	}
	f, err := os.Open(filepath.Join(dir, "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := validJUnit10(f); err != nil {
		t.Errorf("merged junit.xml is not junit-10: %v", err)
	}
	type suites struct {
		Tests  int `xml:"tests,attr"`
		Suites []struct {
			Name  string `xml:"name,attr"`
			Tests int    `xml:"tests,attr"`
		} `xml:"testsuite"`
	}
	var one, merged suites
	xml.Unmarshal(junit, &one)
	b, _ := os.ReadFile(filepath.Join(dir, "junit.xml"))
	if err := xml.Unmarshal(b, &merged); err != nil {
		t.Fatal(err)
	}
	if len(one.Suites) == 0 || len(merged.Suites) != 2*len(one.Suites) || merged.Tests != 2*one.Tests || !strings.HasPrefix(merged.Suites[0].Name, shards[0]+": ") {
		t.Errorf("merged %+v from two copies of %+v", merged, one)
	}
	s, _ := os.ReadFile(summary)
	if want := "before\n### summary of " + shards[0] + "\n\n### summary of " + shards[1] + "\n\n"; string(s) != want {
		t.Errorf("step summary %q, want %q", s, want)
	}
}
