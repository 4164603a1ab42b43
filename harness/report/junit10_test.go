package report_test

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kernel-harness/harness/harness/report"
)

// junit10 is what the junit-10.xsd schema that Jenkins' xUnit plugin and
// GitLab read allows, element by element: its attributes (required ones
// marked with a *) and its children. Written from the schema, so that a
// junit.xml that passes here passes there.
var junit10 = map[string]struct {
	attrs    []string
	children []string
}{
	"testsuites": {[]string{"name", "time", "tests", "failures", "errors"}, []string{"testsuite"}},
	"testsuite": {[]string{"name*", "tests*", "failures*", "errors*", "group", "time", "skipped", "timestamp", "hostname", "id", "package", "file", "log", "url"},
		[]string{"testsuite", "properties", "testcase", "system-out", "system-err"}},
	"properties": {nil, []string{"property"}},
	"property":   {[]string{"name*", "value*"}, nil},
	"testcase":   {[]string{"name*", "time", "classname", "group"}, []string{"skipped", "error", "failure", "system-out", "system-err"}},
	"failure":    {[]string{"type", "message"}, nil},
	"error":      {[]string{"type", "message"}, nil},
	"skipped":    {[]string{"type", "message"}, nil},
	"system-out": {nil, nil},
	"system-err": {nil, nil},
}

var surefireTime = regexp.MustCompile(`^(([0-9]{0,3},)*[0-9]{3}|[0-9]{0,3})*(\.[0-9]*)?$`)

// validJUnit10 checks a junit.xml against junit10.
func validJUnit10(r io.Reader) error {
	d := xml.NewDecoder(r)
	var stack []string
	root := true
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := t.Name.Local
			rule, ok := junit10[name]
			if !ok {
				return fmt.Errorf("element <%s> is not in the schema", name)
			}
			if root && name != "testsuites" && name != "testsuite" {
				return fmt.Errorf("root <%s>", name)
			}
			root = false
			if len(stack) > 0 {
				parent := stack[len(stack)-1]
				if !slices.Contains(junit10[parent].children, name) {
					return fmt.Errorf("<%s> inside <%s>", name, parent)
				}
			}
			have := map[string]bool{}
			for _, a := range t.Attr {
				if !slices.Contains(rule.attrs, a.Name.Local) && !slices.Contains(rule.attrs, a.Name.Local+"*") {
					return fmt.Errorf("<%s %s=...>: attribute not in the schema", name, a.Name.Local)
				}
				if a.Name.Local == "time" && (name == "testsuite" || name == "testsuites") && !surefireTime.MatchString(a.Value) {
					return fmt.Errorf("<%s time=%q>: not a SUREFIRE_TIME", name, a.Value)
				}
				have[a.Name.Local] = true
			}
			for _, a := range rule.attrs {
				if req, ok := strings.CutSuffix(a, "*"); ok && !have[req] {
					return fmt.Errorf("<%s> lacks the required %s", name, req)
				}
			}
			stack = append(stack, name)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
}

// TestJUnit10 checks every junit.xml the harness writes against the
// schema CI systems read: one run, a --baseline pair, and the committed
// golden file.
func TestJUnit10(t *testing.T) {
	dir := t.TempDir()
	one := filepath.Join(dir, "one.xml")
	if err := finished().WriteJUnit(one); err != nil {
		t.Fatal(err)
	}
	pair := filepath.Join(dir, "pair.xml")
	if err := finished().WriteJUnitPair(finished(), pair); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{one, pair, "testdata/junit.xml"} {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := validJUnit10(f); err != nil {
			t.Errorf("%s: %v", p, err)
		}
		f.Close()
	}
	// The check itself finds what junit-10 refuses.
	for _, bad := range []string{
		`<testsuites skipped="1"></testsuites>`,
		`<testsuites><testsuite name="a" tests="1" failures="0"></testsuite></testsuites>`,
		`<testsuites><testsuite name="a" tests="1" failures="0" errors="0" disabled="0"></testsuite></testsuites>`,
		`<testsuites><testsuite name="a" tests="1" failures="0" errors="0"><testcase name="x" status="run"></testcase></testsuite></testsuites>`,
	} {
		if validJUnit10(strings.NewReader(bad)) == nil {
			t.Errorf("accepted %s", bad)
		}
	}
	_ = report.Pass
}
