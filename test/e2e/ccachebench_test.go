package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"time"
)

// BenchmarkCcacheElsewhere builds the port with the minimal profile under
// one harness cache folder with an empty ccache, then the same under
// another cache folder: the second build must come from ccache although
// every path in its compile commands differs. Run it with make
// bench-build; it ends with a table.
func BenchmarkCcacheElsewhere(b *testing.B) {
	if _, err := exec.LookPath("ccache"); err != nil {
		b.Skip("ccache is not installed: run make deps-build")
	}
	tree := linuxTree(b)
	series, _ := filepath.Abs("../../selftests/series/" + port)
	ccacheDir := b.TempDir()
	stats := func() (hits, misses int) {
		cmd := exec.Command("ccache", "--print-stats")
		cmd.Env = append(os.Environ(), "CCACHE_DIR="+ccacheDir)
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("ccache --print-stats: %v", err)
		}
		for _, l := range strings.Split(string(out), "\n") {
			k, v, _ := strings.Cut(l, "\t")
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			switch k {
			case "direct_cache_hit", "preprocessed_cache_hit":
				hits += n
			case "cache_miss":
				misses += n
			}
		}
		return hits, misses
	}
	build := func(label string) (time.Duration, int, int) {
		h0, m0 := stats()
		cmd := exec.Command(harnessBinary(b), "build", "--tree", tree, "--series", series, "--profile", "minimal", "--out", b.TempDir())
		cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+b.TempDir(), "CCACHE_DIR="+ccacheDir)
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%s: %v\n%s", label, err, out)
		}
		d := time.Since(start)
		h1, m1 := stats()
		return d, h1 - h0, m1 - m0
	}
	coldT, coldH, coldM := build("cold")
	b.ResetTimer()
	againT, againH, againM := build("elsewhere")
	b.StopTimer()
	rate := func(h, m int) string {
		if h+m == 0 {
			return "-"
		}
		return fmt.Sprintf("%.0f%%", 100*float64(h)/float64(h+m))
	}
	b.ReportMetric(float64(againH)/float64(max(1, againH+againM)), "hit-rate")
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "build (minimal, port)\ttime\tccache hits\tmisses\thit rate\t")
	fmt.Fprintf(tw, "empty ccache, cache folder A\t%s\t%d\t%d\t%s\t\n", coldT.Round(time.Second), coldH, coldM, rate(coldH, coldM))
	fmt.Fprintf(tw, "same build, cache folder B\t%s\t%d\t%d\t%s\t\n", againT.Round(time.Second), againH, againM, rate(againH, againM))
	tw.Flush()
}
