// Package series holds the patch series the harness tests itself with;
// its tests check them against what we hold of the posting.
package series

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// hookPatch is rcvq-7.3's copy of the posted hook patch (v3 10/11).
const hookPatch = "rcvq-7.3/0007-bpf-tcp-Add-SOCK_OPS-rcvlowat-hook.patch"

// seedDir is where the posted patch's web copy lives: the shared folder
// beside the repository (developers and CI have it; a user's clone may
// not).
func seedDir(t *testing.T) string {
	dir, _ := filepath.Abs(filepath.Join("..", "..", "..", "shared", "seed"))
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the posted patch's copy is missing in CI: %v", err)
		}
		t.Skipf("no %s beside the repository (it holds the posted hook patch this test compares with): %v", dir, err)
	}
	return dir
}

// flatHunks returns each file's hunks of a patch as the seed's web copy
// has them: the lines of a hunk joined by white space (the copy lost its
// line breaks), white space folded, the hunk header and its function
// context dropped.
func flatHunks(patch string) map[string][]string {
	hunks := map[string][]string{}
	var file string
	var cur []string
	flush := func() {
		if cur != nil {
			hunks[file] = append(hunks[file], fold(strings.Join(cur, " ")))
		}
		cur = nil
	}
	for _, l := range strings.Split(patch, "\n") {
		switch {
		case strings.HasPrefix(l, "diff --git "):
			flush()
		case strings.HasPrefix(l, "+++ b/"):
			file = strings.TrimPrefix(l, "+++ b/")
		case strings.HasPrefix(l, "@@"):
			flush()
			cur = []string{}
		case l == "-- " || strings.HasPrefix(l, "--- "):
			flush()
		case cur != nil && (strings.HasPrefix(l, "+") || strings.HasPrefix(l, "-") || strings.HasPrefix(l, " ") || l == ""):
			cur = append(cur, l)
		}
	}
	flush()
	return hunks
}

var space = regexp.MustCompile(`\s+`)

func fold(s string) string { return strings.TrimSpace(space.ReplaceAllString(s, " ")) }

// seedHunks reads the web copy: "+++ b/FILE@@ -a,b +c,d @@ CONTEXT BODY"
// on one line per hunk, further hunks of the file on lines of their own.
func seedHunks(t *testing.T, text string) map[string][]string {
	hunks := map[string][]string{}
	header := regexp.MustCompile(`^@@ -\d+,\d+ \+\d+,\d+ @@ `)
	var file string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "+++ b/") {
			rest := strings.TrimPrefix(l, "+++ b/")
			i := strings.Index(rest, "@@")
			if i < 0 {
				continue
			}
			file, l = rest[:i], rest[i:]
		}
		if file != "" && header.MatchString(l) {
			hunks[file] = append(hunks[file], fold(header.ReplaceAllString(l, "")))
		}
	}
	return hunks
}

// TestHookPatchIsTheSeed: every hunk of the posted hook patch stands in
// rcvq-7.3's hook patch, in the same file and order, token for token:
// the seed's text after its hunk header is the function context git
// printed, then exactly our hunk's lines.
func TestHookPatchIsTheSeed(t *testing.T) {
	dir := seedDir(t)
	seeds, _ := filepath.Glob(filepath.Join(dir, "*.txt"))
	if len(seeds) != 1 {
		t.Fatalf("%d files in %s, want the one posted patch", len(seeds), dir)
	}
	seedText, err := os.ReadFile(seeds[0])
	if err != nil {
		t.Fatal(err)
	}
	ours, err := os.ReadFile(hookPatch)
	if err != nil {
		t.Fatal(err)
	}
	want, got := seedHunks(t, string(seedText)), flatHunks(string(ours))
	if len(want) != 4 {
		t.Fatalf("the seed has hunks in %d files, want 4: %v", len(want), want)
	}
	for file, hunks := range want {
		if len(got[file]) != len(hunks) {
			t.Errorf("%s: %d hunks in %s, the posting has %d", file, len(got[file]), hookPatch, len(hunks))
			continue
		}
		for i, h := range hunks {
			if !strings.HasSuffix(h, got[file][i]) || len(got[file][i]) < len(h)/2 {
				t.Errorf("%s hunk %d differs from the posting:\nposted: %s\nours:   %s", file, i+1, h, got[file][i])
			}
		}
	}
}

// TestNegativeControlLacksOnlyTheOfoSite: rcvq-7.3-no-ofo is the port's
// kernel patches with exactly the tcp_ofo_queue() call left out.
func TestNegativeControlLacksOnlyTheOfoSite(t *testing.T) {
	full, err := os.ReadFile(hookPatch)
	if err != nil {
		t.Fatal(err)
	}
	ctl, err := filepath.Glob("rcvq-7.3-no-ofo/0007-*.patch")
	if err != nil || len(ctl) != 1 {
		t.Fatalf("rcvq-7.3-no-ofo has no patch 7: %v %v", ctl, err)
	}
	short, err := os.ReadFile(ctl[0])
	if err != nil {
		t.Fatal(err)
	}
	added := func(p string) []string {
		var out []string
		for _, l := range strings.Split(p, "\n") {
			if strings.HasPrefix(l, "+") && !strings.HasPrefix(l, "+++") {
				out = append(out, l)
			}
		}
		return out
	}
	a, b := added(string(full)), added(string(short))
	if len(a) != len(b)+2 {
		t.Fatalf("the control adds %d lines, the port %d: want the port's minus the call and its blank line", len(b), len(a))
	}
	// Two tabs deep: the call inside tcp_ofo_queue()'s loop.
	if n := strings.Count(string(full), "+\t\ttcp_bpf_rcvlowat(sk, skb);"); n != 1 {
		t.Errorf("the port's hook patch has the tcp_ofo_queue() call %d times, want 1", n)
	}
	if n := strings.Count(string(short), "+\t\ttcp_bpf_rcvlowat(sk, skb);"); n != 0 {
		t.Errorf("the control still has the tcp_ofo_queue() call")
	}
	for i := 1; i <= 6; i++ {
		p, _ := filepath.Glob(filepath.Join("rcvq-7.3", "000"+string(rune('0'+i))+"-*.patch"))
		q, _ := filepath.Glob(filepath.Join("rcvq-7.3-no-ofo", "000"+string(rune('0'+i))+"-*.patch"))
		if len(p) != 1 || len(q) != 1 {
			t.Fatalf("patch %d: %v %v", i, p, q)
		}
		x, _ := os.ReadFile(p[0])
		y, _ := os.ReadFile(q[0])
		if diffBody(string(x)) != diffBody(string(y)) {
			t.Errorf("patch %d differs between the port and the control", i)
		}
	}
}

// diffBody is a patch from its first diff line to its signature line.
func diffBody(p string) string {
	if i := strings.Index(p, "\ndiff --git"); i >= 0 {
		p = p[i:]
	}
	if i := strings.LastIndex(p, "\n-- \n"); i >= 0 {
		p = p[:i]
	}
	return p
}
