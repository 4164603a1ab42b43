package series

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func load(t *testing.T, spec, tree string) *Series {
	t.Helper()
	s, err := Load(context.Background(), spec, tree)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func numbers(s *Series) []int {
	var ns []int
	for _, p := range s.Patches {
		ns = append(ns, p.Number)
	}
	return ns
}

func subjects(s *Series) []string {
	var ss []string
	for _, p := range s.Patches {
		ss = append(ss, p.Subject)
	}
	return ss
}

// A saved thread: cover letter, patches out of order, a reply carrying a
// diff, a bot mail without one, a quoted-printable patch with a folded
// subject and an encoded author.
func TestLoadThread(t *testing.T) {
	s := load(t, "testdata/thread.mbox", "")
	if s.Source != SourceMbox || s.Version != 1 || s.Total != 3 {
		t.Fatalf("source %q version %d total %d", s.Source, s.Version, s.Total)
	}
	if s.Cover != "tcp: demo series" {
		t.Errorf("cover %q", s.Cover)
	}
	if got := numbers(s); !reflect.DeepEqual(got, []int{1, 2, 3}) {
		t.Fatalf("numbers %v", got)
	}
	if got := subjects(s); !reflect.DeepEqual(got, []string{"tcp: one", "tcp: two", "tcp: three"}) {
		t.Fatalf("subjects %q", got)
	}
	p2 := s.Patches[1]
	if p2.From != "Jörg Dev <jorg@example.org>" || p2.MessageID != "p2@x" || !reflect.DeepEqual(p2.Tags, []string{"net-next"}) {
		t.Errorf("patch 2: from %q id %q tags %q", p2.From, p2.MessageID, p2.Tags)
	}
	// The quoted-printable body is decoded before the diff is taken.
	if !strings.Contains(string(p2.diff), "+int b2 = 2;") {
		t.Errorf("patch 2 diff:\n%s", p2.diff)
	}
	if strings.Contains(string(s.Patches[0].diff), "2.39.5") {
		t.Errorf("signature kept in the diff:\n%s", s.Patches[0].diff)
	}
	if !strings.HasPrefix(string(s.Patches[0].Raw), "From 1111") {
		t.Errorf("raw of patch 1 starts %q", string(s.Patches[0].Raw)[:20])
	}
	notes := strings.Join(s.Notes, "; ")
	if !strings.Contains(notes, "skipped 1 reply") || !strings.Contains(notes, "skipped 1 message without a diff") {
		t.Errorf("notes %q", notes)
	}
	if err := s.Check(false); err != nil {
		t.Error(err)
	}
	if m := s.Missing(); len(m) != 0 {
		t.Errorf("missing %v", m)
	}
}

func TestLoadPartial(t *testing.T) {
	s := load(t, "testdata/partial.mbox", "")
	if s.Version != 2 || s.Total != 5 || !reflect.DeepEqual(numbers(s), []int{1, 3, 4}) {
		t.Fatalf("v%d total %d numbers %v", s.Version, s.Total, numbers(s))
	}
	if got := s.Patches[0].Tags; !reflect.DeepEqual(got, []string{"RFC", "bpf-next"}) {
		t.Errorf("tags %q", got)
	}
	if got := s.Missing(); !reflect.DeepEqual(got, []int{2, 5}) {
		t.Errorf("missing %v", got)
	}
	err := s.Check(false)
	want := "series v2 has 3 of 5 patches (1, 3-4 of 5); missing 2, 5: save the whole thread, or pass --allow-partial to apply what is there"
	if err == nil || err.Error() != want {
		t.Errorf("check:\n got %v\nwant %s", err, want)
	}
	if err := s.Check(true); err != nil {
		t.Errorf("allow partial: %v", err)
	}
}

func TestLoadKeepsNewestVersion(t *testing.T) {
	s := load(t, "testdata/v2-v3.mbox", "")
	if s.Version != 3 || s.Cover != "tcp: demo, third time" {
		t.Fatalf("version %d cover %q", s.Version, s.Cover)
	}
	if got := subjects(s); !reflect.DeepEqual(got, []string{"tcp: one, better", "tcp: two, better"}) {
		t.Fatalf("subjects %q", got)
	}
	for _, p := range s.Patches {
		if p.Version != 3 {
			t.Errorf("%q is v%d", p.Subject, p.Version)
		}
	}
	if len(s.Notes) != 1 || s.Notes[0] != "dropped v2 (2 patches): v3 is newer" {
		t.Errorf("notes %q", s.Notes)
	}
}

func TestLoadSingle(t *testing.T) {
	s := load(t, "testdata/single.mbox", "")
	if len(s.Patches) != 1 || s.Total != 1 || s.Patches[0].Number != 1 || s.Patches[0].Subject != "tcp: fix a typo" || s.Version != 1 {
		t.Fatalf("%+v", s)
	}
	if err := s.Check(false); err != nil {
		t.Error(err)
	}
}

// A patch saved from a web page: subject line, loose headers, no mbox
// framing. It is rewritten as a mail git am can read.
func TestLoadPage(t *testing.T) {
	s := load(t, "testdata/page.txt", "")
	p := s.Patches[0]
	if s.Version != 2 || p.Number != 2 || p.Total != 4 || p.Subject != "tcp: saved from a web page" || p.From != "Some Body <some@example.org>" {
		t.Fatalf("%+v", p)
	}
	raw := string(p.Raw)
	for _, want := range []string{"From: \"Some Body\" <some@example.org>\n", "Date: Tue, 03 Jun 2025 10:00:00 +0000\n", "Subject: [PATCH v2 net 2/4] tcp: saved from a web page\n"} {
		if !strings.Contains(raw, want) {
			t.Errorf("raw lacks %q:\n%s", want, raw)
		}
	}
	if got := s.Missing(); !reflect.DeepEqual(got, []int{1, 3, 4}) {
		t.Errorf("missing %v", got)
	}
}

// The patch the harness exists for, as saved from lore's web page.
func TestLoadSeed(t *testing.T) {
	const seed = "/work/shared/seed/000_a778d4a420c78b26.txt"
	if _, err := os.Stat(seed); err != nil {
		t.Skip(err)
	}
	s := load(t, seed, "")
	if len(s.Patches) != 1 {
		t.Fatalf("%d patches", len(s.Patches))
	}
	p := s.Patches[0]
	if s.Version != 3 || p.Version != 3 || p.Number != 10 || p.Total != 11 || s.Total != 11 {
		t.Fatalf("v%d %d/%d", p.Version, p.Number, p.Total)
	}
	if p.Subject != "bpf: tcp: Add SOCK_OPS rcvlowat hook." || p.From != "Kuniyuki Iwashima <kuniyu@google.com>" {
		t.Fatalf("subject %q from %q", p.Subject, p.From)
	}
	if !reflect.DeepEqual(p.Tags, []string{"bpf-next"}) {
		t.Errorf("tags %q", p.Tags)
	}
	if !reflect.DeepEqual(s.Missing(), []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 11}) {
		t.Errorf("missing %v", s.Missing())
	}
	err := s.Check(false)
	want := "series v3 has 1 of 11 patches (10/11); missing 1-9, 11: save the whole thread, or pass --allow-partial to apply what is there"
	if err == nil || err.Error() != want {
		t.Fatalf("check:\n got %v\nwant %s", err, want)
	}
	if err := s.Check(true); err != nil {
		t.Error(err)
	}
	d := string(p.diff)
	if !strings.HasPrefix(d, "diff --git a/include/net/tcp.h b/include/net/tcp.h\n") || !strings.HasSuffix(d, "fragstolen)) ? 1 : 0;") {
		t.Errorf("diff from %q to %q", d[:40], d[len(d)-40:])
	}
}

