package report_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/internal/testutil"
)

const schemaPath = "../../docs/report.schema.json"

// TestSchemaCurrent: docs/report.schema.json is what the Go types give
// (go test -update rewrites it).
func TestSchemaCurrent(t *testing.T) {
	got, err := report.JSONSchema(".")
	if err != nil {
		t.Fatal(err)
	}
	testutil.Golden(t, schemaPath, got)
}

// TestReportsValidate checks report.json files against the published
// schema: the golden one, a fresh one, and real runs' (report.html's
// fixtures).
func TestReportsValidate(t *testing.T) {
	c := jsonschema.NewCompiler()
	sch, err := c.Compile(schemaPath)
	if err != nil {
		t.Fatalf("compile %s: %v", schemaPath, err)
	}
	fresh := filepath.Join(t.TempDir(), "report.json")
	if err := finished().WriteJSON(fresh); err != nil {
		t.Fatal(err)
	}
	files := []string{fresh, "testdata/report.json"}
	real, _ := filepath.Glob("../htmlreport/testdata/*/report.json")
	more, _ := filepath.Glob("../htmlreport/testdata/*/*/report.json")
	mine, _ := filepath.Glob("testdata/real-*.report.json")
	gha, _ := filepath.Glob("../ghactions/testdata/real-*.json")
	mine = append(mine, gha...)
	files = append(append(append(files, real...), more...), mine...)
	if len(real) == 0 {
		t.Fatal("no real run's report.json to check")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := sch.Validate(v); err != nil {
			t.Errorf("%s does not validate: %v", f, err)
		}
	}
	// The schema refuses what is not a report.
	bad := map[string]any{"schema": 1, "verdict": []int{}}
	raw, _ := json.Marshal(bad)
	v, _ := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if sch.Validate(v) == nil {
		t.Error("the schema accepts anything")
	}
}
