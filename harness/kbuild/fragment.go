// Package kbuild configures and builds a kernel out of tree (make O=):
// config fragments merged over a base config and checked against the
// final .config before anything is compiled, then the build itself with
// progress and the first compiler error when it fails.
package kbuild

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/kernel-harness/harness/harness/input"
)

// Fragment is a config fragment: options and the values it asks for.
// Items maps "CONFIG_X" to y, m, n, a quoted string ("\"text\"", quotes
// kept as in .config) or a number; "# CONFIG_X is not set" is n.
type Fragment struct {
	Path  string
	Items map[string]string
}

var (
	setLine    = regexp.MustCompile(`^(CONFIG_[A-Za-z0-9_]+)=(.*)$`)
	notSetLine = regexp.MustCompile(`^# (CONFIG_[A-Za-z0-9_]+) is not set$`)
	goodValue  = regexp.MustCompile(`^(?:[ymn]|"(?:[^"\\]|\\.)*"|-?[0-9]+|0[xX][0-9a-fA-F]+)$`)
)

// parseLine reads one config line. ok is false for blanks and comments;
// err is set for a line that is neither.
func parseLine(line string) (name, value string, ok bool, err error) {
	line = strings.TrimSpace(line)
	if m := notSetLine.FindStringSubmatch(line); m != nil {
		return m[1], "n", true, nil
	}
	if line == "" || strings.HasPrefix(line, "#") {
		return "", "", false, nil
	}
	m := setLine.FindStringSubmatch(line)
	if m == nil {
		return "", "", false, fmt.Errorf("want CONFIG_X=value or # CONFIG_X is not set, got %q", line)
	}
	if !goodValue.MatchString(m[2]) {
		return "", "", false, fmt.Errorf("%s: bad value %q (want y, m, n, \"string\" or a number)", m[1], m[2])
	}
	return m[1], m[2], true, nil
}

// ParseFragment reads a config fragment. A line that is not an option,
// a comment or blank is an error naming file:line.
func ParseFragment(path string) (Fragment, error) {
	data, err := input.ReadFile(path, input.TextLimit)
	if err != nil {
		return Fragment{}, fmt.Errorf("config fragment: %w", err)
	}
	f := Fragment{Path: path, Items: map[string]string{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		name, value, ok, err := parseLine(sc.Text())
		if err != nil {
			return Fragment{}, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		if ok {
			f.Items[name] = value
		}
	}
	if err := sc.Err(); err != nil {
		return Fragment{}, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// ItemsPath names the fragment made of --config-item options in messages.
const ItemsPath = "--config-item"

// itemsFragment turns --config-item values into a fragment.
func itemsFragment(items []string) (Fragment, error) {
	f := Fragment{Path: ItemsPath, Items: map[string]string{}}
	for _, it := range items {
		s := strings.TrimSpace(it)
		if !strings.HasPrefix(s, "CONFIG_") {
			// Not guessed: a typo would be taken as another option.
			if name, _, ok := strings.Cut(s, "="); ok && configName.MatchString("CONFIG_"+name) {
				return Fragment{}, fmt.Errorf("--config-item %q: options are named with CONFIG_: write CONFIG_%s", it, s)
			}
			return Fragment{}, fmt.Errorf("--config-item %q: want CONFIG_X=y, m, n, \"string\" or a number", it)
		}
		name, value, ok, err := parseLine(s)
		if err != nil || !ok {
			return Fragment{}, fmt.Errorf("--config-item %q: want CONFIG_X=y, m, n, \"string\" or a number", it)
		}
		f.Items[name] = value
	}
	return f, nil
}

var configName = regexp.MustCompile(`^CONFIG_[A-Za-z0-9_]+$`)

// CheckInputs checks --config files and --config-item values, before
// anything is checked out or built: each file a readable fragment, each
// item CONFIG_X=value.
func CheckInputs(configs, items []string) error {
	var errs []error
	for _, p := range configs {
		if _, err := ParseFragment(p); err != nil {
			errs = append(errs, fmt.Errorf("--config %w", err))
		}
	}
	if _, err := itemsFragment(items); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// text renders the fragment in .config syntax, options sorted.
func (f Fragment) text() string {
	names := make([]string, 0, len(f.Items))
	for n := range f.Items {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "# from %s\n", f.Path)
	for _, n := range names {
		if v := f.Items[n]; v == "n" {
			fmt.Fprintf(&b, "# %s is not set\n", n)
		} else {
			fmt.Fprintf(&b, "%s=%s\n", n, v)
		}
	}
	return b.String()
}

// readDotconfig returns the options a .config sets, "is not set" as n.
func readDotconfig(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	vals := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		// Unlike a fragment, a line we do not understand is not ours to
		// reject: Kconfig wrote it.
		if name, value, ok, err := parseLine(line); err == nil && ok {
			vals[name] = value
		} else if m := setLine.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			vals[m[1]] = m[2]
		}
	}
	return vals, nil
}
