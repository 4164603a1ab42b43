package scenario

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every refusal of a file names the file, the line and column, and the
// scenario when the mistake is inside one.
func TestLoadFilePositions(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct{ name, file, body, want string }{
		{"typo in yaml", "a.yaml", "scenarios:\n  - name: x\n    path: in-order\n    frames: [{header: 1, paylod: 1}]\n    sends: [3]\n",
			`a.yaml:4:26: scenario 1: scenario "x": unknown field "paylod"`},
		{"typo in block yaml", "b.yaml", "scenarios:\n  - name: ok\n    path: in-order\n    frames: [{header: 1, payload: 1}]\n    sends: [10]\n  - name: y\n    path: in-order\n    frames:\n      - header: 1\n        paylod: 1\n",
			`b.yaml:10:9: scenario 2: scenario "y": unknown field "paylod"`},
		{"typo in json", "c.json", "{\"scenarios\": [\n  {\"name\": \"x\",\n   \"pathh\": \"in-order\"}\n]}\n",
			`c.json:3:4: scenario 1: scenario "x": unknown field "pathh"`},
		{"typo outside the scenarios", "d.yaml", "scenarios: []\nscenarioz: 1\n", `d.yaml:2:1: unknown field "scenarioz"`},
		{"fraction", "e.yaml", "scenarios:\n  - name: x\n    mtu: 1.5\n", `e.yaml:3:10: scenario 1: scenario "x": want a whole number, got 1.5`},
		{"not a number", "f.yaml", "scenarios:\n  - name: x\n    mtu: big\n", `f.yaml:3:10: scenario 1: scenario "x": `},
		{"name twice", "g.yaml", "scenarios:\n  - name: x\n    name: y\n", `g.yaml:3:5: mapping key "name" already defined`},
		{"yaml syntax", "h.yaml", "scenarios: [\n", `h.yaml:1:`},
		{"json syntax", "i.json", "{\"scenarios\": [\n  {\"name\": \"x\",]}\n", `i.json:2:16: invalid character ']'`},
		{"json trailing", "j.json", "{\"scenarios\": []}\n\n  trailing\n", `j.json:3:3: more after the scenarios`},
		{"alias", "l.yaml", "scenarios:\n  - name: x\n    frames: &f [{header: 1, payload: 1}]\n    sends: *f\n", `l.yaml:4:12: scenario 1: scenario "x": YAML aliases (*name) are not taken`},
		{"two wrong steps", "m.yaml", "scenarios:\n  - name: x\n    path: in-order\n    frames: [{header: 4, payload: 20}]\n    steps:\n      - send: 0\n      - send: 32\n      - {poll: 2}\n",
			"m.yaml:6:9: scenario 1: scenario \"x\": step 1 (send): 0 bytes; every send must carry data\n" + dir + "/m.yaml:8:9: scenario 1: scenario \"x\": step 3 (poll): 2 ready"},
		{"invalid scenario", "k.yaml", "scenarios:\n  - name: ok\n    path: in-order\n    frames: [{header: 1, payload: 1}]\n    sends: [10]\n  - {name: bad, path: in-order, frames: [{header: 1, payload: 1}], sends: [3]}\n",
			`k.yaml:6:5: scenario 2: scenario "bad": sends add up to 3 bytes`},
	} {
		p := filepath.Join(dir, tt.file)
		os.WriteFile(p, []byte(tt.body), 0o644)
		_, err := LoadFile(p, map[string]bool{})
		if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, tt.want)) {
			t.Errorf("%s: %v\nwant %q", tt.name, err, tt.want)
		}
	}
}
