package report

import (
	"encoding/json"
	"fmt"

	"github.com/invopop/jsonschema"
)

// SchemaID is where the published schema of report.json lives in the
// repository (docs/report.schema.json).
const SchemaID = "https://github.com/kernel-harness/harness/blob/main/docs/report.schema.json"

// JSONSchema is the JSON Schema of report.json, made from the Go types,
// so it cannot drift from what the harness writes; with srcDir, this
// package's source folder, the fields' Go comments describe them.
func JSONSchema(srcDir string) ([]byte, error) {
	r := &jsonschema.Reflector{
		// Every field is described in place, with its Go comment.
		ExpandedStruct: true,
		DoNotReference: true,
	}
	if srcDir != "" {
		if err := r.AddGoComments("github.com/kernel-harness/harness/harness/report", srcDir); err != nil {
			return nil, fmt.Errorf("report schema: %w", err)
		}
	}
	s := r.Reflect(&Report{})
	s.ID = SchemaID
	s.Title = "harness report.json (" + Schema + ")"
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
