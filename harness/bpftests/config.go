package bpftests

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ConfigFragment is the tree's list of the kernel options the BPF
// selftests need.
const ConfigFragment = "tools/testing/selftests/bpf/config"

// ConfigGaps lists the options of the tree's ConfigFragment that the
// kernel's config (a .config file) does not have as asked, each as
// "CONFIG_X=y (kernel: m)". test_progs compiles every one of its BPF
// programs against the kernel's own types (vmlinux.h made from its BTF),
// so a kernel without, say, BPF crypto fails the build of programs no
// chosen test runs: the gaps are said before minutes of building.
// Modules' types are not in vmlinux.h, so =y wants y; =m takes y or m.
func ConfigGaps(tree, kernelConfig string) ([]string, error) {
	want, err := readConfig(filepath.Join(tree, ConfigFragment))
	if err != nil {
		return nil, err
	}
	have, err := readConfig(kernelConfig)
	if err != nil {
		return nil, err
	}
	var gaps []string
	for _, o := range want.order {
		w, h := want.val[o], have.val[o]
		ok := false
		switch w {
		case "y":
			ok = h == "y"
		case "m":
			ok = h == "y" || h == "m"
		case "n":
			ok = h == "n" || h == ""
		default: // a number or string: as asked
			ok = h == w
		}
		if !ok {
			if h == "" {
				h = "not set"
			}
			gaps = append(gaps, fmt.Sprintf("%s=%s (kernel: %s)", o, w, h))
		}
	}
	return gaps, nil
}

// GapsError says what the kernel lacks and how to build it with it.
func GapsError(tree string, gaps []string) error {
	if len(gaps) == 0 {
		return nil
	}
	shown := gaps
	more := ""
	if len(shown) > 12 {
		shown, more = shown[:12], fmt.Sprintf(", and %d more", len(gaps)-12)
	}
	return fmt.Errorf("the kernel lacks %d of the options the BPF selftests are built against (%s):\n  %s%s\n"+
		"test_progs compiles all its programs against the kernel's types (vmlinux.h): build the kernel with --profile selftests, "+
		"which merges %s with what its options need",
		len(gaps), ConfigFragment, strings.Join(shown, "\n  "), more, filepath.Join(tree, ConfigFragment))
}

type config struct {
	order []string
	val   map[string]string
}

// readConfig reads CONFIG_X=v lines and "# CONFIG_X is not set" (as n).
func readConfig(path string) (config, error) {
	c := config{val: map[string]string{}}
	f, err := os.Open(path)
	if err != nil {
		return c, fmt.Errorf("kernel config: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		name, val := "", ""
		switch {
		case strings.HasPrefix(line, "# CONFIG_") && strings.HasSuffix(line, " is not set"):
			name, val = strings.TrimSuffix(strings.TrimPrefix(line, "# "), " is not set"), "n"
		case strings.HasPrefix(line, "CONFIG_"):
			var ok bool
			if name, val, ok = strings.Cut(line, "="); !ok {
				continue
			}
			val = strings.Trim(val, `"`)
		default:
			continue
		}
		if _, seen := c.val[name]; !seen {
			c.order = append(c.order, name)
		}
		c.val[name] = val
	}
	return c, sc.Err()
}