func TestDigest(t *testing.T) {
	a := load(t, "testdata/thread.mbox", "")
	data, err := os.ReadFile("testdata/thread.mbox")
	if err != nil {
		t.Fatal(err)
	}
	// The same thread saved again: other dates, other mbox lines.
	resaved := strings.ReplaceAll(string(data), "Tue, 3 Jun 2025 10:00:00 +0000", "Wed, 4 Jun 2025 09:00:00 +0200")
	resaved = strings.ReplaceAll(resaved, "Mon Sep 17 00:00:00 2001", "Thu Jan  1 00:00:00 1970")
	dir := t.TempDir()
	p := filepath.Join(dir, "resaved.mbox")
	os.WriteFile(p, []byte(resaved), 0o644)
	b := load(t, p, "")
	if a.Digest() != b.Digest() {
		t.Errorf("re-saved thread digests differ")
	}
	changed := strings.Replace(string(data), "+int b3 = 3;", "+int b3 = 4;", 1)
	os.WriteFile(p, []byte(changed), 0o644)
	c := load(t, p, "")
	if a.Digest() == c.Digest() {
		t.Errorf("a changed diff kept the digest")
	}
	if len(a.Digest()) != 64 {
		t.Errorf("digest %q", a.Digest())
	}
	empty := load(t, "", "")
	if empty.Source != SourceNone || len(empty.Patches) != 0 || empty.Check(false) != nil || empty.Digest() == a.Digest() {
		t.Errorf("empty series %+v", empty)
	}
}

