package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	kernelconfig "github.com/kernel-harness/harness/kernel-config"

	"github.com/kernel-harness/harness/harness/kbuild"
)

// BenchmarkKernelBuild compares, on Debian's 6.12 tree, a cold build of
// the minimal profile with one of x86_64 defconfig plus kvm_guest.config
// plus the same BPF and net options (the size of a virtme-ng --kconfig
// kernel), and times a rebuild after touching one file in net/ipv4.
// ccache is off so that cold means cold. Run it with make bench-build.
func BenchmarkKernelBuild(b *testing.B) {
	tree := linuxTree(b)
	ctx := context.Background()
	frags := func(b *testing.B, extra ...string) []kbuild.Fragment {
		paths, err := kernelconfig.Write("minimal", b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		var out []kbuild.Fragment
		for _, p := range append(extra, paths...) {
			f, err := kbuild.ParseFragment(p)
			if err != nil {
				b.Fatal(err)
			}
			out = append(out, f)
		}
		return out
	}
	build := func(b *testing.B, base string, fr []kbuild.Fragment) (obj string, art *kbuild.Artifact) {
		obj = b.TempDir()
		logFile := filepath.Join(obj, "build.log")
		log, _ := os.Create(filepath.Join(obj, "config.log"))
		defer log.Close()
		if _, err := kbuild.Configure(ctx, tree, obj, base, fr, nil, log); err != nil {
			b.Fatalf("configure %s: %v", base, err)
		}
		start := time.Now()
		art, err := kbuild.Build(ctx, tree, obj, 0, false, logFile, nil)
		if err != nil {
			b.Fatalf("build %s: %v", base, err)
		}
		b.ReportMetric(float64(art.Objects), "objects")
		b.ReportMetric(time.Since(start).Seconds(), "s/cold-build")
		return obj, art
	}
	b.Setenv("CCACHE_DISABLE", "1")

	b.Run("minimal", func(b *testing.B) {
		obj, _ := build(b, "allnoconfig", frags(b))
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
		b.ReportMetric(time.Since(start).Seconds(), "s/one-file-rebuild")
	})
	b.Run("defconfig+kvm_guest", func(b *testing.B) {
		// kvm_guest.config serves every architecture; its s390 line has
		// no meaning on x86 and would be reported as vanished.
		raw, err := os.ReadFile(filepath.Join(tree, "kernel/configs/kvm_guest.config"))
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
		build(b, "defconfig", frags(b, kvm))
	})
}
