package run

import (
	"errors"
	"strings"
	"testing"

	"github.com/kernel-harness/harness/harness/build"

	"github.com/kernel-harness/harness/harness/kbuild"
	"github.com/kernel-harness/harness/harness/report"
)

func TestCheckModes(t *testing.T) {
	tree := build.Options{Tree: "/t", Series: "/s"}
	tests := []struct {
		o    Options
		want string
	}{
		{Options{Repeat: 3}, ""},
		{Options{Repeat: 3, RepeatBoot: true}, ""},
		{Options{Repeat: 1, RepeatBoot: true}, "--repeat-boot needs --repeat N"},
		{Options{Repeat: -1}, "want a count"},
		{Options{Repeat: 2, Baseline: true, Build: tree}, "--baseline does not combine"},
		{Options{EachPatch: true}, "--each-patch needs --tree and --series"},
		{Options{EachPatch: true, Build: tree}, ""},
		{Options{EachPatch: true, Repeat: 2, Build: tree}, "does not combine with --repeat"},
	}
	for _, tt := range tests {
		err := checkModes(tt.o)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%+v: %v, want %q", tt.o, err, tt.want)
		}
	}
}

func TestPrefixRow(t *testing.T) {
	be := &kbuild.BuildError{Target: "bzImage", First: "net/ipv4/tcp_input.c:42: error: 'x' undeclared", Err: errors.New("exit status 2")}
	p := prefixRow(3, "tcp: break it", &report.Report{Build: &report.Build{Seconds: 12}}, be)
	if p.Built() || p.Build != "build failed: net/ipv4/tcp_input.c:42: error: 'x' undeclared" || p.Verdicts != nil {
		t.Errorf("build failure row %+v", p)
	}
	ok := &report.Report{Build: &report.Build{CacheHit: true}, Kernel: report.Kernel{Path: "/k"}, Verdict: report.Fail,
		Scenarios: []report.Scenario{{Name: "a", Family: "ipv4", Mode: "autolowat", Verdict: report.Fail}}}
	p = prefixRow(4, "tcp: fix it", ok, nil)
	if !p.Built() || p.Build != "cache hit" || p.Verdicts["a/ipv4/autolowat"] != report.Fail {
		t.Errorf("row %+v", p)
	}
	tab := &report.PatchTable{Scenarios: []string{"a/ipv4/autolowat"}, Prefixes: []report.Prefix{prefixRow(3, "tcp: break it", nil, be), p}}
	var b strings.Builder
	tab.Table(&b)
	for _, want := range []string{"build failed: net/ipv4/tcp_input.c:42", "no kernel", "FAIL", "1-3", "1-4"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
}
