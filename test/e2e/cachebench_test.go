package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/tabwriter"
	"time"
)

// BenchmarkCachedTree compares, with the same kernel image and one
// scenario, `harness run --tree T --series S` whose kernel is already in
// the artifact cache with `harness run --kernel <that image>`: the
// bookkeeping a cache hit costs over booting a kernel one already has.
// The goal is at most 1.5x. The first run (a build, or a hit from an
// earlier test) is not timed. Run it with make bench-cache; it ends with
// a table, ratios from this one run.
func BenchmarkCachedTree(b *testing.B) {
	needQEMU(b)
	tree := linuxTree(b)
	series, _ := filepath.Abs("../../selftests/series/" + port)
	filter := []string{"--scenario", "^one-frame-per-send$"}
	tree1 := append([]string{"run", "--tree", tree, "--series", series, "--profile", "minimal"}, filter...)
	code, _, stderr := runHarness(b, append(tree1, "--out", b.TempDir())...)
	if code != 0 {
		b.Fatalf("warm-up run: exit %d\n%s", code, stderr)
	}
	out := b.TempDir()
	code, _, stderr = runHarness(b, append(tree1, "--out", out)...)
	if code != 0 {
		b.Fatalf("cached run: exit %d\n%s", code, stderr)
	}
	image := readReport(b, out).Kernel.Path
	if image == "" {
		b.Fatal("the report names no kernel image")
	}
	timeRuns := func(args []string) time.Duration {
		var total time.Duration
		for i := 0; i < b.N; i++ {
			start := time.Now()
			code, _, stderr := runHarness(b, append(args, "--out", b.TempDir())...)
			if code != 0 {
				b.Fatalf("%s: exit %d\n%s", strings.Join(args, " "), code, stderr)
			}
			total += time.Since(start)
		}
		return total / time.Duration(b.N)
	}
	b.ResetTimer()
	cached := timeRuns(tree1)
	kernel := timeRuns(append([]string{"run", "--kernel", image}, filter...))
	b.StopTimer()
	b.ReportMetric(cached.Seconds(), "s/tree-cached")
	b.ReportMetric(kernel.Seconds(), "s/kernel")
	b.ReportMetric(cached.Seconds()/kernel.Seconds(), "ratio")
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "run\twhole process\t\n")
	fmt.Fprintf(tw, "--tree --series, kernel in the cache\t%.1fs\t\n", cached.Seconds())
	fmt.Fprintf(tw, "--kernel, the same image\t%.1fs\t\n", kernel.Seconds())
	fmt.Fprintf(tw, "ratio (goal: at most 1.5)\t%.2f\t\n", cached.Seconds()/kernel.Seconds())
	tw.Flush()
}
