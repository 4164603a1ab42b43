// Package userbpf takes BPF programs that are not the harness's own: it
// compiles a BPF C file against the kernel under test, and checks a
// compiled object before anything boots, so that a wrong file is refused
// on the host with a reason instead of failing inside the guest.
package userbpf

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/cilium/ebpf"

	"github.com/kernel-harness/harness/harness/input"
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
	if err := elfObject(path); err != nil {
		return nil, err
	}
	spec, err := ebpf.LoadCollectionSpec(path)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("%s is cut off: its sections end before the file does (%w)", path, err)
	}
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

// bpfFClone is BPF_F_CLONE of uapi bpf.h: socket storage that a listener's
// children inherit.
const bpfFClone = 1 << 9

// NoChildState says why the programs of the object at path keep no state
// for a child socket that a listener creates, or "" when they do or when
// the object does not tell. Fast Open queues data on such a child before
// accept() can return it, so the only opt-in that can reach that data is
// the listener's, and it reaches the child only through socket storage
// marked BPF_F_CLONE. The series' own program has none.
func NoChildState(path string) (string, error) {
	spec, err := ebpf.LoadCollectionSpec(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return noChildState(spec), nil
}

func noChildState(spec *ebpf.CollectionSpec) string {
	var storage []string
	for name, m := range spec.Maps {
		if m.Type != ebpf.SkStorage {
			continue
		}
		if m.Flags&bpfFClone != 0 {
			return ""
		}
		storage = append(storage, name)
	}
	if len(storage) == 0 {
		return "" // state kept some other way: only a run can tell
	}
	sort.Strings(storage)
	var sockops []string
	for name, p := range spec.Programs {
		if p.Type == ebpf.SockOps {
			sockops = append(sockops, name)
		}
	}
	sort.Strings(sockops)
	who := "the programs"
	if len(sockops) > 0 {
		who = strings.Join(sockops, ", ")
	}
	return fmt.Sprintf("%s keeps no state for a child created with data: its socket storage is not BPF_F_CLONE (map %s)",
		who, strings.Join(storage, ", "))
}

// elfObject says in words what is wrong with a file that is not a BPF
// ELF object the harness can load, before the ELF reader's own terms.
func elfObject(path string) error {
	f, err := input.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var hdr [64]byte
	n, _ := io.ReadFull(f, hdr[:])
	switch {
	case n < 4 || string(hdr[:4]) != "\x7fELF":
		return fmt.Errorf("%s is not an ELF object: give the .o clang --target=bpf -c writes (or --bpf-source for the C file)", path)
	case n < 64:
		return fmt.Errorf("%s is cut off: %d bytes, shorter than an ELF header", path, n)
	case hdr[5] != 1: // EI_DATA: 1 little-endian, 2 big-endian
		return fmt.Errorf("%s is a big-endian object (clang --target=bpfeb): this x86 kernel loads little-endian ones; build it with --target=bpf or bpfel", path)
	case binary.LittleEndian.Uint16(hdr[18:]) != uint16(elf.EM_BPF):
		return fmt.Errorf("%s is an ELF object for another machine (%v), not BPF: build it with clang --target=bpf", path, elf.Machine(binary.LittleEndian.Uint16(hdr[18:])))
	}
	return nil
}

// Unusable says why the programs cannot serve the autolowat cases, or
// "": the cases need a sockops program (the RCVQ callback) and a
// cgroup/setsockopt one, which takes the opt-in
// setsockopt(SOL_BPF, BPF_TCP_AUTOLOWAT).
func Unusable(progs []report.BPFProgram) string {
	var sockops, setsockopt bool
	for _, p := range progs {
		switch {
		case p.Type == ebpf.SockOps.String():
			sockops = true
		case p.Type == ebpf.CGroupSockopt.String() && p.Attach == ebpf.AttachCGroupSetsockopt.String():
			setsockopt = true
		}
	}
	switch {
	case !sockops:
		return "no sockops program: the autolowat cases need one for BPF_SOCK_OPS_RCVQ_CB"
	case !setsockopt:
		return "no cgroup/setsockopt program: the autolowat cases opt a socket in with setsockopt(SOL_BPF, BPF_TCP_AUTOLOWAT), which one must take"
	}
	return ""
}
