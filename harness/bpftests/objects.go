package bpftests

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

var (
	// testFunc is a test_progs test: void test_NAME(void) or
	// serial_test_NAME in prog_tests/*.c.
	testFunc = regexp.MustCompile(`(?m)^void (?:serial_)?test_(\w+)\(void\)`)
	// objectName is an object a test opens by name ("x.bpf.o",
	// "./x.bpf.o"), where a skeleton is not embedded in test_progs.
	objectName = regexp.MustCompile(`"(?:\./)?([\w.-]+\.bpf\.o)"`)
)

// Objects are the BPF objects (in out, test_progs' OUTPUT) that the
// tests chosen by the -t selectors open by name. Most tests embed their
// programs as skeletons; the others name their .bpf.o in their source,
// and only those go into the guest (all of them are over 100 MB).
// A selector matches a test as test_progs -t does (see selected).
func Objects(tree, out string, selectors []string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(tree, "tools/testing/selftests/bpf/prog_tests/*.c"))
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var objs []string
	matched := false
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		if !holds(b, selectors) {
			continue
		}
		matched = true
		for _, m := range objectName.FindAllSubmatch(b, -1) {
			name := string(m[1])
			p := filepath.Join(out, name)
			if seen[name] {
				continue
			}
			seen[name] = true
			if _, err := os.Stat(p); err != nil {
				continue // a file the test makes, or one test_progs does not build
			}
			objs = append(objs, p)
		}
	}
	if !matched {
		return nil, fmt.Errorf("no test_progs test matches -t %s in %s", strings.Join(selectors, " -t "), filepath.Join(tree, "tools/testing/selftests/bpf/prog_tests"))
	}
	sort.Strings(objs)
	return objs, nil
}

// holds says whether a test file's source defines a test the selectors
// pick.
func holds(src []byte, selectors []string) bool {
	for _, m := range testFunc.FindAllSubmatch(src, -1) {
		if selected(string(m[1]), selectors) {
			return true
		}
	}
	return false
}

// selected says whether one of the selectors picks the test name as
// test_progs -t does: each selector is a comma-separated list of
// test[/subtest] patterns, each matched as *pattern* with * wildcards.
func selected(name string, selectors []string) bool {
	for _, sel := range selectors {
		for _, s := range strings.Split(sel, ",") {
			s, _, _ = strings.Cut(s, "/")
			if s == "" {
				continue
			}
			parts := strings.Split(s, "*")
			for i, p := range parts {
				parts[i] = regexp.QuoteMeta(p)
			}
			if regexp.MustCompile("^.*" + strings.Join(parts, ".*") + ".*$").MatchString(name) {
				return true
			}
		}
	}
	return false
}
