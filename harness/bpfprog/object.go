// Package bpfprog takes BPF programs that are not the harness's own: it
// compiles a BPF C file against the kernel under test, and checks a
// compiled object before anything boots, so that a wrong file is refused
// on the host with a reason instead of failing inside the guest.
package bpfprog

import (
	"fmt"
	"sort"
	"strings"

	"github.com/cilium/ebpf"

	"github.com/kernel-harness/harness/harness/report"
)

// cgroupTypes are the program types that attach to a cgroup: the harness
// puts every case's sockets in a cgroup of their own, so these are the
// programs its traffic can drive.
var cgroupTypes = map[ebpf.ProgramType]bool{
	ebpf.SockOps:        true,
	ebpf.CGroupSKB:      true,
	ebpf.CGroupSock:     true,
	ebpf.CGroupSockAddr: true,
	ebpf.CGroupSockopt:  true,
	ebpf.CGroupSysctl:   true,
}

// Attachable says whether the harness can attach p to a case's cgroup.
func Attachable(p *ebpf.ProgramSpec) bool { return cgroupTypes[p.Type] }

// Inspect reads a compiled BPF object and lists its programs. An object
// with a program the harness cannot attach to a cgroup, or with none at
// all, is refused: the user would otherwise get a run in which their
// program never ran.
func Inspect(path string) ([]report.BPFProgram, error) {
	spec, err := ebpf.LoadCollectionSpec(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return programs(path, spec)
}

func programs(path string, spec *ebpf.CollectionSpec) ([]report.BPFProgram, error) {
	var out []report.BPFProgram
	var refused []string
	for name, p := range spec.Programs {
		if !Attachable(p) {
			refused = append(refused, fmt.Sprintf("%s (section %q, %s)", name, p.SectionName, p.Type))
			continue
		}
		out = append(out, report.BPFProgram{Name: name, Section: p.SectionName, Type: p.Type.String(), Attach: p.AttachType.String()})
	}
	sort.Strings(refused)
	if len(refused) > 0 {
		return nil, fmt.Errorf("%s: the harness attaches programs to the cgroup of each case's sockets "+
			"(sockops, cgroup/setsockopt, cgroup/getsockopt, cgroup_skb/..., cgroup/sock_create, ...); these are not cgroup programs: %s",
			path, strings.Join(refused, ", "))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no programs in the object", path)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
