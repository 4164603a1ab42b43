package build

import (
	"strings"
	"testing"
)

// A lore series is refused before any work when it cannot be fetched:
// no id, or no b4 to fetch it with.
func TestCheckLore(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no b4
	tree := t.TempDir()
	for spec, want := range map[string]string{
		"lore:":                           "lore: needs a message id",
		"lore:20250603.1-1-kuniyu@google": "needs b4 on PATH",
	} {
		if err := Check(Options{Tree: tree, Series: spec}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", spec, err, want)
		}
	}
}
