package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kernel-harness/harness/harness/bpftests"
	"github.com/kernel-harness/harness/harness/kbuild"
	"github.com/kernel-harness/harness/harness/series"
)

// BenchmarkSelftestsBuild times test_progs builds on Debian's 6.12 tree
// with our port, against the selftests-profile kernel (built or taken
// from the cache first): a cold build into an empty output folder, then
// a rebuild from a fresh checkout of the same sources, as each harness
// selftests run makes one (unchanged sources keep old times, and make
// must find the skeletons the tests' .d files name). Run it with make
// bench-selftests; it ends with a table.
func BenchmarkSelftestsBuild(b *testing.B) {
	tree := linuxTree(b)
	portDir, _ := filepath.Abs("../../selftests/series/" + port)
	code, stdout, stderr := runHarness(b, "build", "--tree", tree, "--series", portDir, "--profile", "selftests", "--out", b.TempDir())
	if code != 0 {
		b.Fatalf("harness build --profile selftests: exit %d\n%s", code, stderr)
	}
	image := strings.TrimSpace(stdout)
	ctx := context.Background()
	s, err := series.Load(ctx, portDir, tree)
	if err != nil {
		b.Fatal(err)
	}
	checkout := func(b *testing.B) string {
		wt := filepath.Join(b.TempDir(), "wt")
		if _, err := series.Apply(ctx, tree, "", wt, s, nil); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { series.Remove(context.Background(), tree, wt) })
		return wt
	}
	out := b.TempDir()
	build := func(b *testing.B, wt string) time.Duration {
		log, _ := os.Create(filepath.Join(out, "build.log"))
		defer log.Close()
		start := time.Now()
		if _, err := bpftests.Build(ctx, bpftests.BuildOptions{Tree: wt, Kernel: image, Out: out, Tests: []string{"tcp_hdr_options"}, Log: log}); err != nil {
			b.Fatalf("%v (log: %s)", err, log.Name())
		}
		return time.Since(start)
	}
	wt := checkout(b)
	_, record, err := kbuild.KeepTimes(ctx, wt, out)
	if err != nil {
		b.Fatal(err)
	}
	cold := build(b, wt)
	if err := record(); err != nil {
		b.Fatal(err)
	}
	wt2 := checkout(b)
	kept, _, err := kbuild.KeepTimes(ctx, wt2, out)
	if err != nil {
		b.Fatal(err)
	}
	rebuild := build(b, wt2)
	b.ReportMetric(cold.Seconds(), "s/cold-build")
	b.ReportMetric(rebuild.Seconds(), "s/rebuild")
	fmt.Printf("\n%-22s %12s %22s %16s\n", "test_progs build", "cold", "fresh checkout, same", "sources kept")
	fmt.Printf("%-22s %12s %22s %16d\n", "6.12 + port, clang", cold.Round(time.Second), rebuild.Round(time.Second), kept)
}
