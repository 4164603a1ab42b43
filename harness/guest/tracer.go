package guest

import (
	"errors"
	"fmt"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"github.com/hashicorp/go-multierror"

	"github.com/kernel-harness/harness/harness/features"
	"github.com/kernel-harness/harness/harness/wire"
	"github.com/kernel-harness/harness/selftests/progs"
)

// Kinds and paths of progs.TracerKevent, as in selftests/progs/include/harness.h.
const (
	keventWake  = 1
	keventLowat = 2
	keventRcvq  = 3
)

var kernelPaths = map[uint32]string{0: "unknown", 1: "in-order", 2: "ofo", 3: "fastopen", 4: "recvmsg", 5: wire.WakeState}

// tracer is the kernel side of the traces: the loaded tracer programs,
// their links and the ring buffer reader.
type tracer struct {
	coll  *ebpf.Collection
	links []link.Link
	rd    *ringbuf.Reader
	lost  uint64
}

// required programs make the tracer; the others attach where the kernel
// has their function and are otherwise left out.
var (
	requiredTracing = map[string]string{"trace_wake": "sock_def_readable", "trace_setlowat": "tcp_set_rcvlowat"}
	optionalTracing = map[string]string{
		"trace_rcvq":     "__cgroup_bpf_run_filter_sock_ops",
		"enter_ofo":      "tcp_ofo_queue",
		"leave_ofo":      "tcp_ofo_queue",
		"enter_fastopen": "tcp_fastopen_add_skb",
		"leave_fastopen": "tcp_fastopen_add_skb",
		"trace_state":    "sock_def_wakeup",
		"trace_error":    "sock_def_error_report",
	}
)

func startTracer(kernel *btf.Spec) (*tracer, error) {
	if kernel == nil {
		return nil, errors.New("tracer: kernel BTF unreadable; the kernel needs CONFIG_DEBUG_INFO_BTF=y")
	}
	spec, err := progs.LoadTracer()
	if err != nil {
		return nil, fmt.Errorf("tracer: %w", err)
	}
	for name, fn := range requiredTracing {
		var f *btf.Func
		if err := kernel.TypeByName(fn, &f); err != nil {
			return nil, fmt.Errorf("tracer: kernel lacks %s in its BTF, needed by %s", fn, name)
		}
	}
	for name, fn := range optionalTracing {
		var f *btf.Func
		if kernel.TypeByName(fn, &f) != nil {
			delete(spec.Programs, name)
		}
	}
	// RCVQ callbacks are traced only on a kernel with the series' op and
	// entry (bpf_skops_rcvlowat, what makes the rcvq-path check run).
	set := features.ProbeSpec(kernel)
	op, _ := set.Get(features.RcvqOp)
	entry, _ := set.Get(features.RcvqEntry)
	if !op.Value || !entry.Value {
		delete(spec.Programs, "trace_rcvq")
	} else if err := spec.Variables["rcvq_op"].Set(uint32(op.Number)); err != nil {
		return nil, fmt.Errorf("tracer: set rcvq_op: %w", err)
	}
	coll, err := ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{Programs: ebpf.ProgramOptions{KernelTypes: kernel}})
	if err != nil {
		return nil, fmt.Errorf("tracer: load: %w", verifierDetail(err))
	}
	t := &tracer{coll: coll}
	for name, prog := range coll.Programs {
		l, err := link.AttachTracing(link.TracingOptions{Program: prog})
		if err != nil {
			t.Close()
			return nil, fmt.Errorf("tracer: attach %s: %w", name, err)
		}
		t.links = append(t.links, l)
	}
	if t.rd, err = ringbuf.NewReader(coll.Maps["events"]); err != nil {
		t.Close()
		return nil, fmt.Errorf("tracer: ring buffer: %w", err)
	}
	return t, nil
}

// Watch makes the tracer report on the socket with this cookie.
func (t *tracer) Watch(cookie uint64) error {
	return t.coll.Maps["watched"].Put(cookie, uint8(1))
}

// WatchPort makes the tracer report on every socket with this local port.
func (t *tracer) WatchPort(port uint16) error {
	return t.coll.Maps["watched_ports"].Put(port, uint8(1))
}

// UnwatchPort undoes WatchPort.
func (t *tracer) UnwatchPort(port uint16) error {
	return t.coll.Maps["watched_ports"].Delete(port)
}

// Unwatch stops reporting on the socket.
func (t *tracer) Unwatch(cookie uint64) error {
	return t.coll.Maps["watched"].Delete(cookie)
}

// Drain returns every event the kernel has written so far. The programs
// run inside the syscalls that cause them, so after a send or recv has
// returned its events are already in the buffer.
func (t *tracer) Drain(scenarioID string) []wire.Event {
	var out []wire.Event
	t.rd.SetDeadline(time.Now())
	var rec ringbuf.Record
	for {
		if err := t.rd.ReadInto(&rec); err != nil {
			break
		}
		var k progs.TracerKevent
		if err := decodeKevent(rec.RawSample, &k); err != nil {
			out = append(out, wire.Event{Kind: wire.Log, TimeNS: Now(), Scenario: scenarioID, Message: fmt.Sprintf("tracer: %v", err)})
			continue
		}
		out = append(out, kernelEvent(scenarioID, k))
	}
	var lost uint64
	if v := t.coll.Variables["lost"]; v != nil && v.Get(&lost) == nil && lost > t.lost {
		out = append(out, wire.Event{Kind: wire.KernelLost, TimeNS: Now(), Scenario: scenarioID, Bytes: int(lost - t.lost)})
		t.lost = lost
	}
	return out
}

func kernelEvent(id string, k progs.TracerKevent) wire.Event {
	e := wire.Event{TimeNS: int64(k.T_ns), Scenario: id, Cookie: k.Cookie, Queued: int(k.Queued), Lowat: int(k.Lowat)}
	switch k.Kind {
	case keventWake:
		e.Kind = wire.KernelWake
		e.Path = kernelPaths[k.Path] // "state" for FIN and RST, else data
		if e.Path == "unknown" {
			e.Path = ""
		}
		e.RmemAlloc, e.Rcvbuf, e.Window, e.RcvMSS, e.Shutdown = int(k.RmemAlloc), int(k.Rcvbuf), int(k.Window), int(k.RcvMss), int(k.Shutdown)
	case keventLowat:
		e.Kind = wire.KernelRcvlowat
	case keventRcvq:
		e.Kind = wire.KernelRcvq
		e.Seq, e.Len, e.Path = k.Seq, k.Len, kernelPaths[k.Path]
	default:
		e.Kind = wire.Log
		e.Message = fmt.Sprintf("tracer: unknown event kind %d", k.Kind)
	}
	return e
}

func (t *tracer) Close() error {
	var result *multierror.Error
	if t.rd != nil {
		result = multierror.Append(result, t.rd.Close())
	}
	for i := len(t.links) - 1; i >= 0; i-- {
		result = multierror.Append(result, t.links[i].Close())
	}
	if t.coll != nil {
		t.coll.Close()
	}
	return result.ErrorOrNil()
}

// verifierDetail keeps the verifier's whole log in the error: a kernel
// developer needs all of it, not the last line.
func verifierDetail(err error) error {
	var ve *ebpf.VerifierError
	if errors.As(err, &ve) {
		return fmt.Errorf("%w\n%+v", err, ve)
	}
	return err
}
