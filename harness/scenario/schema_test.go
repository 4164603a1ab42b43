package scenario

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/kernel-harness/harness/internal/testutil"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

const schemaPath = "../../docs/scenarios.schema.json"

// TestSchemaCurrent: docs/scenarios.schema.json is what the Go types give
// (go test ./harness/scenario -update rewrites it).
func TestSchemaCurrent(t *testing.T) {
	got, err := JSONSchema(".")
	if err != nil {
		t.Fatal(err)
	}
	testutil.Golden(t, schemaPath, got)
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	sch, err := jsonschema.NewCompiler().Compile(schemaPath)
	if err != nil {
		t.Fatalf("compile %s: %v", schemaPath, err)
	}
	return sch
}

func validateYAML(t *testing.T, sch *jsonschema.Schema, src []byte) error {
	t.Helper()
	j, err := yaml.YAMLToJSON(src)
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	return sch.Validate(v)
}

// The example file and the built-in scenarios, written as a file, are
// what the schema allows; a typo or a wrong step is not.
func TestSchemaValidates(t *testing.T) {
	sch := compileSchema(t)
	example, err := os.ReadFile("../../docs/examples/scenarios.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := validateYAML(t, sch, example); err != nil {
		t.Errorf("docs/examples/scenarios.yaml: %v", err)
	}
	builtin, err := json.Marshal(File{Scenarios: All()})
	if err != nil {
		t.Fatal(err)
	}
	if err := validateYAML(t, sch, builtin); err != nil {
		t.Errorf("the built-in scenarios: %v", err)
	}
	for name, src := range map[string]string{
		"typo":          "scenarios:\n  - name: x\n    path: in-order\n    frames: [{header: 1, paylod: 1}]\n    sends: [10]\n",
		"unknown path":  "scenarios:\n  - name: x\n    path: sideways\n    frames: [{header: 1, payload: 1}]\n    sends: [10]\n",
		"two-key step":  "scenarios:\n  - name: x\n    path: in-order\n    frames: [{header: 1, payload: 1}]\n    steps: [{send: 10, poll: 1}]\n",
		"unknown step":  "scenarios:\n  - name: x\n    path: in-order\n    frames: [{header: 1, payload: 1}]\n    steps: [{sned: 10}]\n",
		"no frames":     "scenarios:\n  - name: x\n    path: in-order\n",
		"no scenarios":  "{}\n",
		"autolowat off": "scenarios:\n  - name: x\n    path: in-order\n    frames: [{header: 1, payload: 1}]\n    steps: [{autolowat: false}, {send: 10}]\n",
	} {
		if validateYAML(t, sch, []byte(src)) == nil {
			t.Errorf("%s: the schema accepts it", name)
		}
	}
}
