// Package features probes a kernel's BTF for the parts of the SOCK_OPS
// rcvlowat series the harness relies on. Expectations are chosen from these
// answers, never from a version number.
package features

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cilium/ebpf/btf"
)

// Names of the probes, as they appear in report.json.
const (
	RcvqOp      = "BPF_SOCK_OPS_RCVQ_CB"
	RcvqFlag    = "BPF_SOCK_OPS_RCVQ_CB_FLAG"
	RcvqKfunc   = "bpf_sock_ops_tcp_set_rcvlowat"
	RcvqEntry   = "bpf_skops_rcvlowat"
	WakeTracing = "sock_def_readable"
	// TCPOps is the series' later revision (v5, 2026-10): a struct_ops
	// bpf_tcp_ops whose enqueue_rcvq and dequeue_rcvq members are called
	// on the same paths, with kfuncs bpf_tcp_ops_set_flags and
	// bpf_tcp_ops_set_rcvlowat, in place of the SOCK_OPS op.
	TCPOps = "bpf_tcp_ops"
)

// TCPOpsRevision is what an autolowat case says on a kernel that has the
// series' struct_ops revision and not the SOCK_OPS one.
const TCPOpsRevision = "the kernel carries the series' bpf_tcp_ops revision, which this harness does not drive yet"

// tcpOpsParts are what names that revision in a kernel's BTF.
var tcpOpsParts = []string{"enqueue_rcvq", "dequeue_rcvq", "bpf_tcp_ops_set_flags", "bpf_tcp_ops_set_rcvlowat"}

// ErrNotSupported is wrapped by every "kernel lacks" answer.
var ErrNotSupported = errors.New("not supported")

// Probe is one answer: whether the kernel has something, and why we think so.
type Probe struct {
	Name   string `json:"name"`
	Value  bool   `json:"value"`
	Number uint64 `json:"number,omitempty"`
	Reason string `json:"reason"`
}

// Set is every probe's answer for one kernel.
type Set struct {
	Probes []Probe `json:"probes"`
}

// Get returns the probe of that name.
func (s Set) Get(name string) (Probe, bool) {
	for _, p := range s.Probes {
		if p.Name == name {
			return p, true
		}
	}
	return Probe{}, false
}

// Autolowat says whether the kernel has everything our autolowat program
// needs; when it does not, the error names each missing part.
func (s Set) Autolowat() error {
	if op, _ := s.Get(RcvqOp); !op.Value {
		if p, ok := s.Get(TCPOps); ok && p.Value {
			return &MissingError{Reasons: []string{TCPOpsRevision + " (" + p.Reason + ")"}}
		}
	}
	var missing []string
	for _, n := range []string{RcvqOp, RcvqFlag, RcvqKfunc} {
		p, ok := s.Get(n)
		if !ok || !p.Value {
			reason := n + " not probed"
			if ok {
				reason = p.Reason
			}
			missing = append(missing, reason)
		}
	}
	if len(missing) > 0 {
		return &MissingError{Reasons: missing}
	}
	return nil
}

// MissingError lists what a kernel lacks; it is ErrNotSupported.
type MissingError struct{ Reasons []string }

func (e *MissingError) Error() string { return strings.Join(e.Reasons, "; ") }

// Unwrap lets errors.Is(err, ErrNotSupported) hold.
func (e *MissingError) Unwrap() error { return ErrNotSupported }

// Probe answers every probe from a kernel's BTF.
func ProbeSpec(spec *btf.Spec) Set {
	return Set{Probes: []Probe{
		enumerator(spec, RcvqOp, "BPF_SOCK_OPS_RCVLOWAT_CB"),
		enumerator(spec, RcvqFlag, ""),
		function(spec, RcvqKfunc, "the series' kfunc to set rcvlowat from the RCVQ callback"),
		function(spec, RcvqEntry, "the series' call into the RCVQ callback, traced for the enqueue path"),
		function(spec, WakeTracing, "the reader wake-up the tracer hooks"),
		tcpOps(spec),
	}}
}

// Unprobed answers every probe with the same reason, for a kernel whose
// BTF could not be read.
func Unprobed(reason string) Set {
	var s Set
	for _, n := range []string{RcvqOp, RcvqFlag, RcvqKfunc, RcvqEntry, WakeTracing, TCPOps} {
		s.Probes = append(s.Probes, Probe{Name: n, Reason: reason})
	}
	return s
}

// enumerator looks for an enum value by name in every enum of the spec:
// the BPF_SOCK_OPS_* enums of uapi bpf.h are anonymous, so no type name
// leads to them. old is the name an earlier revision of the series used.
func enumerator(spec *btf.Spec, name, old string) Probe {
	var oldHit *Probe
	for typ, err := range spec.All() {
		if err != nil {
			return Probe{Name: name, Reason: fmt.Sprintf("read kernel BTF: %v", err)}
		}
		enum, ok := typ.(*btf.Enum)
		if !ok {
			continue
		}
		for _, v := range enum.Values {
			switch v.Name {
			case name:
				return Probe{Name: name, Value: true, Number: v.Value,
					Reason: fmt.Sprintf("enumerator %s = %#x in the kernel's BTF", name, v.Value)}
			case old:
				if old != "" {
					oldHit = &Probe{Name: name, Number: v.Value,
						Reason: fmt.Sprintf("kernel lacks %s but has %s = %d, the name of an earlier revision of the series; rebuild with the current series", name, old, v.Value)}
				}
			}
		}
	}
	if oldHit != nil {
		return *oldHit
	}
	return Probe{Name: name, Reason: fmt.Sprintf("kernel lacks %s (no enumerator of that name in the kernel's BTF)", name)}
}

func function(spec *btf.Spec, name, what string) Probe {
	var fn *btf.Func
	if err := spec.TypeByName(name, &fn); err != nil {
		return Probe{Name: name, Reason: fmt.Sprintf("kernel lacks %s, %s (no BTF FUNC of that name)", name, what)}
	}
	return Probe{Name: name, Value: true, Reason: fmt.Sprintf("BTF FUNC %s found", name)}
}

// tcpOps looks for the series' struct_ops revision: struct bpf_tcp_ops
// with the enqueue_rcvq and dequeue_rcvq members, and its kfuncs.
func tcpOps(spec *btf.Spec) Probe {
	var st *btf.Struct
	if err := spec.TypeByName(TCPOps, &st); err != nil {
		return Probe{Name: TCPOps, Reason: "no struct bpf_tcp_ops in the kernel's BTF (the series' struct_ops revision)"}
	}
	have := map[string]bool{}
	for _, m := range st.Members {
		have[m.Name] = true
	}
	for _, name := range tcpOpsParts[2:] {
		var fn *btf.Func
		if spec.TypeByName(name, &fn) == nil {
			have[name] = true
		}
	}
	var found, lacking []string
	for _, n := range tcpOpsParts {
		if have[n] {
			found = append(found, n)
		} else {
			lacking = append(lacking, n)
		}
	}
	if !have["enqueue_rcvq"] || !have["dequeue_rcvq"] {
		return Probe{Name: TCPOps, Reason: fmt.Sprintf("struct bpf_tcp_ops without the series' members (lacks %s)", strings.Join(lacking, ", "))}
	}
	reason := "struct_ops bpf_tcp_ops with " + strings.Join(found, ", ")
	if len(lacking) > 0 {
		reason += "; lacks " + strings.Join(lacking, ", ")
	}
	return Probe{Name: TCPOps, Value: true, Reason: reason}
}
