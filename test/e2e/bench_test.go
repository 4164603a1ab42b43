package e2e

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kernel-harness/harness/harness/boot"
	"github.com/kernel-harness/harness/harness/boot/driver"
	"github.com/kernel-harness/harness/harness/wire"
)

// BenchmarkBoot measures, on the default Debian kernel, the wall time to
// the guest's first event and to the end: for `harness run` with the whole
// in-order matrix, and for the floor, an init that only reports and powers
// off. KVM where it works, TCG otherwise, as a run would choose.
func BenchmarkBoot(b *testing.B) {
	needQEMU(b)
	k := debianKernel(b)

	b.Run("harness", func(b *testing.B) {
		bin := harnessBinary(b)
		var first, total time.Duration
		for i := 0; i < b.N; i++ {
			start := time.Now()
			cmd := exec.Command(bin, "run", "--kernel", k.Image, "--out", b.TempDir())
			stderr, err := cmd.StderrPipe()
			if err != nil {
				b.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "guest: up") {
					first += time.Since(start)
				}
			}
			if err := cmd.Wait(); err != nil {
				b.Fatalf("harness run: %v", err)
			}
			total += time.Since(start)
		}
		b.ReportMetric(first.Seconds()/float64(b.N), "s/first-event")
		b.ReportMetric(total.Seconds()/float64(b.N), "s/verdict")
	})

	b.Run("floor", func(b *testing.B) {
		dir := b.TempDir()
		initBin := filepath.Join(dir, "poweroff")
		build := exec.Command("go", "build", "-o", initBin, "github.com/kernel-harness/harness/images/poweroff")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			b.Fatalf("build poweroff: %v\n%s", err, out)
		}
		var first, total time.Duration
		for i := 0; i < b.N; i++ {
			start := time.Now()
			var seen time.Duration
			res, err := boot.Run(context.Background(), boot.Spec{
				Backend: boot.BackendQEMU, Kernel: k, Agent: initBin, Work: dir, Out: dir,
				QEMU: boot.QEMUConfig{Machine: "q35", EventsPort: wire.EventsPort}, CPUs: 2, MemoryMB: 512, Accel: driver.AccelAuto,
				Deadlines: driver.Deadlines{Boot: 15 * time.Second, Idle: 30 * time.Second, Run: time.Minute},
				Sinks: boot.Sinks{OnEvent: func(e wire.Event, _ []byte) {
					if seen == 0 {
						seen = time.Since(start)
					}
				}},
			})
			if err != nil || !res.Outcome.Done {
				b.Fatalf("floor boot: %v", err)
			}
			first += seen
			total += time.Since(start)
		}
		b.ReportMetric(first.Seconds()/float64(b.N), "s/first-event")
		b.ReportMetric(total.Seconds()/float64(b.N), "s/verdict")
	})
}
