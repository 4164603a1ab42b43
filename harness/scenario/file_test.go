package scenario

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadFileExample(t *testing.T) {
	got, err := LoadFile("../../docs/examples/scenarios.yaml", map[string]bool{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].Name != "ofo-two-holes" || !got[1].Peer() || got[0].Peer() {
		t.Fatalf("%+v", got)
	}
	if p := got[1].Prefix(); p[0] != 10 || p[3] != 10 || p[4] != 64 {
		t.Fatalf("prefix %v", p)
	}
}

func TestLoadFileErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	for _, tt := range []struct{ name, file, body, want string }{
		{"unknown field", "a.json", `{"scenarios":[{"name":"x","pathh":"in-order"}]}`, `unknown field "pathh"`},
		{"bad scenario", "b.yaml", "scenarios:\n  - name: x\n    path: in-order\n    frames: [{header: 1, payload: 1}]\n    sends: [3]\n", `scenario 1: scenario "x": sends add up to 3 bytes but the frames are 10 bytes`},
		{"taken name", "c.yaml", "scenarios:\n  - name: split-frame\n    path: in-order\n    frames: [{header: 1, payload: 1}]\n    sends: [10]\n", `name "split-frame" is already taken`},
		{"empty", "d.json", `{}`, "no scenarios"},
		{"not yaml", "e.yaml", "scenarios: [", "e.yaml"},
	} {
		taken := map[string]bool{"split-frame": true}
		_, err := LoadFile(write(tt.file, tt.body), taken)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.file) {
			t.Errorf("%s: %v, want the file and %q", tt.name, err, tt.want)
		}
	}
}
