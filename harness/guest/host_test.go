package guest

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"

	"github.com/kernel-harness/harness/harness/scenario"
	"github.com/kernel-harness/harness/harness/wire"
)

// TestCaseOnHost runs a baseline case on the machine running the test, in
// a network namespace of its own, with the real tracer: the quickest check
// that the agent's traffic and the kernel-side trace fit together.
func TestCaseOnHost(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to load BPF programs and make network namespaces: run the tests as root")
	}
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		t.Skipf("the host kernel has no BTF (%v): the VM tests cover this", err)
	}
	tr, err := startTracer(spec)
	if errors.Is(err, unix.EPERM) {
		t.Skipf("this machine refuses BPF programs to root (%v), as containers do: run on a host or VM where root may load BPF; the VM tests cover this", err)
	}
	if err != nil {
		t.Fatalf("start tracer: %v", err)
	}
	defer tr.Close()
	for _, fam := range []string{scenario.IPv4, scenario.IPv6} {
		var evs []wire.Event
		c := scenario.Case{Scenario: scenario.Builtin()[0], Family: fam, Mode: scenario.Baseline}
		r := &caseRun{c: c, emit: func(e wire.Event) { evs = append(evs, e) }, tr: tr, timeout: 5 * time.Second}
		if err := inNetns(r.run); err != nil {
			t.Fatalf("%s: %v", fam, err)
		}
		counts := map[wire.Kind]int{}
		for _, e := range evs {
			counts[e.Kind]++
		}
		sends := len(c.Scenario.Sends)
		if counts[wire.Send] != sends || counts[wire.Recv] != sends {
			t.Errorf("%s: %d sends and %d reads, want %d each", fam, counts[wire.Send], counts[wire.Recv], sends)
		}
		if counts[wire.KernelWake] != sends {
			t.Errorf("%s: %d kernel wake-ups, want %d (one per send); events: %+v", fam, counts[wire.KernelWake], sends, evs)
		}
	}
}
