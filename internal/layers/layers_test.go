// Package layers holds the test that keeps the module's arrows pointing
// down: the verbs over the pipeline's parts, over the boot facade, over
// its backends, over their contract and the wire; and the guest's side
// apart from the host's reporting.
package layers

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const mod = "github.com/kernel-harness/harness/"

// levels, highest first: a package may import one of its own level or
// below, never one above.
var levels = [][]string{
	{"cmd/harness"},
	{"harness/run"},
	{"harness/session", "harness/outputs", "harness/build", "harness/bpftests", "harness/userbpf", "harness/progress"},
	{"harness/boot"},
	{"harness/boot/qemu", "harness/boot/vng"},
	{"harness/boot/driver"},
	{"harness/wire"},
}

// apart are packages that must not import others: what the guest runs
// knows nothing of the host's reports or boots, and the formats do not
// lean on one another.
var apart = map[string][]string{
	"harness/guest":     {"harness/report", "harness/htmlreport", "harness/outputs", "harness/run", "harness/session", "harness/boot"},
	"harness/run":       {"harness/guest", "harness/peer", "harness/boot/qemu", "harness/boot/vng"},
	"harness/perfetto":  {"harness/htmlreport"},
	"harness/ktap":      {"harness/htmlreport", "harness/perfetto", "harness/kcidb"},
	"harness/kcidb":     {"harness/htmlreport", "harness/perfetto", "harness/ktap"},
	"harness/timeline":  {"harness/htmlreport", "harness/perfetto"},
	"harness/analysis":  {"harness/run", "harness/session", "harness/boot"},
	"harness/scenario":  {"harness/report"},
	"harness/boot/qemu": {"harness/report", "harness/run"},
}

// imports maps each package of the module (tests left out) to the
// module's packages it imports.
func imports(t *testing.T) map[string][]string {
	t.Helper()
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	m := map[string][]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(l)
		p, _ := strings.CutPrefix(f[0], mod)
		m[p] = nil
		for _, imp := range f[1:] {
			if rel, ok := strings.CutPrefix(imp, mod); ok {
				m[p] = append(m[p], rel)
			}
		}
	}
	return m
}

func TestArrowsPointDown(t *testing.T) {
	g := imports(t)
	level := map[string]int{}
	for i, ps := range levels {
		for _, p := range ps {
			if _, ok := g[p]; !ok {
				t.Errorf("levels name %s, which is not a package of the module", p)
			}
			level[p] = i
		}
	}
	for p, imps := range g {
		lp, ok := level[p]
		if !ok {
			continue
		}
		for _, imp := range imps {
			if li, ok := level[imp]; ok && li < lp {
				t.Errorf("%s imports %s, a level above it", p, imp)
			}
		}
	}
}

func TestApart(t *testing.T) {
	g := imports(t)
	for p, bad := range apart {
		imps, ok := g[p]
		if !ok {
			t.Errorf("%s is not a package of the module", p)
		}
		for _, imp := range imps {
			for _, b := range bad {
				if imp == b {
					t.Errorf("%s imports %s", p, imp)
				}
			}
		}
	}
}

// The verbs' package drives the pipeline and holds nothing else: what
// grows there belongs in a package of its own.
func TestRunStaysSmall(t *testing.T) {
	const most = 1200
	files, err := filepath.Glob("../../harness/run/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no files in harness/run (%v)", err)
	}
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n += strings.Count(string(b), "\n")
	}
	if n >= most {
		t.Errorf("harness/run holds %d lines of Go, not under %d: move what is not the verbs and their pipeline to a package of its own", n, most)
	}
}
