package image

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/u-root/mkuimage/cpio"
)

// rec is what a test checks of one archive record.
type rec struct {
	Name   string
	Mode   uint64
	Rdev   string // "major:minor" for devices
	Data   string
	NLink  uint64
	Inode  uint64
	NoTime bool
}

func (r rec) String() string {
	return fmt.Sprintf("%s %#o %s nlink=%d %q", r.Name, r.Mode, r.Rdev, r.NLink, r.Data)
}

// readArchive reads an archive back with the cpio package's own reader.
func readArchive(t testing.TB, archive []byte) []rec {
	t.Helper()
	rr := cpio.Newc.Reader(bytes.NewReader(archive))
	var out []rec
	sawTrailer := false
	// Read raw records (not through EOFReader) to see the trailer too.
	raw := rr.(cpio.EOFReader).RecordReader
	for {
		r, err := raw.ReadRecord()
		if err != nil {
			t.Fatalf("reading archive: %v", err)
		}
		if r.Name == cpio.Trailer {
			sawTrailer = true
			break
		}
		data, err := io.ReadAll(io.NewSectionReader(r.ReaderAt, 0, int64(r.FileSize)))
		if err != nil {
			t.Fatal(err)
		}
		x := rec{Name: r.Name, Mode: r.Mode, Data: string(data), NLink: r.NLink, Inode: r.Ino,
			NoTime: r.MTime == 0 && r.UID == 0 && r.GID == 0}
		if r.Mode&cpio.S_IFMT == cpio.S_IFCHR {
			x.Rdev = fmt.Sprintf("%d:%d", r.Rmajor, r.Rminor)
		}
		out = append(out, x)
	}
	if !sawTrailer {
		t.Fatal("no trailer record")
	}
	return out
}

// checkRecords compares name, mode, device and data, and that every record
// has a distinct inode, a sane link count and no time or owner.
func checkRecords(t *testing.T, got []rec, want []rec) {
	t.Helper()
	inodes := map[uint64]string{}
	for _, r := range got {
		if r.Inode == 0 || inodes[r.Inode] != "" {
			t.Errorf("%s: inode %d is zero or also used by %s", r.Name, r.Inode, inodes[r.Inode])
		}
		inodes[r.Inode] = r.Name
		wantLinks := uint64(1)
		if r.Mode&cpio.S_IFMT == cpio.S_IFDIR {
			wantLinks = 2
		}
		if r.NLink != wantLinks {
			t.Errorf("%s: nlink %d, want %d", r.Name, r.NLink, wantLinks)
		}
		if !r.NoTime {
			t.Errorf("%s: has a timestamp or owner", r.Name)
		}
	}
	strip := func(rs []rec) []string {
		var s []string
		for _, r := range rs {
			s = append(s, fmt.Sprintf("%s %#o %s %q", r.Name, r.Mode, r.Rdev, r.Data))
		}
		return s
	}
	if g, w := strip(got), strip(want); !reflect.DeepEqual(g, w) {
		t.Errorf("records:\n%s\nwant:\n%s", strings.Join(g, "\n"), strings.Join(w, "\n"))
	}
}

func dir(name string, perm uint64) rec { return rec{Name: name, Mode: cpio.S_IFDIR | perm} }
func file(name string, perm uint64, data string) rec {
	return rec{Name: name, Mode: cpio.S_IFREG | perm, Data: data}
}

// baseRecs are the records every archive has, by name.
var baseRecs = map[string]rec{
	"dev":         dir("dev", 0o755),
	"dev/console": {Name: "dev/console", Mode: cpio.S_IFCHR | 0o600, Rdev: "5:1"},
	"proc":        dir("proc", 0o755),
	"run":         dir("run", 0o755),
	"sys":         dir("sys", 0o755),
	"tmp":         dir("tmp", 0o1777),
}

func TestWrite(t *testing.T) {
	src := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(src, []byte("from the host"), 0o600); err != nil {
		t.Fatal(err)
	}
	files := []File{
		{Path: "/init", Mode: 0o755, Data: []byte("INIT")},
		{Path: "/harness/plan.json", Data: []byte(`{"x":1}`)}, // Mode 0: 0644
		{Path: "etc/deep/x/secret", Source: src},              // Mode 0: the source's
		{Path: "/harness/empty"},
		{Path: "/bin/su", Mode: 0o755 | os.ModeSetuid, Data: []byte("su")},
	}
	var buf bytes.Buffer
	if err := Write(&buf, files); err != nil {
		t.Fatal(err)
	}
	want := []rec{
		dir("bin", 0o755),
		file("bin/su", 0o4755, "su"),
		baseRecs["dev"],
		baseRecs["dev/console"],
		dir("etc", 0o755),
		dir("etc/deep", 0o755),
		dir("etc/deep/x", 0o755),
		file("etc/deep/x/secret", 0o600, "from the host"),
		dir("harness", 0o755),
		file("harness/empty", 0o644, ""),
		file("harness/plan.json", 0o644, `{"x":1}`),
		file("init", 0o755, "INIT"),
		baseRecs["proc"],
		baseRecs["run"],
		baseRecs["sys"],
		baseRecs["tmp"],
	}
	checkRecords(t, readArchive(t, buf.Bytes()), want)

	// Same inputs, same bytes (in any input order).
	rev := append([]File(nil), files...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	var again bytes.Buffer
	if err := Write(&again, rev); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("two writes of the same files differ")
	}
}

func TestWriteEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, nil); err != nil {
		t.Fatal(err)
	}
	checkRecords(t, readArchive(t, buf.Bytes()), []rec{
		baseRecs["dev"], baseRecs["dev/console"], baseRecs["proc"],
		baseRecs["run"], baseRecs["sys"], baseRecs["tmp"],
	})
	if buf.Len()%4 != 0 {
		t.Errorf("archive length %d is not 4-byte aligned", buf.Len())
	}
}

func TestWriteErrors(t *testing.T) {
	d := t.TempDir()
	for _, tc := range []struct {
		name  string
		files []File
		want  string
	}{
		{"duplicate", []File{{Path: "/a"}, {Path: "a"}}, "given twice"},
		{"clash with console", []File{{Path: "/dev/console"}}, "given twice"},
		{"clash with base dir", []File{{Path: "/tmp/"}}, "given twice"},
		{"file as parent", []File{{Path: "/a/b"}, {Path: "/a"}}, "/a is a file but /a/b needs it as a directory"},
		{"root", []File{{Path: "/"}}, "not a file path"},
		{"empty path", []File{{Path: ""}}, "empty file path"},
		{"both", []File{{Path: "/a", Data: []byte("x"), Source: "/etc/hostname"}}, "both Data and Source"},
		{"symlink mode", []File{{Path: "/a", Mode: os.ModeSymlink | 0o777}}, "only regular files"},
		{"missing source", []File{{Path: "/a", Source: filepath.Join(d, "nope")}}, "no such file"},
		{"dir source", []File{{Path: "/a", Source: d}}, "not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Write(&buf, tc.files)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Write = %v, want error containing %q", err, tc.want)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes before failing", buf.Len())
			}
		})
	}
}
