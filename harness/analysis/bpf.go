package analysis

import (
	"github.com/kernel-harness/harness/harness/features"
	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/wire"
)

// BPF adds to b what the guest said about loading the programs.
func BPF(b *report.BPF, evs []wire.Event, feats []report.Feature) *report.BPF {
	for _, e := range evs {
		if e.Kind != wire.BPF {
			continue
		}
		if b == nil {
			b = &report.BPF{}
		}
		b.Loaded, b.Log = e.OK, e.Message
		if b.Programs == nil && e.Value != "" {
			b.Note = e.Value
		}
		return b
	}
	if b != nil {
		b.Note = "not loaded: the kernel lacks the hook the autolowat programs need"
		for _, f := range feats {
			if f.Name == features.TCPOps && f.Value {
				b.Note = "not loaded: " + features.TCPOpsRevision + " (" + f.Reason + ")"
				return b
			}
		}
		for _, f := range feats {
			if !f.Value && f.Reason != "" && f.Name != features.TCPOps {
				b.Note += "; " + f.Reason
			}
		}
	}
	return b
}

// Features are the guest's answers to the feature probes.
func Features(evs []wire.Event) []report.Feature {
	out := []report.Feature{}
	for _, e := range evs {
		if e.Kind == wire.Feature {
			out = append(out, report.Feature{Name: e.Name, Value: e.OK, Reason: e.Message})
		}
	}
	return out
}
