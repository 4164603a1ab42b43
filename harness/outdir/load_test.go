package outdir

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/internal/testutil"
)

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, data string) {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	check := func(path, want string) {
		t.Helper()
		_, err := Load(path)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Load(%s): %v, want %q", path, err, want)
		}
	}
	check(filepath.Join(dir, "none"), "no such folder")
	write("file", "")
	check(filepath.Join(dir, "file"), "is not a folder")
	write("empty/x", "")
	check(filepath.Join(dir, "empty"), "is not a harness output folder: it has no report.json")
	write("other/report.json", `{"schema":"something/v9"}`)
	check(filepath.Join(dir, "other"), `schema "something/v9"`)
	write("bad/report.json", `{"schema":`)
	check(filepath.Join(dir, "bad"), "report.json")
	write("events/report.json", `{"schema":"`+report.Schema+`"}`)
	write("events/events.jsonl", "{\"kind\":\"hello\"}\nnot json\n")
	check(filepath.Join(dir, "events"), "event line 2")
	write("baseline/report.json", `{"schema":"`+report.Schema+`","baseline":{"rows":[]}}`)
	check(filepath.Join(dir, "baseline"), "baseline report: "+filepath.Join(dir, "baseline", "base")+": no such folder")
}

// No events.jsonl is nil events (the guest never spoke), an empty one
// is none sent: the page tells the two apart.
func TestLoadEvents(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "report.json"), []byte(`{"schema":"`+report.Schema+`","verdict":"error"}`), 0o644)
	out, err := Load(dir)
	if err != nil || out.Top.Events != nil || out.Top.Report.Verdict != report.Error || out.Top.Dir != dir {
		t.Fatalf("Load = %+v, %v; want the report and nil events", out, err)
	}
	os.WriteFile(filepath.Join(dir, "events.jsonl"), nil, 0o644)
	if evs, err := LoadEvents(dir); err != nil || evs == nil || len(evs) != 0 {
		t.Errorf("LoadEvents of an empty file = %#v, %v; want no events, not nil", evs, err)
	}
}

// A report.json or events.jsonl that is a FIFO or a device is refused at
// once, naming it: never a hang, never memory without end.
func TestLoadNotAFile(t *testing.T) {
	for _, tc := range []struct{ name, want string }{{ReportName, "named pipe"}, {EventsName, "named pipe"}} {
		dir := t.TempDir()
		if tc.name == EventsName {
			os.WriteFile(filepath.Join(dir, ReportName), []byte(`{"schema":"`+report.Schema+`"}`), 0o644)
		}
		if err := syscall.Mkfifo(filepath.Join(dir, tc.name), 0o644); err != nil {
			t.Fatal(err)
		}
		err := testutil.Within(t, 10*time.Second, fmt.Sprintf("a FIFO %s", tc.name), func() error { _, err := LoadRun(dir); return err })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("FIFO %s: %v", tc.name, err)
		}
	}
	dir := t.TempDir()
	os.Symlink("/dev/zero", filepath.Join(dir, ReportName))
	if _, err := LoadRun(dir); err == nil || !strings.Contains(err.Error(), "character device") {
		t.Errorf("report.json -> /dev/zero: %v", err)
	}
}