func TestCheckDuplicates(t *testing.T) {
	data, _ := os.ReadFile("testdata/single.mbox")
	other := strings.Replace(strings.Replace(string(data), "s1@x", "s2@x", 1), "int b = 0;", "int b = 9;", 1)
	p := filepath.Join(t.TempDir(), "two.mbox")
	os.WriteFile(p, []byte(strings.Replace(string(data), "[PATCH]", "[PATCH 1/2]", 1)+strings.Replace(other, "[PATCH]", "[PATCH 1/2]", 1)), 0o644)
	s := load(t, p, "")
	err := s.Check(true)
	if err == nil || err.Error() != `series v1 has patch 1/2 twice: "tcp: fix a typo" and "tcp: fix a typo"` {
		t.Fatalf("check: %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := Load(ctx, "no/such/file", ""); err == nil || !strings.Contains(err.Error(), "not a file, a folder") {
		t.Errorf("missing file: %v", err)
	}
	p := filepath.Join(t.TempDir(), "empty.mbox")
	os.WriteFile(p, []byte("From x Mon Sep 17 00:00:00 2001\nSubject: hello\n\nno patch\n"), 0o644)
	if _, err := Load(ctx, p, ""); err == nil || !strings.Contains(err.Error(), "no patches found in 1 message (0 replies, 1 without a diff)") {
		t.Errorf("no patches: %v", err)
	}
	t.Setenv("PATH", t.TempDir())
	_, err := Load(ctx, "lore:20250603.1-1-kuniyu@google.com", "")
	if err == nil || err.Error() != "--series lore:... needs b4 on PATH (pip install b4), or save the thread as an mbox and pass that" {
		t.Errorf("lore without b4: %v", err)
	}
}

func TestParseSubject(t *testing.T) {
	for _, c := range []struct {
		in                  string
		reply               bool
		num, total, version int
		rest                string
	}{
		{"[PATCH v3 bpf-next 10/11] bpf: tcp: Add SOCK_OPS rcvlowat hook.", false, 10, 11, 3, "bpf: tcp: Add SOCK_OPS rcvlowat hook."},
		{"[PATCH 2/3] x", false, 2, 3, 1, "x"},
		{"[PATCH] x", false, 0, 0, 1, "x"},
		{"[RFC PATCH v2 net-next 01/11] x", false, 1, 11, 2, "x"},
		{"[RFC] [PATCHv4 3/7] y", false, 3, 7, 4, "y"},
		{"Re: [PATCH v3 bpf-next 10/11] z", true, 10, 11, 3, "z"},
		{"RE: [PATCH 1/2] z", true, 1, 2, 1, "z"},
	} {
		s := parseSubject(c.in)
		if s.reply != c.reply || s.number != c.num || s.total != c.total || s.version != c.version || (!c.reply && s.rest != c.rest) {
			t.Errorf("%q: %+v", c.in, s)
		}
	}
}

// A patch's SHA256 is that of its format-patch file, as KCIDB's
// patchset_hash takes it (sha256sum *.patch).
func TestPatchSHA256(t *testing.T) {
	const dir = "../../selftests/series/rcvq-7.3"
	s := load(t, dir, "")
	files, _ := filepath.Glob(dir + "/00[0-9][0-9]-*.patch")
	files = files[1:] // the cover letter is not a patch
	if len(files) != len(s.Patches) || len(files) == 0 {
		t.Fatalf("%d files, %d patches", len(files), len(s.Patches))
	}
	for i, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("%x", sha256.Sum256(b)); s.Patches[i].SHA256() != want {
			t.Errorf("%s: %s, sha256sum says %s", f, s.Patches[i].SHA256(), want)
		}
	}
}
