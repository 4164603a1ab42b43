package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kernel-harness/harness/harness/report"
)

// git runs git in dir with env added, failing the test on error.
func git(t *testing.T, dir string, env []string, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return strings.TrimSpace(string(out))
}

// history makes commits on top of a tree's HEAD without a checkout and
// without touching the tree's index, HEAD or branches: a private index,
// git apply --cached and commit-tree. Dates are fixed, so the hashes,
// and with them the artifact cache's keys, are the same on every run.
type history struct {
	t       *testing.T
	tree    string
	env     []string
	head    string
	commits []string // in order
}

const historyDate = "2025-01-01T00:00:00Z"

// me is the author of the commits that are not the port's.
var me = []string{"GIT_AUTHOR_NAME=harness", "GIT_AUTHOR_EMAIL=harness@localhost", "GIT_AUTHOR_DATE=" + historyDate}

func newHistory(t *testing.T, tree string) *history {
	t.Helper()
	h := &history{t: t, tree: tree,
		env: []string{"GIT_INDEX_FILE=" + filepath.Join(t.TempDir(), "index"), "GIT_COMMITTER_NAME=harness", "GIT_COMMITTER_EMAIL=harness@localhost", "GIT_COMMITTER_DATE=" + historyDate}}
	h.head = git(t, tree, nil, "", "rev-parse", "HEAD")
	git(t, tree, h.env, "", "read-tree", h.head)
	return h
}

// commit commits the index on the head and returns the commit.
func (h *history) commit(subject, body string, author []string) string {
	tr := git(h.t, h.tree, h.env, "", "write-tree")
	h.head = git(h.t, h.tree, append(h.env, author...), subject+"\n\n"+body, "commit-tree", tr, "-p", h.head)
	h.commits = append(h.commits, h.head)
	return h.head
}

// port commits the port's patches, one each, as their mails say.
func (h *history) port() {
	t := h.t
	patches, _ := filepath.Glob("../../selftests/series/" + port + "/00[0-9][0-9]-*.patch")
	if len(patches) > 0 && strings.Contains(patches[0], "/0000-") {
		patches = patches[1:] // the cover letter
	}
	if len(patches) != portPatches {
		t.Fatalf("%d patches in %s, want %d", len(patches), port, portPatches)
	}
	for _, p := range patches {
		mail, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		msg, diff := filepath.Join(dir, "msg"), filepath.Join(dir, "diff")
		info := git(t, h.tree, nil, string(mail), "mailinfo", "-k", msg, diff)
		var author []string
		var subject string
		for _, l := range strings.Split(info, "\n") {
			k, v, _ := strings.Cut(l, ": ")
			switch k {
			case "Author":
				author = append(author, "GIT_AUTHOR_NAME="+v)
			case "Email":
				author = append(author, "GIT_AUTHOR_EMAIL="+v)
			case "Date":
				author = append(author, "GIT_AUTHOR_DATE="+v)
			case "Subject":
				subject = strings.TrimSpace(strings.TrimPrefix(v, "[PATCH "+portVersion))
				if i := strings.Index(subject, "] "); i >= 0 {
					subject = subject[i+2:]
				}
			}
		}
		body, _ := os.ReadFile(msg)
		git(t, h.tree, h.env, "", "apply", "--cached", diff)
		h.commit(subject, string(body), author)
	}
}

// edit commits a change of one file: change is given its text at the
// head and returns the new one.
func (h *history) edit(path string, change func(string) string, subject, body string) string {
	src := git(h.t, h.tree, h.env, "", "cat-file", "blob", ":"+path) + "\n"
	blob := git(h.t, h.tree, h.env, change(src), "hash-object", "-w", "--stdin")
	git(h.t, h.tree, h.env, "", "update-index", "--cacheinfo", "100644,"+blob+","+path)
	return h.commit(subject, body, me)
}

