package guest

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/hashicorp/go-multierror"

	"github.com/kernel-harness/harness/harness/features"
	"github.com/kernel-harness/harness/harness/userbpf"
	"github.com/kernel-harness/harness/harness/wire"
	"github.com/kernel-harness/harness/selftests/progs"
)

// autolowat is the autolowat programs, ours or the user's, loaded once per
// boot with the op and flag values the kernel's BTF gave, attached per
// case to its cgroup.
type autolowat struct {
	coll    *ebpf.Collection
	attach  []cgroupProg
	object  string // the user's object; empty for ours
	summary string // what was loaded, for the report
}

type cgroupProg struct {
	name string
	typ  ebpf.AttachType
}

// loadAutolowat loads the user's object when the host sent one (under
// files), else ours.
func loadAutolowat(files string, set features.Set) (*autolowat, error) {
	if p := filepath.Join(files, wire.BPFObjectPath); fileExists(p) {
		return loadObject(p, set)
	}
	spec, err := progs.LoadAutolowat()
	if err != nil {
		return nil, fmt.Errorf("autolowat: %w", err)
	}
	a := &autolowat{attach: []cgroupProg{{"autolowat", ebpf.AttachCGroupSockOps}, {"autolowat_optin", ebpf.AttachCGroupSetsockopt}}}
	return a, a.load(spec, set)
}

// loadObject loads the user's object and attaches every program in it by
// its section, as libbpf would.
func loadObject(path string, set features.Set) (*autolowat, error) {
	spec, err := ebpf.LoadCollectionSpec(path)
	if err != nil {
		return nil, fmt.Errorf("BPF object: %w", err)
	}
	a := &autolowat{object: path}
	var names []string
	for name, p := range spec.Programs {
		if !userbpf.Attachable(p) {
			return nil, fmt.Errorf("BPF object: program %s (section %q) does not attach to a cgroup", name, p.SectionName)
		}
		a.attach = append(a.attach, cgroupProg{name, p.AttachType})
		names = append(names, fmt.Sprintf("%s (%s)", name, p.SectionName))
	}
	sort.Slice(a.attach, func(i, j int) bool { return a.attach[i].name < a.attach[j].name })
	sort.Strings(names)
	a.summary = strings.Join(names, ", ")
	return a, a.load(spec, set)
}

// load sets the op and flag values where the object asks for them (ours
// does, since 6.12's uapi headers lack them), then loads it.
func (a *autolowat) load(spec *ebpf.CollectionSpec, set features.Set) error {
	op, _ := set.Get(features.RcvqOp)
	flag, _ := set.Get(features.RcvqFlag)
	for name, v := range map[string]uint32{"rcvq_op": uint32(op.Number), "rcvq_flag": uint32(flag.Number)} {
		if spec.Variables[name] == nil {
			continue
		}
		if err := spec.Variables[name].Set(v); err != nil {
			return fmt.Errorf("autolowat: set %s: %w", name, err)
		}
	}
	coll, err := ebpf.NewCollection(spec)
	if err != nil {
		return fmt.Errorf("autolowat: load: %w", verifierDetail(err))
	}
	a.coll = coll
	if a.summary == "" {
		a.summary = "the harness's autolowat programs"
	}
	return nil
}

// Attach attaches the programs to a cgroup; closing the result detaches.
func (a *autolowat) Attach(cgroup string) (*attachment, error) {
	at := &attachment{}
	for _, p := range a.attach {
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
	if a.coll != nil {
		a.coll.Close()
	}
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
