package guest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/hashicorp/go-multierror"

	"github.com/kernel-harness/harness/harness/features"
	"github.com/kernel-harness/harness/selftests/progs"
)

// autolowat is our autolowat program, loaded once per boot with the op
// and flag values the kernel's BTF gave, attached per case to its cgroup.
type autolowat struct {
	coll *ebpf.Collection
}

func loadAutolowat(set features.Set) (*autolowat, error) {
	op, _ := set.Get(features.RcvqOp)
	flag, _ := set.Get(features.RcvqFlag)
	spec, err := progs.LoadAutolowat()
	if err != nil {
		return nil, fmt.Errorf("autolowat: %w", err)
	}
	if err := spec.Variables["rcvq_op"].Set(uint32(op.Number)); err != nil {
		return nil, fmt.Errorf("autolowat: set rcvq_op: %w", err)
	}
	if err := spec.Variables["rcvq_flag"].Set(uint32(flag.Number)); err != nil {
		return nil, fmt.Errorf("autolowat: set rcvq_flag: %w", err)
	}
	coll, err := ebpf.NewCollection(spec)
	if err != nil {
		return nil, fmt.Errorf("autolowat: load: %w", verifierDetail(err))
	}
	return &autolowat{coll: coll}, nil
}

// Attach attaches the programs to a cgroup; closing the result detaches.
func (a *autolowat) Attach(cgroup string) (*attachment, error) {
	at := &attachment{}
	for _, p := range []struct {
		name string
		typ  ebpf.AttachType
	}{{"autolowat", ebpf.AttachCGroupSockOps}, {"autolowat_optin", ebpf.AttachCGroupSetsockopt}} {
		l, err := link.AttachCgroup(link.CgroupOptions{Path: cgroup, Attach: p.typ, Program: a.coll.Programs[p.name]})
		if err != nil {
			at.Close()
			return nil, fmt.Errorf("attach %s to %s: %w", p.name, cgroup, err)
		}
		at.links = append(at.links, l)
	}
	return at, nil
}

func (a *autolowat) Close() error {
	a.coll.Close()
	return nil
}

type attachment struct{ links []link.Link }

func (at *attachment) Close() error {
	var result *multierror.Error
	for i := len(at.links) - 1; i >= 0; i-- {
		result = multierror.Append(result, at.links[i].Close())
	}
	return result.ErrorOrNil()
}

const cgroupRoot = "/sys/fs/cgroup"

// enterCgroup makes a fresh cgroup, moves the agent into it (sockets take
// the cgroup of the process that creates them) and returns how to undo it.
func enterCgroup(name string) (string, func() error, error) {
	dir := filepath.Join(cgroupRoot, "harness", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, fmt.Errorf("make cgroup: %w", err)
	}
	pid := []byte(strconv.Itoa(os.Getpid()))
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), pid, 0); err != nil {
		os.Remove(dir)
		return "", nil, fmt.Errorf("enter cgroup %s: %w", dir, err)
	}
	leave := func() error {
		var result *multierror.Error
		result = multierror.Append(result, os.WriteFile(filepath.Join(cgroupRoot, "cgroup.procs"), pid, 0))
		result = multierror.Append(result, os.Remove(dir))
		return result.ErrorOrNil()
	}
	return dir, leave, nil
}
