package bisect

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"time"
)

const (
	kindStart = "start"
	kindStep  = "step"
)

// Entry is one line of bisect.log: the start (what is bisected), or a
// step (a commit and what it was found to be).
type Entry struct {
	Kind string `json:"kind"`
	// Start.
	Good    *Commit           `json:"good,omitempty"`
	Bad     *Commit           `json:"bad,omitempty"`
	Count   int               `json:"commits,omitempty"`
	Header  map[string]string `json:"header,omitempty"`
	Resumed bool              `json:"resumed,omitempty"`
	// Step.
	Step int `json:"step,omitempty"`
	Commit
	Result
	// Confirm marks a step that tested an end of the answer.
	Confirm bool      `json:"confirm,omitempty"`
	Time    time.Time `json:"time"`
}

type logFile struct{ f *os.File }

func (l *logFile) write(e Entry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	// One write per line, synced: a bisect killed mid-step loses that
	// step only, and resumes from the rest.
	if _, err := l.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("bisect log: %w", err)
	}
	return l.f.Sync()
}

func (l *logFile) Close() error { return l.f.Close() }

// openLog starts bisect.log, or with Resume reads the steps already in it
// and appends. A log of another bisect is refused.
func openLog(o Options) (*logFile, map[string]Entry, error) {
	known := map[string]Entry{}
	bad := o.Commits[len(o.Commits)-1]
	start := Entry{Kind: kindStart, Good: &o.Good, Bad: &bad, Count: len(o.Commits), Header: o.Header, Time: time.Now().UTC()}
	if o.Log == "" {
		return nil, nil, errors.New("bisect: no log path")
	}
	data, err := os.ReadFile(o.Log)
	switch {
	case err == nil && !o.Resume && len(bytes.TrimSpace(data)) > 0:
		return nil, nil, fmt.Errorf("%s already holds a bisect: pass --resume to continue it, or choose another --out", o.Log)
	case err == nil && o.Resume:
		keep, err := readLog(o.Log, data, start, known)
		if err != nil {
			return nil, nil, err
		}
		if keep < len(data) {
			// Drop the half line a crash left, so appending stays clean.
			if err := os.Truncate(o.Log, int64(keep)); err != nil {
				return nil, nil, fmt.Errorf("bisect log: %w", err)
			}
		}
		start.Resumed = true
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return nil, nil, fmt.Errorf("bisect log: %w", err)
	case err != nil && o.Resume:
		return nil, nil, fmt.Errorf("--resume: %s does not exist: give the --out of the bisect to continue", o.Log)
	}
	f, err := os.OpenFile(o.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("bisect log: %w", err)
	}
	l := &logFile{f: f}
	if err := l.write(start); err != nil {
		f.Close()
		return nil, nil, err
	}
	return l, known, nil
}

// readLog takes the steps of a log whose start matches want, and
// returns how many bytes of data are whole lines. A last line cut short
// by a crash is left out; a broken line before it is an error.
func readLog(path string, data []byte, want Entry, known map[string]Entry) (int, error) {
	started := false
	for off, n := 0, 1; off < len(data); n++ {
		end := bytes.IndexByte(data[off:], '\n')
		last := end < 0
		if last {
			end = len(data) - off
		}
		line := bytes.TrimSpace(data[off : off+end])
		var e Entry
		if len(line) > 0 {
			if err := json.Unmarshal(line, &e); err != nil {
				if last || len(bytes.TrimSpace(data[off+end:])) == 0 {
					return off, nil
				}
				return 0, fmt.Errorf("%s line %d: %v: fix or remove the line, or start afresh without --resume", path, n, err)
			}
		}
		switch e.Kind {
		case kindStart:
			if e.Good == nil || e.Bad == nil || e.Good.Hash != want.Good.Hash || e.Bad.Hash != want.Bad.Hash || !maps.Equal(e.Header, want.Header) {
				return 0, fmt.Errorf("%s is of another bisect (good %s, bad %s, %v), not of good %s, bad %s, %v: choose another --out",
					path, short(e.Good), short(e.Bad), e.Header, want.Good.Short(), want.Bad.Short(), want.Header)
			}
			started = true
		case kindStep:
			if !started {
				return 0, fmt.Errorf("%s line %d: a step before the start line", path, n)
			}
			known[e.Hash] = e
		}
		off += end + 1
		if last {
			off = len(data)
		}
	}
	if !started {
		return 0, fmt.Errorf("%s has no start line: it is not a bisect.log", path)
	}
	return len(data), nil
}

func short(c *Commit) string {
	if c == nil {
		return "?"
	}
	return c.Short()
}

// ReadLog returns the entries of a bisect.log, for tools and tests.
func ReadLog(path string) ([]Entry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []Entry
	for i, line := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var e Entry
		if err := json.Unmarshal(line, &e); err != nil {
			return out, fmt.Errorf("%s line %d: %w", path, i+1, err)
		}
		out = append(out, e)
	}
	return out, nil
}
