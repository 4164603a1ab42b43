package scenario

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadAllAndSelect(t *testing.T) {
	dir := t.TempDir()
	doc := `{"scenarios":[{"name":"mine","path":"in-order","frames":[{"header":4,"payload":4}],"sends":[16]}]}`
	a, b := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	os.WriteFile(a, []byte(doc), 0o644)
	os.WriteFile(b, []byte(doc), 0o644)
	all, sources, err := LoadAll([]string{a})
	if err != nil || len(all) != len(All())+1 || len(sources[a]) != 1 || sources[a][0] != "mine" {
		t.Fatalf("LoadAll: %d scenarios, sources %v, %v", len(all), sources, err)
	}
	if _, _, err := LoadAll([]string{a, b}); err == nil || !strings.Contains(err.Error(), `name "mine" is already taken`) {
		t.Errorf("a name twice: %v", err)
	}
	cases, err := Select(all, "^mine$")
	if err != nil || len(cases) == 0 || cases[0].Scenario.Name != "mine" {
		t.Errorf("Select ^mine$: %v, %v", cases, err)
	}
	if _, err := Select(all, "("); err == nil || !strings.Contains(err.Error(), "--scenario: error parsing regexp") {
		t.Errorf("bad pattern: %v", err)
	}
	if _, err := Select(all, "^nothing$"); err == nil || !strings.Contains(err.Error(), `no scenario matches --scenario "^nothing$"`) {
		t.Errorf("no match: %v", err)
	}
}
