package features

import (
	"errors"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"
)

func specWith(t *testing.T, types ...btf.Type) *btf.Spec {
	t.Helper()
	b, err := btf.NewBuilder(types, nil)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := b.Spec()
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

func kfunc(name string) *btf.Func {
	return &btf.Func{Name: name, Type: &btf.FuncProto{Return: &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}}, Linkage: btf.GlobalFunc}
}

func TestProbeSpecPatchedKernel(t *testing.T) {
	ops := &btf.Enum{Size: 4, Values: []btf.EnumValue{
		{Name: "BPF_SOCK_OPS_VOID", Value: 0},
		{Name: "BPF_SOCK_OPS_TSTAMP_SENDMSG_CB", Value: 20},
		{Name: "BPF_SOCK_OPS_RCVQ_CB", Value: 21},
	}}
	flags := &btf.Enum{Size: 4, Values: []btf.EnumValue{
		{Name: "BPF_SOCK_OPS_RCVQ_CB_FLAG", Value: 1 << 7},
		{Name: "BPF_SOCK_OPS_ALL_CB_FLAGS", Value: 0xff},
	}}
	set := ProbeSpec(specWith(t, ops, flags, kfunc(RcvqKfunc), kfunc(RcvqEntry), kfunc(WakeTracing)))
	if err := set.Autolowat(); err != nil {
		t.Fatalf("Autolowat: %v", err)
	}
	op, _ := set.Get(RcvqOp)
	if op.Number != 21 {
		t.Errorf("op number %d, want 21", op.Number)
	}
	flag, _ := set.Get(RcvqFlag)
	if flag.Number != 1<<7 {
		t.Errorf("flag number %d, want 128", flag.Number)
	}
}

func TestProbeSpecStockKernel(t *testing.T) {
	ops := &btf.Enum{Size: 4, Values: []btf.EnumValue{{Name: "BPF_SOCK_OPS_TSTAMP_SENDMSG_CB", Value: 20}}}
	set := ProbeSpec(specWith(t, ops, kfunc(WakeTracing)))
	err := set.Autolowat()
	if !errors.Is(err, ErrNotSupported) {
		t.Fatalf("Autolowat: %v, want ErrNotSupported", err)
	}
	for _, want := range []string{"kernel lacks BPF_SOCK_OPS_RCVQ_CB", "kernel lacks BPF_SOCK_OPS_RCVQ_CB_FLAG", "kernel lacks bpf_sock_ops_tcp_set_rcvlowat"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("reason %q does not say %q", err, want)
		}
	}
	if p, _ := set.Get(WakeTracing); !p.Value {
		t.Errorf("%s not found: %+v", WakeTracing, p)
	}
}

func TestProbeSpecEarlierRevision(t *testing.T) {
	ops := &btf.Enum{Size: 4, Values: []btf.EnumValue{{Name: "BPF_SOCK_OPS_RCVLOWAT_CB", Value: 21}}}
	p, _ := ProbeSpec(specWith(t, ops)).Get(RcvqOp)
	if p.Value || !strings.Contains(p.Reason, "BPF_SOCK_OPS_RCVLOWAT_CB") {
		t.Fatalf("earlier revision not named: %+v", p)
	}
}

func TestUnprobed(t *testing.T) {
	set := Unprobed("no BTF")
	if err := set.Autolowat(); err == nil || !strings.Contains(err.Error(), "no BTF") {
		t.Fatalf("Autolowat: %v", err)
	}
}
