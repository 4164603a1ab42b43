package outdir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Runs started in the same second get folders of their own.
func TestNewUnique(t *testing.T) {
	parent := filepath.Join(t.TempDir(), Parent)
	now := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := New(parent, now)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if seen[d.Path] {
				t.Errorf("%s given twice", d.Path)
			}
			seen[d.Path] = true
		}()
	}
	wg.Wait()
	if !seen[filepath.Join(parent, "20260102-150405")] || !seen[filepath.Join(parent, "20260102-150405-8")] {
		t.Errorf("names %v", seen)
	}
}

func TestClaim(t *testing.T) {
	dir := t.TempDir()
	write := func(p, body string) {
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(body), 0o644)
	}
	// Missing: made.
	fresh := filepath.Join(dir, "a", "b")
	d, err := Claim(fresh, Options{})
	if err != nil || d.Replaced {
		t.Fatalf("%v %+v", err, d)
	}
	// Another claim while it is held is refused, naming the owner.
	_, err = Claim(fresh, Options{})
	if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), fmt.Sprintf("(pid %d)", os.Getpid())) {
		t.Errorf("second claim: %v", err)
	}
	os.Remove(filepath.Join(fresh, Marker)) // as a harness before the marker left it
	write(filepath.Join(fresh, "report.json"), `{"schema": "harness.report/v1"}`)
	write(filepath.Join(fresh, "run-3", "report.json"), "{}")
	d.Close()
	// A previous output is replaced: nothing stale is kept.
	d, err = Claim(fresh, Options{})
	if err != nil || !d.Replaced {
		t.Fatalf("%v %+v", err, d)
	}
	ents, _ := os.ReadDir(fresh)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != Marker+" "+LockName {
		t.Errorf("after replacing: %v", names)
	}
	write(filepath.Join(fresh, "bisect.log"), "{}")
	d.Close()
	// --resume keeps it.
	d, err = Claim(fresh, Options{Keep: true})
	if err != nil || d.Replaced {
		t.Fatalf("%v %+v", err, d)
	}
	if _, err := os.Stat(filepath.Join(fresh, "bisect.log")); err != nil {
		t.Error("Keep removed the bisect log")
	}
	d.Close()

	// A folder of the user's is refused and left as it was, even with a
	// report.json of another program.
	mine := filepath.Join(dir, "mine")
	write(filepath.Join(mine, "notes.txt"), "keep me")
	write(filepath.Join(mine, "report.json"), `{"tool": "other"}`)
	if _, err := Claim(mine, Options{}); err == nil || !strings.Contains(err.Error(), "is not empty and holds no harness output") {
		t.Errorf("claim of a user's folder: %v", err)
	}
	if _, err := os.Stat(filepath.Join(mine, "notes.txt")); err != nil {
		t.Error("the user's file is gone")
	}
	if _, err := os.Stat(filepath.Join(mine, LockName)); err == nil {
		t.Error("a refused claim left its lock in the user's folder")
	}
	// An empty one is taken; a file is refused.
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	if d, err := Claim(empty, Options{}); err != nil {
		t.Error(err)
	} else {
		d.Close()
	}
	if _, err := Claim(filepath.Join(mine, "notes.txt"), Options{}); err == nil || !strings.Contains(err.Error(), "is a file, not a folder") {
		t.Errorf("claim of a file: %v", err)
	}
}

// A previous output lists what its run wrote: a later run removes that,
// and refuses, naming them, files someone put there since.
func TestClaimManifest(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	d, err := Claim(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "report.json"), []byte("{}"), 0o644)
	os.Mkdir(filepath.Join(dir, "run-1"), 0o755)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644)
	if _, err := Claim(dir, Options{}); err == nil || !strings.Contains(err.Error(), "holds what the harness did not write there (notes.txt)") {
		t.Fatalf("claim over a file of the user's: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "report.json")); err != nil {
		t.Error("a refused claim removed the previous output")
	}
	os.Remove(filepath.Join(dir, "notes.txt"))
	d, err = Claim(dir, Options{})
	if err != nil || !d.Replaced {
		t.Fatalf("claim of a listed output: %v", err)
	}
	d.Close()
	// A fixture of a harness run copied with its README is the user's.
	fix := filepath.Join(t.TempDir(), "fixture")
	os.Mkdir(fix, 0o755)
	os.WriteFile(filepath.Join(fix, "report.json"), []byte(`{"schema": "harness.report/v1"}`), 0o644)
	os.WriteFile(filepath.Join(fix, "README.md"), []byte("how it was made"), 0o644)
	if _, err := Claim(fix, Options{}); err == nil || !strings.Contains(err.Error(), "holds no harness output") {
		t.Errorf("claim of a fixture: %v", err)
	}
	if _, err := os.Stat(filepath.Join(fix, "README.md")); err != nil {
		t.Error("the fixture's README is gone")
	}
}

// Files a harness writes into a previous output after its run, once
// recorded, are replaced with it; anything else there is still refused.
func TestRecord(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	d, err := Claim(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "report.json"), []byte("{}"), 0o644)
	d.Close()
	os.WriteFile(filepath.Join(dir, "kcidb.json"), []byte("{}"), 0o644)
	if err := Record(dir, "report.json", "kcidb.json"); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644)
	if _, err := Claim(dir, Options{}); err == nil || !strings.Contains(err.Error(), "(notes.txt)") {
		t.Fatalf("claim over a file of the user's: %v", err)
	}
	os.Remove(filepath.Join(dir, "notes.txt"))
	if d, err := Claim(dir, Options{}); err != nil || !d.Replaced {
		t.Fatalf("claim of recorded files: %v", err)
	}
	// No manifest, nothing to record: the folder is the harness's whole.
	bare := t.TempDir()
	if err := Record(bare, "kcidb.json"); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(filepath.Join(bare, Marker)); err == nil {
		t.Error("Record made a marker")
	}
}
