// Package series takes in a patch series (an mbox, a folder of
// format-patch files, a revision range or a lore thread) and applies it to
// a kernel tree in a worktree of its own, so the user's checkout, index,
// branches and stash are never touched.
package series

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/kernel-harness/harness/harness/input"
)

// Sources of a series, as Series.Source names them.
const (
	SourceNone  = "none" // empty spec: the tree as it is
	SourceMbox  = "mbox"
	SourceDir   = "dir"
	SourceRange = "range"
	SourceLore  = "lore"
)

// Series is the patches of one version of a series, in order.
type Series struct {
	Spec    string
	Source  string
	Version int    // vN of the subjects, 1 when they name none
	Total   int    // N of the M/N numbers
	Cover   string // subject of the 0/N cover letter, without the prefix
	Patches []Patch
	// Notes say what intake left out: older versions, replies, mails
	// without a diff.
	Notes []string
}

// Patch is one mail of the series.
type Patch struct {
	Number    int
	Total     int
	Version   int
	Subject   string   // without the [PATCH ...] prefix
	Tags      []string // other words of the prefix: RFC, bpf-next, RESEND
	From      string
	Date      string
	MessageID string
	// Raw is the message as git am is fed it.
	Raw []byte

	numbered bool   // the subject had M/N
	diff     []byte // the diff part of the body, for Digest
}

// Load reads a series from spec: an mbox file, a folder of numbered
// format-patch files, a revision range A..B of tree, or lore:<message-id>
// (fetched with b4). An empty spec is a series of no patches.
func Load(ctx context.Context, spec, tree string) (*Series, error) {
	s := &Series{Spec: spec}
	if spec == "" {
		s.Source = SourceNone
		return s, nil
	}
	var (
		msgs []message
		err  error
	)
	if id, ok := strings.CutPrefix(spec, "lore:"); ok {
		s.Source = SourceLore
		msgs, err = loadLore(ctx, id)
	} else if fi, serr := os.Stat(spec); serr == nil && fi.IsDir() {
		s.Source = SourceDir
		msgs, err = loadDir(spec)
	} else if serr == nil {
		s.Source = SourceMbox
		msgs, err = loadFile(spec)
	} else if strings.Contains(spec, "..") {
		s.Source = SourceRange
		msgs, err = loadRange(ctx, spec, tree)
	} else {
		return nil, fmt.Errorf("%s is not a file, a folder, a revision range A..B or lore:<message-id>: %w", spec, serr)
	}
	if err != nil {
		return nil, err
	}
	if err := s.assemble(msgs); err != nil {
		return nil, fmt.Errorf("%s: %w", spec, err)
	}
	return s, nil
}

func loadFile(path string) ([]message, error) {
	data, err := input.ReadFile(path, input.TextLimit)
	if err != nil {
		return nil, err
	}
	msgs, err := parseFile(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return msgs, nil
}

// loadDir reads the *.patch files of a folder in name order, which is
// format-patch's numbering.
func loadDir(dir string) ([]message, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.patch"))
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("folder %s has no *.patch files", dir)
	}
	sort.Strings(names)
	var msgs []message
	for _, n := range names {
		m, err := loadFile(n)
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, m...)
	}
	return msgs, nil
}

func loadRange(ctx context.Context, spec, tree string) ([]message, error) {
	if tree == "" {
		return nil, fmt.Errorf("revision range %s needs a tree", spec)
	}
	// --numbered so even one commit is 1/1; no cover letter or signature,
	// whatever the user's format.* config says.
	out, err := git(ctx, formatPatchTimeout, tree, nil, "format-patch", "--stdout", "--numbered", "--no-cover-letter", "--no-signature", spec)
	if err != nil {
		return nil, fmt.Errorf("range %s: %w", spec, err)
	}
	if len(strings.TrimSpace(out)) == 0 {
		return nil, fmt.Errorf("range %s has no commits", spec)
	}
	msgs, err := parseFile([]byte(out))
	if err != nil {
		return nil, fmt.Errorf("range %s: %w", spec, err)
	}
	return msgs, nil
}

// version groups the mails of one vN.
type version struct {
	patches []Patch
	cover   string
}

