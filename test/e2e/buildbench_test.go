package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	kernelconfig "github.com/kernel-harness/harness/kernel-config"

	"github.com/kernel-harness/harness/harness/kbuild"
)

// buildResult is one row of BenchmarkKernelBuild's table.
type buildResult struct {
	name     string
	compiled int // C and assembly files compiled to objects
	steps    int // every kbuild step: compile, archive, link, generate
	cold     time.Duration
	rebuild  time.Duration // after touching one file; 0 when not measured
}

// BenchmarkKernelBuild compares, on Debian's 6.12 tree, a cold build of
// the minimal profile with one of x86_64 defconfig plus kvm_guest.config
// plus the same BPF and net options (the size of a virtme-ng --kconfig
// kernel), and times a rebuild after touching one file in net/ipv4.
// ccache is off so that cold means cold. Run it with make bench-build; it
// ends with a table. The goal: minimal compiles at most 40% of the
// objects defconfig does.
func BenchmarkKernelBuild(b *testing.B) {
	tree := linuxTree(b)
	ctx := context.Background()
	minimal := func(b *testing.B) []kbuild.Fragment {
		paths, err := kernelconfig.Write("minimal", b.TempDir(), "")
		if err != nil {
			b.Fatal(err)
		}
		var out []kbuild.Fragment
		for _, p := range paths {
			f, err := kbuild.ParseFragment(p)
			if err != nil {
				b.Fatal(err)
			}
			out = append(out, f)
		}
		return out
	}
	var results []buildResult
	build := func(b *testing.B, name, base string, fr []kbuild.Fragment) (obj string) {
		obj = b.TempDir()
		log, _ := os.Create(filepath.Join(obj, "config.log"))
		defer log.Close()
		if _, err := kbuild.Configure(ctx, tree, obj, base, fr, nil, log); err != nil {
			b.Fatalf("configure %s: %v", base, err)
		}
		start := time.Now()
		art, err := kbuild.Build(ctx, tree, obj, 0, false, filepath.Join(obj, "build.log"), nil)
		if err != nil {
			b.Fatalf("build %s: %v", base, err)
		}
		r := buildResult{name: name, compiled: art.Compiled, steps: art.Objects, cold: time.Since(start)}
		b.ReportMetric(float64(r.compiled), "compiled")
		b.ReportMetric(float64(r.steps), "steps")
		b.ReportMetric(r.cold.Seconds(), "s/cold-build")
		results = append(results, r)
		return obj
	}
	b.Setenv("CCACHE_DISABLE", "1")

	b.Run("minimal", func(b *testing.B) {
		obj := build(b, "minimal", "allnoconfig", minimal(b))
		// One file in net/ipv4 touched: what a bisect step or a rerun
		// after a one-line fix pays.
		now := time.Now()
		if err := os.Chtimes(filepath.Join(tree, "net/ipv4/tcp_input.c"), now, now); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if _, err := kbuild.Build(ctx, tree, obj, 0, false, filepath.Join(obj, "rebuild.log"), nil); err != nil {
			b.Fatal(err)
		}
		results[len(results)-1].rebuild = time.Since(start)
		b.ReportMetric(time.Since(start).Seconds(), "s/one-file-rebuild")
	})
	b.Run("defconfig+kvm_guest", func(b *testing.B) {
		// kvm_guest.config serves every architecture; its s390 line has
		// no meaning on x86 and would be reported as vanished.
		path := filepath.Join(tree, "kernel/configs/kvm_guest.config")
		raw, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		var keep []string
		for _, l := range strings.Split(string(raw), "\n") {
			if !strings.HasPrefix(l, "CONFIG_S390_") {
				keep = append(keep, l)
			}
		}
		kvm := filepath.Join(b.TempDir(), "kvm_guest.config")
		if err := os.WriteFile(kvm, []byte(strings.Join(keep, "\n")), 0o644); err != nil {
			b.Fatal(err)
		}
		kf, err := kbuild.ParseFragment(kvm)
		if err != nil {
			b.Fatal(err)
		}
		// The same BPF and net options: what minimal turns on. What it
		// turns off (is not set) trims allnoconfig's leftovers and would
		// only shrink the kernel it is compared with.
		fr := []kbuild.Fragment{kf}
		for _, f := range minimal(b) {
			on := kbuild.Fragment{Path: f.Path, Items: map[string]string{}}
			for k, v := range f.Items {
				if v != "n" {
					on.Items[k] = v
				}
			}
			fr = append(fr, on)
		}
		build(b, "defconfig+kvm_guest", "defconfig", fr)
	})
	printBuildTable(results)
}

// printBuildTable prints the builds measured, and the ratio of compiled
// objects when both were.
func printBuildTable(results []buildResult) {
	if len(results) == 0 {
		return
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "build\tcompiled\tkbuild steps\tcold build\tone-file rebuild\t")
	by := map[string]buildResult{}
	for _, r := range results {
		by[r.name] = r
		rebuild := "-"
		if r.rebuild > 0 {
			rebuild = r.rebuild.Round(time.Second).String()
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%s\t%s\t\n", r.name, r.compiled, r.steps, r.cold.Round(time.Second), rebuild)
	}
	m, okm := by["minimal"]
	d, okd := by["defconfig+kvm_guest"]
	if okm && okd && d.compiled > 0 {
		fmt.Fprintf(w, "minimal/defconfig\t%.0f%%\t%.0f%%\t%.0f%%\t\t\n",
			100*float64(m.compiled)/float64(d.compiled), 100*float64(m.steps)/float64(d.steps),
			100*m.cold.Seconds()/d.cold.Seconds())
	}
	w.Flush()
}
