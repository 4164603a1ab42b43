package scenario

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/kernel-harness/harness/harness/input"
)

// File is the layout of a --scenarios file, in JSON or YAML.
type File struct {
	Scenarios []Scenario `json:"scenarios"`
}

// LoadFile reads scenarios from a JSON or YAML file and checks each one,
// so that a mistake is reported with the file, the scenario and the
// reason before any VM boots. taken holds names already in use.
func LoadFile(path string, taken map[string]bool) ([]Scenario, error) {
	raw, err := input.ReadFile(path, input.TextLimit)
	if err != nil {
		return nil, fmt.Errorf("scenarios: %w", err)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, fmt.Errorf("%s: the file is empty (want {\"scenarios\": [...]}, docs/scenarios.md)", path)
	}
	if ext := strings.ToLower(filepath.Ext(path)); ext == ".yaml" || ext == ".yml" {
		// YAMLToJSON takes the first document and drops the others.
		if line := secondDocument(raw); line > 0 {
			return nil, fmt.Errorf("%s:%d: a second YAML document: one document per file", path, line)
		}
		if raw, err = yaml.YAMLToJSON(raw); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var f File
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	// One document: whatever follows it is a mistake, not a comment.
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%s: more after the scenarios (at byte %d): one JSON or YAML document per file", path, dec.InputOffset())
	}
	if len(f.Scenarios) == 0 {
		return nil, fmt.Errorf("%s: no scenarios (want {\"scenarios\": [...]})", path)
	}
	var errs []error
	for i, s := range f.Scenarios {
		if err := s.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s: scenario %d: %w", path, i+1, err))
			continue
		}
		if taken[s.Name] {
			errs = append(errs, fmt.Errorf("%s: scenario %d: name %q is already taken", path, i+1, s.Name))
		}
		taken[s.Name] = true
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return f.Scenarios, nil
}

// secondDocument is the line of a YAML document marker (---) that follows
// content, which starts a second document; 0 when there is none.
func secondDocument(raw []byte) int {
	content := false
	for i, line := range strings.Split(string(raw), "\n") {
		t := strings.TrimRight(line, " \t\r")
		switch {
		case t == "---" || strings.HasPrefix(t, "--- "):
			if content {
				return i + 1
			}
		case strings.TrimSpace(t) != "" && !strings.HasPrefix(strings.TrimSpace(t), "#"):
			content = true
		}
	}
	return 0
}
