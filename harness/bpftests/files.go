package bpftests

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/kernel-harness/harness/harness/image"
	"github.com/kernel-harness/harness/harness/wire"
)

// GuestFiles is what the guest needs to run test_progs: the binary, the
// objects the chosen tests open beside it, and the shared libraries it links (ldd's list, the loader included) at
// their own paths, since the initramfs has no libraries of its own.
// Under vng the guest sees the host's libraries anyway; the copies are
// harmless there.
func GuestFiles(ctx context.Context, r Result) ([]image.File, error) {
	files := []image.File{{Path: filepath.Join(wire.SelftestsDir, "test_progs"), Mode: 0o755, Source: r.TestProgs}}
	for _, o := range r.Objects {
		files = append(files, image.File{Path: filepath.Join(wire.SelftestsDir, filepath.Base(o)), Mode: 0o644, Source: o})
	}
	bins := []string{r.TestProgs}
	// Tests run commands with system(): "ip link set dev lo up" in a new
	// namespace (tcp_hdr_options, setget_sockopt). The host's sh and ip
	// come along when it has them; the tests that need others fail with
	// the command's name in their log.
	for _, tool := range guestTools {
		p, err := exec.LookPath(tool.name)
		if err != nil {
			continue
		}
		files = append(files, image.File{Path: tool.at(p), Mode: 0o755, Source: p})
		bins = append(bins, p)
	}
	seen := map[string]bool{}
	for _, b := range bins {
		libs, err := sharedLibs(ctx, b)
		if err != nil {
			return nil, err
		}
		for _, l := range libs {
			if !seen[l] {
				seen[l] = true
				files = append(files, image.File{Path: l, Mode: 0o755, Source: l})
			}
		}
	}
	return files, nil
}

// guestTools are the host commands the initramfs gets for test_progs'
// system() calls, and where they go.
var guestTools = []struct {
	name string
	at   func(host string) string
}{
	{"sh", func(string) string { return "/bin/sh" }}, // system() runs /bin/sh
	{"ip", func(host string) string { return host }},
}

// sharedLibs lists the libraries ldd resolves for bin.
func sharedLibs(ctx context.Context, bin string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ldd", bin).CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "not a dynamic executable") {
			return nil, nil
		}
		return nil, fmt.Errorf("ldd %s: %v: %s", bin, err, strings.TrimSpace(string(out)))
	}
	return parseLdd(out)
}

func parseLdd(out []byte) ([]string, error) {
	var libs []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.Contains(line, "=> not found") {
			return nil, fmt.Errorf("test_progs needs a library the host lacks: %s", line)
		}
		if _, after, ok := strings.Cut(line, "=> "); ok {
			line = after
		}
		path, _, _ := strings.Cut(line, " (")
		if strings.HasPrefix(path, "/") {
			libs = append(libs, path)
		}
	}
	return libs, sc.Err()
}
