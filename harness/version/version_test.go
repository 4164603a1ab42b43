package version

import (
	"strings"
	"testing"
)

func TestStamped(t *testing.T) {
	defer func(s string) { Stamped = s }(Stamped)
	Stamped = "v9.9.9-3-gabc"
	if got := String(); got != "v9.9.9-3-gabc" {
		t.Errorf("String() = %q", got)
	}
	long := Long()
	for _, want := range []string{"harness v9.9.9-3-gabc", "revision ", "go1.", " binary"} {
		if !strings.Contains(long, want) {
			t.Errorf("Long() lacks %q:\n%s", want, long)
		}
	}
}

func TestUnstamped(t *testing.T) {
	defer func(s string) { Stamped = s }(Stamped)
	Stamped = ""
	if String() == "" {
		t.Error("no version at all")
	}
}
