package vmlinux

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/cilium/ebpf/btf"
)

// kfuncTag is the BTF decl tag pahole 1.26 and newer put on every kfunc;
// bpftool 7.4 and newer write prototypes for the functions that carry it.
const kfuncTag = "bpf_kfunc"

// Kfuncs is the kfunc prototypes written into a vmlinux.h.
type Kfuncs struct {
	// From says how the kfuncs were told apart: by their decl tags, or,
	// in a BTF without them (pahole older than 1.26, Debian 12's 1.24),
	// as the bpf_* functions that are not helpers.
	From  string
	Names []string
	// C is the declarations, one a line, each extern, __ksym and __weak
	// as bpftool writes them, so that an object stays loadable on a
	// kernel without the function.
	C string
}

// Prototypes declares the kernel's kfuncs from its BTF, leaving out the
// names in skip (declared by a header of the program's in a way that
// does not agree). The prototypes have no parameter names: a name of a
// kernel's could be a macro or a type of the program's.
func Prototypes(spec *btf.Spec, skip map[string]bool) (Kfuncs, error) {
	return prototypes(spec, skip, nil)
}

// PrototypesOf declares exactly the functions named in only that the
// kernel's BTF has (a helper excepted): the kfuncs a build found called
// and undeclared, when there are no decl tags to tell kfuncs by.
func PrototypesOf(spec *btf.Spec, only map[string]bool) (Kfuncs, error) {
	k, err := prototypes(spec, nil, only)
	k.From = "the kfuncs the programs call (the kernel's BTF has no " + kfuncTag + " decl tags: pahole older than 1.26)"
	return k, err
}

func prototypes(spec *btf.Spec, skip, only map[string]bool) (Kfuncs, error) {
	tagged := map[*btf.Func]bool{}
	taken := map[string]bool{} // identifiers a function must not take
	var funcs []*btf.Func
	for typ, err := range spec.All() {
		if err != nil {
			return Kfuncs{}, fmt.Errorf("read BTF: %w", err)
		}
		switch t := typ.(type) {
		case *btf.Func:
			funcs = append(funcs, t)
			if slices.Contains(t.Tags, kfuncTag) {
				tagged[t] = true
			}
		case *btf.Typedef:
			taken[t.Name] = true
		case *btf.Enum:
			for _, v := range t.Values {
				taken[v.Name] = true
			}
		}
	}
	helpers := helperNames(spec)
	k := Kfuncs{From: "BTF decl tags " + kfuncTag}
	if len(tagged) == 0 {
		k.From = "bpf_* functions that are not helpers (the kernel's BTF has no " + kfuncTag + " decl tags: pahole older than 1.26)"
	}
	seen := map[string]bool{}
	var lines []string
	for _, fn := range funcs {
		name := fn.Name
		switch {
		case seen[name] || skip[name] || taken[name] || helpers[name]:
			continue
		case only != nil:
			if !only[name] {
				continue
			}
		case len(tagged) > 0 && !tagged[fn]:
			continue
		case len(tagged) == 0 && !strings.HasPrefix(name, "bpf_"):
			// pahole marks a kernel's functions static whether they are
			// or not, so the linkage tells nothing.
			continue
		}
		proto, ok := fn.Type.(*btf.FuncProto)
		if !ok {
			continue
		}
		c, ok := declare(proto, name)
		if !ok {
			continue // a type C cannot name here (an anonymous struct)
		}
		seen[name] = true
		k.Names = append(k.Names, name)
		lines = append(lines, "extern "+c+" __attribute__((section(\".ksyms\"))) __attribute__((weak));")
	}
	sort.Strings(k.Names)
	sort.Strings(lines)
	k.C = strings.Join(lines, "\n")
	return k, nil
}

// helperNames are the BPF helpers (enum bpf_func_id: BPF_FUNC_x is
// bpf_x). libbpf declares them as pointers of its own; a kfunc prototype
// of the same name would clash.
func helperNames(spec *btf.Spec) map[string]bool {
	out := map[string]bool{}
	var ids *btf.Enum
	if spec.TypeByName("bpf_func_id", &ids) != nil {
		return out
	}
	for _, v := range ids.Values {
		if n, ok := strings.CutPrefix(v.Name, "BPF_FUNC_"); ok {
			out["bpf_"+n] = true
		}
	}
	return out
}

// declare writes the C declaration of t around inner, the declarator
// built so far (a name, "*name", "(*)(int)"...), as a C compiler reads
// it back. ok is false for a type that has no name C can use here.
func declare(t btf.Type, inner string) (string, bool) {
	join := func(base string) (string, bool) {
		if inner == "" {
			return base, true
		}
		return base + " " + inner, true
	}
	switch t := t.(type) {
	case nil, *btf.Void:
		return join("void")
	case *btf.Int:
		return join(t.Name)
	case *btf.Float:
		return join(t.Name)
	case *btf.Typedef:
		return join(t.Name)
	case *btf.Struct:
		return named("struct", t.Name, join)
	case *btf.Union:
		return named("union", t.Name, join)
	case *btf.Enum:
		return named("enum", t.Name, join)
	case *btf.Fwd:
		kind := "struct"
		if t.Kind == btf.FwdUnion {
			kind = "union"
		}
		return named(kind, t.Name, join)
	case *btf.Pointer:
		switch under(t.Target).(type) {
		case *btf.FuncProto, *btf.Array:
			return declare(t.Target, "(*"+inner+")")
		}
		return declare(t.Target, "*"+inner)
	case *btf.Const:
		return qualify("const", t.Type, inner)
	case *btf.Volatile:
		return qualify("volatile", t.Type, inner)
	case *btf.Restrict:
		return qualify("restrict", t.Type, inner)
	case *btf.TypeTag:
		return declare(t.Type, inner)
	case *btf.Array:
		return declare(t.Type, fmt.Sprintf("%s[%d]", inner, t.Nelems))
	case *btf.FuncProto:
		var params []string
		for i, p := range t.Params {
			if _, void := p.Type.(*btf.Void); (void || p.Type == nil) && i == len(t.Params)-1 && i > 0 {
				params = append(params, "...")
				continue
			}
			c, ok := declare(p.Type, "")
			if !ok {
				return "", false
			}
			params = append(params, c)
		}
		if len(params) == 0 {
			params = []string{"void"}
		}
		return declare(t.Return, inner+"("+strings.Join(params, ", ")+")")
	}
	return "", false
}

func named(kind, name string, join func(string) (string, bool)) (string, bool) {
	if name == "" {
		return "", false
	}
	return join(kind + " " + name)
}

// qualify puts a qualifier where C wants it: after the * of a pointer it
// qualifies, before any other type.
func qualify(q string, t btf.Type, inner string) (string, bool) {
	if _, ptr := under(t).(*btf.Pointer); ptr {
		if inner != "" {
			q += " " + inner
		}
		return declare(t, q)
	}
	c, ok := declare(t, inner)
	return q + " " + c, ok
}

// under skips qualifiers and type tags, not typedefs: a typedef is a name.
func under(t btf.Type) btf.Type {
	for {
		switch q := t.(type) {
		case *btf.Const:
			t = q.Type
		case *btf.Volatile:
			t = q.Type
		case *btf.Restrict:
			t = q.Type
		case *btf.TypeTag:
			t = q.Type
		default:
			return t
		}
	}
}