// assemble turns the mails into the series: replies, mails without a diff
// and older versions are left out (and said so in Notes), the rest is put
// in M/N order.
func (s *Series) assemble(msgs []message) error {
	versions := map[int]*version{}
	get := func(v int) *version {
		if versions[v] == nil {
			versions[v] = &version{}
		}
		return versions[v]
	}
	seenID := map[string]bool{}
	var replies, nodiff, dups int
	for _, m := range msgs {
		sub := parseSubject(m.subject)
		if sub.reply {
			replies++
			continue
		}
		if sub.numbered && sub.number == 0 {
			get(sub.version).cover = sub.rest
			continue
		}
		if !hasDiff(m.body) {
			nodiff++
			continue
		}
		if m.msgID != "" && seenID[m.msgID] {
			dups++
			continue
		}
		seenID[m.msgID] = m.msgID != ""
		v := get(sub.version)
		v.patches = append(v.patches, Patch{
			Number: sub.number, Total: sub.total, Version: sub.version,
			Subject: sub.rest, Tags: sub.tags,
			From: m.from, Date: m.date, MessageID: m.msgID,
			Raw: m.raw, numbered: sub.numbered, diff: diffContent(m.body),
		})
	}

	var nums []int
	for n, v := range versions {
		if len(v.patches) > 0 {
			nums = append(nums, n)
		}
	}
	if len(nums) == 0 {
		return fmt.Errorf("no patches found in %s (%s, %d without a diff)", plural(len(msgs), "message", "messages"), plural(replies, "reply", "replies"), nodiff)
	}
	sort.Ints(nums)
	keep := nums[len(nums)-1]
	s.Version = keep
	s.Cover = versions[keep].cover
	for _, n := range nums[:len(nums)-1] {
		s.Notes = append(s.Notes, fmt.Sprintf("dropped v%d (%s): v%d is newer", n, plural(len(versions[n].patches), "patch", "patches"), keep))
	}
	if replies > 0 {
		s.Notes = append(s.Notes, "skipped "+plural(replies, "reply", "replies"))
	}
	if nodiff > 0 {
		s.Notes = append(s.Notes, "skipped "+plural(nodiff, "message", "messages")+" without a diff")
	}
	if dups > 0 {
		s.Notes = append(s.Notes, "skipped "+plural(dups, "message", "messages")+" seen twice (same Message-ID)")
	}

	ps := versions[keep].patches
	var numbered, plain []Patch
	for _, p := range ps {
		if p.numbered {
			numbered = append(numbered, p)
		} else {
			plain = append(plain, p)
		}
	}
	switch {
	case len(numbered) == 0 && len(plain) == 1:
		plain[0].Number, plain[0].Total = 1, 1
		ps = plain
	case len(numbered) == 0:
		// No M/N anywhere: the file (or folder) order is all there is.
		for i := range plain {
			plain[i].Number, plain[i].Total = i+1, len(plain)
		}
		ps = plain
		s.Notes = append(s.Notes, fmt.Sprintf("the %d patches carry no M/N numbers: kept in file order", len(plain)))
	default:
		ps = numbered
		for _, p := range plain {
			s.Notes = append(s.Notes, fmt.Sprintf("skipped unnumbered patch %q among a numbered series", p.Subject))
		}
	}
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Number < ps[j].Number })
	s.Patches = ps
	for _, p := range ps {
		s.Total = max(s.Total, p.Total)
	}
	return nil
}

// Missing returns the numbers 1..Total that no patch has.
func (s *Series) Missing() []int {
	if s == nil {
		return nil
	}
	have := map[int]bool{}
	for _, p := range s.Patches {
		have[p.Number] = true
	}
	var miss []int
	for n := 1; n <= s.Total; n++ {
		if !have[n] {
			miss = append(miss, n)
		}
	}
	return miss
}

// Check refuses a series that cannot be applied as the author meant it:
// two patches with one number, patches that disagree on the length, and,
// unless allowPartial, gaps.
func (s *Series) Check(allowPartial bool) error {
	if s == nil || len(s.Patches) == 0 {
		return nil
	}
	seen := map[int]Patch{}
	for _, p := range s.Patches {
		if p.Total != s.Total {
			return fmt.Errorf("series v%d: patch %q says %d/%d but others say /%d", s.Version, p.Subject, p.Number, p.Total, s.Total)
		}
		if p.Number < 1 || p.Number > p.Total {
			return fmt.Errorf("series v%d: patch %q is numbered %d/%d", s.Version, p.Subject, p.Number, p.Total)
		}
		if q, ok := seen[p.Number]; ok {
			return fmt.Errorf("series v%d has patch %d/%d twice: %q and %q", s.Version, p.Number, p.Total, q.Subject, p.Subject)
		}
		seen[p.Number] = p
	}
	miss := s.Missing()
	if len(miss) == 0 || allowPartial {
		return nil
	}
	var have []int
	for _, p := range s.Patches {
		have = append(have, p.Number)
	}
	there := fmt.Sprintf("%s of %d", ranges(have), s.Total)
	if len(have) == 1 {
		there = fmt.Sprintf("%d/%d", have[0], s.Total)
	}
	return fmt.Errorf("series v%d has %d of %d patches (%s); missing %s: save the whole thread, or pass --allow-partial to apply what is there",
		s.Version, len(have), s.Total, there, ranges(miss))
}

// SHA256 is the hash of the patch as git am is given it.
func (p Patch) SHA256() string {
	h := sha256.Sum256(p.Raw)
	return hex.EncodeToString(h[:])
}

// Digest is a sha256 over the patches' diffs in order: re-saving the same
// thread (new Date, other headers, other order in the file) keeps it, and
// so does taking the same commits in as a range.
func (s *Series) Digest() string {
	h := sha256.New()
	if s != nil {
		for _, p := range s.Patches {
			h.Write(p.diff)
			h.Write([]byte{0})
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// ranges writes sorted numbers as "1-9, 11".
func ranges(ns []int) string {
	ns = append([]int(nil), ns...)
	sort.Ints(ns)
	var parts []string
	for i := 0; i < len(ns); {
		j := i
		for j+1 < len(ns) && ns[j+1] == ns[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, strconv.Itoa(ns[i])+"-"+strconv.Itoa(ns[j]))
		} else {
			parts = append(parts, strconv.Itoa(ns[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

var errNoB4 = errors.New("--series lore:... needs b4 on PATH (pip install b4), or save the thread as an mbox and pass that")
