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
)

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
	}}
}

// Unprobed answers every probe with the same reason, for a kernel whose
// BTF could not be read.
func Unprobed(reason string) Set {
	var s Set
	for _, n := range []string{RcvqOp, RcvqFlag, RcvqKfunc, RcvqEntry, WakeTracing} {
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
