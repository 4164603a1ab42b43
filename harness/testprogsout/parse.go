// Package testprogsout turns the output of the kernel's BPF selftests runner,
// test_progs, into the harness's report: every subtest a scenario (a
// testcase in junit.xml) with its log.
//
// test_progs says what ran in two places, and neither is whole on its own
// (tools/testing/selftests/bpf/test_progs.c, 6.12):
//
//   - stdout: "#N/M test/subtest:OK|FAIL|SKIP" for every subtest and
//     "#N test:OK|FAIL|SKIP|OK (SKIP: k/n)" for every test, each after
//     its log; logs are printed for failed tests only, or for all with -v
//     (which drops the "#N test" lines). Past "All error logs:" the logs
//     of failed tests are printed again.
//   - -J FILE: {"success", "success_subtest", "skipped", "failed",
//     "results": [{"name", "number", "message", "failed", "subtests":
//     [{"name", "number", "message", "failed"}]}]}, where results holds
//     the failed tests only, with their failed subtests only, and nothing
//     at all with -v.
//
// So stdout gives the list and the verdicts, the JSON the failures' logs,
// each test's and each subtest's apart.
package testprogsout

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Results of a test or subtest, as test_progs prints them.
const (
	OK   = "OK"
	Fail = "FAIL"
	Skip = "SKIP"
)

// Run is one run of test_progs.
type Run struct {
	Tests []Test
	// Summary is test_progs' last line, "Summary: 1/3 PASSED, ...".
	Summary string
	// Counts are the JSON's totals, when there was a JSON.
	Counts *Counts
}

// Counts are the totals of the -J file.
type Counts struct {
	Success        int `json:"success"`
	SuccessSubtest int `json:"success_subtest"`
	Skipped        int `json:"skipped"`
	Failed         int `json:"failed"`
}

// Test is one test of test_progs, a prog_tests/*.c function.
type Test struct {
	Name   string
	Number int
	Result string // OK, FAIL or SKIP
	// Log is what the test printed outside its subtests.
	Log      string
	Subtests []Subtest
}

// Subtest is one test__start_subtest of a test.
type Subtest struct {
	Name   string
	Number int
	Result string
	Log    string
}

// jsonSummary is the -J file.
type jsonSummary struct {
	Counts
	Results []struct {
		Name     string `json:"name"`
		Number   int    `json:"number"`
		Message  string `json:"message"`
		Failed   bool   `json:"failed"`
		Subtests []struct {
			Name    string `json:"name"`
			Number  int    `json:"number"`
			Message string `json:"message"`
			Failed  bool   `json:"failed"`
		} `json:"subtests"`
	} `json:"results"`
}

var (
	subtestLine = regexp.MustCompile(`^#(\d+)/(\d+)\s+([^/\s]+)/(.*):(OK|FAIL|SKIP)$`)
	testLine    = regexp.MustCompile(`^#(\d+)\s+(\S+):(OK|FAIL|SKIP)(?: \(SKIP: \d+/\d+\))?$`)
)

// Parse reads test_progs' stdout and, when given (nil otherwise), its -J
// file.
func Parse(stdout, jsonFile []byte) (*Run, error) {
	r := &Run{}
	byNum := map[int]*Test{}
	var order []int
	get := func(num int, name string) *Test {
		t := byNum[num]
		if t == nil {
			t = &Test{Name: name, Number: num}
			byNum[num] = t
			order = append(order, num)
		}
		return t
	}
	var pending []string
	take := func() string {
		s := strings.Join(pending, "\n")
		pending = nil
		return s
	}
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "All error logs:" {
			break // the failed tests' logs again; the JSON has them apart
		}
		if strings.HasPrefix(line, "Summary: ") {
			r.Summary = line
			pending = nil
			continue
		}
		if m := subtestLine.FindStringSubmatch(line); m != nil {
			num, _ := strconv.Atoi(m[1])
			sub, _ := strconv.Atoi(m[2])
			t := get(num, m[3])
			t.Subtests = append(t.Subtests, Subtest{Name: m[4], Number: sub, Result: m[5], Log: take()})
			continue
		}
		if m := testLine.FindStringSubmatch(line); m != nil {
			num, _ := strconv.Atoi(m[1])
			t := get(num, m[2])
			t.Result = m[3]
			if log := take(); log != "" {
				t.Log = strings.TrimSpace(t.Log + "\n" + log)
			}
			continue
		}
		pending = append(pending, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("test_progs output: %w", err)
	}
	if len(jsonFile) > 0 {
		var js jsonSummary
		if err := json.Unmarshal(jsonFile, &js); err != nil {
			return nil, fmt.Errorf("test_progs -J file: %w", err)
		}
		r.Counts = &js.Counts
		// The JSON keeps a failed test's log apart from its subtests'.
		for _, jt := range js.Results {
			t := get(jt.Number, jt.Name)
			t.Log = strings.TrimRight(jt.Message, "\n")
			if jt.Failed {
				t.Result = Fail
			}
			for _, js := range jt.Subtests {
				s := t.subtest(js.Number, js.Name)
				s.Log = strings.TrimRight(js.Message, "\n")
				if js.Failed {
					s.Result = Fail
				}
			}
		}
	}
	for _, n := range order {
		t := byNum[n]
		if t.Result == "" {
			t.Result = resultOf(t.Subtests) // -v prints no "#N test" line
		}
		r.Tests = append(r.Tests, *t)
	}
	if len(r.Tests) == 0 {
		return r, fmt.Errorf("test_progs ran no test (%s)", orNothing(r.Summary))
	}
	return r, nil
}

// subtest finds a subtest by number, adding it when stdout did not list it.
func (t *Test) subtest(num int, name string) *Subtest {
	for i := range t.Subtests {
		if t.Subtests[i].Number == num {
			return &t.Subtests[i]
		}
	}
	t.Subtests = append(t.Subtests, Subtest{Name: name, Number: num})
	return &t.Subtests[len(t.Subtests)-1]
}

func resultOf(subs []Subtest) string {
	res := Skip
	for _, s := range subs {
		switch s.Result {
		case Fail:
			return Fail
		case OK:
			res = OK
		}
	}
	return res
}

func orNothing(s string) string {
	if s == "" {
		return "no summary line"
	}
	return s
}
