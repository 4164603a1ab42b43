package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/kernel-harness/harness/internal/fileutil"
	kernelconfig "github.com/kernel-harness/harness/kernel-config"

	"github.com/kernel-harness/harness/harness/artifact"
	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/series"
)

// inputsKey digests everything that decides a build and is known without
// a checkout: the base commit, the patches, the profile and its
// fragments, the user's fragments and items, and the toolchain that
// writes its versions into the .config. The same inputs give the same
// .config, so a run whose inputs were built before finds the artifact
// key in the index and checks nothing out; any changed input misses and
// takes the whole way (checkout, configure, key from the .config).
func inputsKey(ctx context.Context, base string, s *series.Series, o Options) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "inputs v1\nbase=%s\nseries=%s\nprofile=%s\nfragments=%s\n", base, s.Digest(), o.Profile, kernelconfig.Version(o.Profile))
	for _, c := range o.Configs {
		b, err := os.ReadFile(c)
		if err != nil {
			return "", fmt.Errorf("config fragment: %w", err)
		}
		fmt.Fprintf(h, "config %d\n", len(b))
		h.Write(b)
	}
	for _, it := range o.Items {
		fmt.Fprintf(h, "item %s\n", it)
	}
	for _, tool := range toolchain {
		fmt.Fprintf(h, "%s: %s\n", tool[0], toolVersion(ctx, tool...))
	}
	return hex.EncodeToString(h.Sum(nil))[:24], nil
}

// toolchain is what Kconfig asks for its version (CONFIG_GCC_VERSION,
// CONFIG_LD_VERSION, CONFIG_PAHOLE_VERSION and the options that depend
// on them).
var toolchain = [][]string{{"gcc", "--version"}, {"ld", "--version"}, {"pahole", "--version"}}

func toolVersion(ctx context.Context, argv ...string) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).Output()
	if err != nil {
		return "none"
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line)
}

// indexEntry is what a build of some inputs gave: the artifact's key,
// and the build section of the report as that build wrote it.
type indexEntry struct {
	Key   artifact.Key `json:"key"`
	Build report.Build `json:"build"`
}

func indexPath(c *artifact.Cache, inputs string) string {
	return filepath.Join(c.Dir, "inputs", inputs+".json")
}

func readIndex(c *artifact.Cache, inputs string) (indexEntry, bool) {
	var e indexEntry
	b, err := os.ReadFile(indexPath(c, inputs))
	if err != nil || json.Unmarshal(b, &e) != nil || e.Key.Base == "" {
		return indexEntry{}, false
	}
	return e, true
}

// writeIndex records inputs -> key, whole or not at all.
func writeIndex(c *artifact.Cache, inputs string, e indexEntry) error {
	p := indexPath(c, inputs)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	return fileutil.WriteFile(p, b, 0o644)
}
