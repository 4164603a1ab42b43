package boot

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"testing"
)

// TestLayers keeps the facade on top: the backends import the driver
// contract, never boot, and the contract imports no backend.
func TestLayers(t *testing.T) {
	const mod = "github.com/kernel-harness/harness/harness/boot"
	refused := map[string][]string{
		"driver": {mod, mod + "/qemu", mod + "/vng"},
		"qemu":   {mod, mod + "/vng"},
		"vng":    {mod, mod + "/qemu"},
	}
	for dir, bad := range refused {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no Go files (%v)", dir, err)
		}
		for _, f := range files {
			ast, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range ast.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				for _, b := range bad {
					if p == b {
						t.Errorf("%s imports %s", f, p)
					}
				}
			}
		}
	}
}
