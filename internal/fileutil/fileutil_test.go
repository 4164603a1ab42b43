package fileutil

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "report.json")
	if err := os.WriteFile(p, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	fi, _ := os.Stat(p)
	if string(b) != "new" || fi.Mode().Perm() != 0o644 {
		t.Errorf("got %q %v, want \"new\" 0644", b, fi.Mode().Perm())
	}
	only(t, dir, "report.json")
}

// A fill that fails leaves the old file and no temporary one.
func TestWriteFromFails(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "initrd")
	os.WriteFile(p, []byte("old"), 0o644)
	boom := errors.New("boom")
	err := WriteFrom(p, 0o644, func(w io.Writer) error { io.WriteString(w, "half"); return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("WriteFrom = %v, want %v", err, boom)
	}
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Errorf("file is %q, want the old one", b)
	}
	only(t, dir, "initrd")
	if err := WriteFile(filepath.Join(dir, "none", "x"), nil, 0o644); err == nil {
		t.Error("WriteFile into a missing folder succeeded")
	}
}

func TestCopyFile(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	os.WriteFile(src, []byte("data"), 0o755)
	if err := CopyFile(src, dst); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(dst)
	fi, _ := os.Stat(dst)
	if string(b) != "data" || fi.Mode().Perm() != 0o755 {
		t.Errorf("copy is %q %v", b, fi.Mode().Perm())
	}
	if err := CopyFile(filepath.Join(dir, "none"), dst); err == nil {
		t.Error("copy of a missing file succeeded")
	}
}

func only(t *testing.T, dir, name string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || ents[0].Name() != name {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("folder holds %v, want only %s", names, name)
	}
}