// dropOFO commits the negative control's change: tcp_ofo_queue() no
// longer calls the RCVQ callback.
func (h *history) dropOFO() string {
	const site = "\t\ttcp_bpf_rcvlowat(sk, skb);\n\n\t\ttail = skb_peek_tail(&sk->sk_receive_queue);\n\t\teaten = tail && tcp_try_coalesce(sk, tail, skb, &fragstolen);\n\t\ttcp_rcv_nxt_update(tp, TCP_SKB_CB(skb)->end_seq);"
	return h.edit("net/ipv4/tcp_input.c", func(src string) string {
		if strings.Count(src, site) != 1 {
			h.t.Fatalf("net/ipv4/tcp_input.c: the tcp_ofo_queue() call site is not there once")
		}
		return strings.Replace(src, site, strings.TrimPrefix(site, "\t\ttcp_bpf_rcvlowat(sk, skb);\n\n"), 1)
	}, "tcp: drop the RCVQ callback from tcp_ofo_queue()", "A synthetic regression for the bisect test.\n")
}

// docs commits a change nothing the kernel build sees: a line of text
// at the end of Documentation/networking/index.rst.
func (h *history) docs(line, subject, body string) string {
	return h.edit("Documentation/networking/index.rst", func(src string) string { return src + "\n" + line + "\n" }, subject, body)
}

// synthHistory makes the port's patches, one commit each, then one that
// drops the tcp_ofo_queue() call site, then a harmless one, on the
// tree's HEAD (see history). It returns the commits in order.
func synthHistory(t *testing.T, tree string) (commits []string) {
	t.Helper()
	h := newHistory(t, tree)
	h.port()
	h.dropOFO()
	h.docs(".. harness bisect test", "Documentation: a harmless change", "After the regression, so the bisect has more than one commit to search.\n")
	return h.commits
}

// TestE2EBisect bisects a synthetic history (the port, one commit per
// patch, then a commit that drops the out-of-order call site, then a
// harmless one) between the whole port (good) and the tip (bad) on the
// out-of-order autolowat scenario: it must name the dropping commit in
// one search step plus one to check the good end, with the failed check
// side by side.
func TestE2EBisect(t *testing.T) {
	needQEMU(t)
	tree := linuxTree(t)
	before := treeState(t, tree)
	commits := synthHistory(t, tree)
	n := len(commits)
	good, regression, tip := commits[n-3], commits[n-2], commits[n-1]
	out := t.TempDir()
	code, stdout, stderr := runHarness(t, "bisect", "--tree", tree, "--good", good, "--bad", tip,
		"--scenario", "ofo-descriptor-last/ipv4/autolowat", "--profile", "minimal", "--out", out)
	t.Logf("stdout:\n%s\nstderr (last lines):\n%s", stdout, lastLines(stderr, 40))
	if code != 0 {
		t.Fatalf("exit %d, want 0", code)
	}
	var rep report.BisectReport
	b, err := os.ReadFile(filepath.Join(out, "bisect.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	o := rep.Outcome
	if o == nil || o.FirstBad == nil || o.FirstBad.Hash != regression || o.LastGood.Hash != good {
		t.Fatalf("outcome %+v, want first bad %s after %s", o, regression, good)
	}
	// Two commits to search: one step; the good end is checked once.
	if o.Steps != 1 || o.Confirms != 1 || rep.Commits != 2 {
		t.Errorf("%d commits, %d steps, %d confirms; want 2, 1, 1", rep.Commits, o.Steps, o.Confirms)
	}
	for _, e := range o.Entries {
		t.Logf("step %d %s %q: %s, build %.0fs cache hit %v, step %.0fs: %s", e.Step, e.Commit.Short(), e.Subject, e.Verdict, e.BuildS, e.CacheHit, e.Seconds, e.Reason)
	}
	if len(rep.Flips) != 1 || rep.Flips[0].ID != "ofo-descriptor-last/ipv4/autolowat" || rep.Flips[0].Good == nil ||
		rep.Flips[0].Good.Verdict != "pass" || rep.Flips[0].Bad.Verdict != "fail" || !strings.Contains(fmt.Sprint(rep.Flips[0].Checks), "rcvq-path") {
		t.Errorf("flips %+v, want the ofo scenario passing at good and failing rcvq-path at bad", rep.Flips)
	}
	if !strings.Contains(stdout, "first bad commit: "+regression+" tcp: drop the RCVQ callback") {
		t.Errorf("stdout does not name the first bad commit")
	}
	if _, err := os.Stat(filepath.Join(out, "bisect.log")); err != nil {
		t.Error(err)
	}
	if after := treeState(t, tree); after != before {
		t.Errorf("the tree changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func lastLines(s string, n int) string {
	l := strings.Split(s, "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}
