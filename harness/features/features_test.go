package features

import (
	"bytes"
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

// tcpOpsSpec is the BTF of a kernel with the series' later revision: a
// struct_ops bpf_tcp_ops with the RCVQ members and its two kfuncs, no
// SOCK_OPS op; marshalled and read back as a kernel's would be.
func tcpOpsSpec(t *testing.T) *btf.Spec {
	t.Helper()
	i32 := &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
	u32 := &btf.Int{Name: "unsigned int", Size: 4}
	sk := &btf.Struct{Name: "sock", Size: 8}
	skb := &btf.Struct{Name: "sk_buff", Size: 8}
	tp := &btf.Struct{Name: "tcp_sock", Size: 8}
	ptr := func(t btf.Type) btf.Type { return &btf.Pointer{Target: t} }
	fn := func(params ...btf.FuncParam) btf.Type {
		return ptr(&btf.FuncProto{Return: &btf.Void{}, Params: params})
	}
	ops := &btf.Struct{Name: "bpf_tcp_ops", Size: 16, Members: []btf.Member{
		{Name: "enqueue_rcvq", Type: fn(btf.FuncParam{Name: "sk", Type: ptr(sk)}, btf.FuncParam{Name: "skb", Type: ptr(skb)})},
		{Name: "dequeue_rcvq", Type: fn(btf.FuncParam{Name: "sk", Type: ptr(sk)}), Offset: 64},
	}}
	flags := &btf.Enum{Size: 4, Values: []btf.EnumValue{{Name: "BPF_TCP_OPS_FLAG_RCVQ", Value: 1}}}
	setFlags := &btf.Func{Name: "bpf_tcp_ops_set_flags", Linkage: btf.GlobalFunc, Type: &btf.FuncProto{Return: i32, Params: []btf.FuncParam{
		{Name: "tp", Type: ptr(tp)}, {Name: "enable", Type: u32}, {Name: "disable", Type: u32}}}}
	setLowat := &btf.Func{Name: "bpf_tcp_ops_set_rcvlowat", Linkage: btf.GlobalFunc, Type: &btf.FuncProto{Return: i32, Params: []btf.FuncParam{
		{Name: "sk", Type: ptr(sk)}, {Name: "rcvlowat", Type: i32}}}}
	ts := &btf.Enum{Size: 4, Values: []btf.EnumValue{{Name: "BPF_SOCK_OPS_TSTAMP_SENDMSG_CB", Value: 20}}}
	b, err := btf.NewBuilder([]btf.Type{ops, flags, setFlags, setLowat, ts, kfunc(WakeTracing)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := b.Marshal(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := btf.LoadSpecFromReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// A kernel with the series' struct_ops revision is named as such, not as
// one that lacks the SOCK_OPS op; a kernel with the SOCK_OPS revision is
// not mistaken for it.
func TestProbeSpecTCPOpsRevision(t *testing.T) {
	set := ProbeSpec(tcpOpsSpec(t))
	p, _ := set.Get(TCPOps)
	if !p.Value || !strings.Contains(p.Reason, "enqueue_rcvq, dequeue_rcvq, bpf_tcp_ops_set_flags, bpf_tcp_ops_set_rcvlowat") {
		t.Fatalf("probe %+v", p)
	}
	err := set.Autolowat()
	if !errors.Is(err, ErrNotSupported) || !strings.HasPrefix(err.Error(), TCPOpsRevision) || strings.Contains(err.Error(), "lacks BPF_SOCK_OPS_RCVQ_CB") {
		t.Errorf("Autolowat: %v", err)
	}

	ops := &btf.Enum{Size: 4, Values: []btf.EnumValue{{Name: "BPF_SOCK_OPS_RCVQ_CB", Value: 21}}}
	flags := &btf.Enum{Size: 4, Values: []btf.EnumValue{{Name: "BPF_SOCK_OPS_RCVQ_CB_FLAG", Value: 1 << 7}}}
	sockops := ProbeSpec(specWith(t, ops, flags, kfunc(RcvqKfunc)))
	if p, _ := sockops.Get(TCPOps); p.Value || !strings.Contains(p.Reason, "no struct bpf_tcp_ops") {
		t.Errorf("SOCK_OPS revision: %+v", p)
	}
	if err := sockops.Autolowat(); err != nil {
		t.Errorf("SOCK_OPS revision: %v", err)
	}
	// A bpf_tcp_ops without the RCVQ members is some other struct_ops.
	other := ProbeSpec(specWith(t, &btf.Struct{Name: "bpf_tcp_ops", Size: 8, Members: []btf.Member{{Name: "rto", Type: &btf.Int{Name: "long", Size: 8}}}}))
	if p, _ := other.Get(TCPOps); p.Value {
		t.Errorf("bpf_tcp_ops without enqueue_rcvq: %+v", p)
	}
	if err := other.Autolowat(); err == nil || !strings.Contains(err.Error(), "kernel lacks BPF_SOCK_OPS_RCVQ_CB") {
		t.Errorf("bpf_tcp_ops without enqueue_rcvq: %v", err)
	}
}
