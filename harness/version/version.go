// Package version says which harness this is: the version the Makefile
// stamps in (git describe), else what the Go toolchain recorded in the
// binary (the module version for `go install ...@v1.2.3`, the VCS
// revision and whether the tree was modified for a build in a checkout).
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Stamped is set by the Makefile with -ldflags -X.
var Stamped = ""

// Info is what a binary knows of itself.
type Info struct {
	Version  string // v1.2.3, a git describe, or (devel)
	Revision string // VCS commit, when recorded
	Modified bool   // built from a tree with uncommitted changes
	Go       string // the Go version it was built with
	Static   bool   // built with CGO_ENABLED=0
}

// Get reads the build info once per call; it is cheap.
func Get() Info {
	i := Info{Version: "(devel)", Go: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v := bi.Main.Version; v != "" {
			i.Version = v
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				i.Revision = s.Value
			case "vcs.modified":
				i.Modified = s.Value == "true"
			case "CGO_ENABLED":
				i.Static = s.Value == "0"
			}
		}
	}
	if Stamped != "" {
		i.Version = Stamped
	}
	return i
}

// String is the one-word version a report records: the stamped or
// module version, with the short revision when the version does not
// already name it.
func String() string {
	i := Get()
	v := i.Version
	if i.Revision != "" && !strings.Contains(v, i.Revision[:min(12, len(i.Revision))]) && (v == "(devel)" || strings.Contains(v, "devel")) {
		v = i.Revision[:min(12, len(i.Revision))]
		if i.Modified {
			v += "-dirty"
		}
	}
	return v
}

// Long is what `harness version` prints.
func Long() string {
	i := Get()
	rev := i.Revision
	if rev == "" {
		rev = "unknown"
	}
	if i.Modified {
		rev += " (modified)"
	}
	link := "dynamic"
	if i.Static {
		link = "static"
	}
	return fmt.Sprintf("harness %s\nrevision %s\n%s, %s binary", String(), rev, i.Go, link)
}
