package kbuild

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Vanished is an option a fragment asked for that the final .config does
// not have as asked.
type Vanished struct {
	Option   string // CONFIG_X
	Want     string
	Got      string // n when the .config does not set it
	Fragment string // path of the fragment that asked (the last one, if several did)
	Reason   string // why, when the Kconfig files can tell; else empty
}

// Reasons Check gives that are not about a dependency.
const (
	reasonUndefined   = "not defined in this tree's Kconfig (renamed or removed?)"
	reasonSelectOnly  = "no prompt; only selected by other options"
	reasonDefaultOnly = "no prompt; set only by its default and by options that select it"
)

// Check compares what the fragments asked for with the final .config. A
// later fragment overrides an earlier one, as merge_config.sh does; n is
// satisfied by the option's absence. The Kconfig files under kconfigRoot
// are read only when something vanished, to say why. An unreadable
// .config makes everything that is not n vanish.
func Check(dotconfig string, frags []Fragment, kconfigRoot string) []Vanished {
	vals, err := readDotconfig(dotconfig)
	if err != nil {
		var out []Vanished
		for _, w := range wanted(frags) {
			if w.value != "n" {
				out = append(out, Vanished{Option: w.name, Want: w.value, Got: "n", Fragment: w.frag, Reason: "cannot read " + dotconfig})
			}
		}
		return out
	}
	index := sync.OnceValue(func() *kconfig { return indexKconfig(kconfigRoot) })
	return check(values(vals), frags, index)
}

type want struct {
	name, value, frag string
	order             int
}

// wanted flattens the fragments, the last one asking for an option
// winning, in fragment order then by name.
func wanted(frags []Fragment) []want {
	last := map[string]want{}
	for i, f := range frags {
		for name, value := range f.Items {
			last[name] = want{name: name, value: value, frag: f.Path, order: i}
		}
	}
	out := make([]want, 0, len(last))
	for _, w := range last {
		out = append(out, w)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].order != out[j].order {
			return out[i].order < out[j].order
		}
		return out[i].name < out[j].name
	})
	return out
}

func check(vals values, frags []Fragment, index func() *kconfig) []Vanished {
	var out []Vanished
	for _, w := range wanted(frags) {
		got, ok := vals[w.name]
		if !ok {
			got = "n"
		}
		if sameValue(w.value, got) {
			continue
		}
		out = append(out, Vanished{
			Option:   w.name,
			Want:     w.value,
			Got:      got,
			Fragment: w.frag,
			Reason:   reason(index(), vals, strings.TrimPrefix(w.name, "CONFIG_"), w.value, got),
		})
	}
	return out
}

func sameValue(a, b string) bool {
	if a == b {
		return true
	}
	x, errA := strconv.ParseInt(a, 0, 64)
	y, errB := strconv.ParseInt(b, 0, 64)
	return errA == nil && errB == nil && x == y
}

// reason says why sym came out as got instead of want, or "" when the
// index cannot tell.
func reason(k *kconfig, vals values, sym, want, got string) string {
	if k == nil || k.files == 0 {
		return ""
	}
	defs := k.defs[sym]
	if len(defs) == 0 {
		return reasonUndefined
	}
	var prompted []*symDef
	for _, d := range defs {
		if d.prompt {
			prompted = append(prompted, d)
		}
	}
	switch {
	case want == "n":
		if sel := k.setSelectors(vals, sym); len(sel) > 0 {
			return "selected by " + strings.Join(sel, ", ")
		}
		if len(prompted) == 0 {
			return "no prompt; it cannot be turned off"
		}
		return ""
	case want == "m" && got == "y":
		for _, d := range defs {
			if d.typ == "bool" {
				return "a bool option: it cannot be m"
			}
		}
		if vals["CONFIG_MODULES"] != "y" {
			return "MODULES is not set: nothing can be m"
		}
		return ""
	case got == "n" && len(prompted) == 0:
		d := defs[0]
		if len(d.defaults) == 0 {
			return reasonSelectOnly + k.selectorList(sym)
		}
		if r := dependsReason(vals, d, 1); r != "" {
			return r
		}
		if r := defaultsReason(vals, d); r != "" {
			return r
		}
		return reasonDefaultOnly + k.selectorList(sym)
	case got == "n":
		for _, d := range prompted {
			if dependsReason(vals, d, 1) == "" {
				return "" // visible by this definition: Kconfig must have had another reason
			}
		}
		return dependsReason(vals, prompted[0], 1)
	case want == "y" && got == "m":
		for _, d := range defs {
			if r := dependsReason(vals, d, 2); r != "" {
				return r
			}
		}
	}
	return ""
}

// dependsReason names the dependencies of d below k (1: m, 2: y) and the
// symbols that make them so. The entry's own depends on lines come first;
// a condition of an enclosing block is named only when it blames a symbol
// they do not.
func dependsReason(vals values, d *symDef, k int) string {
	var parts, blames []string
	seen := map[string]bool{}
	for _, dep := range append(append([]string(nil), d.deps...), d.outer...) {
		n := parseExpr(dep)
		if n == nil {
			continue
		}
		fresh := false
		for _, s := range vals.blame(n, true, k) {
			if !seen[s] {
				seen[s], fresh = true, true
				blames = append(blames, s)
			}
		}
		if fresh {
			parts = append(parts, strings.Join(strings.Fields(dep), " "))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	if len(parts) > 1 {
		for i, p := range parts {
			if strings.Contains(p, "||") && !(strings.HasPrefix(p, "(") && strings.HasSuffix(p, ")")) {
				parts[i] = "(" + p + ")"
			}
		}
	}
	return "depends on " + strings.Join(parts, " && ") + ": " + strings.Join(blames, ", ")
}

// defaultsReason explains a promptless bool or tristate whose every
// default is off, e.g. "no prompt; def_bool PAHOLE_VERSION >= 119:
// PAHOLE_VERSION=116".
func defaultsReason(vals values, d *symDef) string {
	if d.typ != "bool" && d.typ != "tristate" {
		return ""
	}
	var raws, blames []string
	seen := map[string]bool{}
	for _, df := range d.defaults {
		n := parseExpr(df.expr)
		if n != nil && df.cond != "" {
			c := parseExpr(df.cond)
			if c == nil {
				return ""
			}
			n = &node{op: "&&", l: n, r: c}
		}
		if n == nil || vals.eval(n) > 0 {
			return "" // a default that may be on: something else is at work
		}
		raws = append(raws, df.raw)
		for _, s := range vals.blame(n, true, 1) {
			if !seen[s] {
				seen[s] = true
				blames = append(blames, s)
			}
		}
	}
	r := "no prompt; " + strings.Join(raws, ", ")
	if len(blames) > 0 {
		r += ": " + strings.Join(blames, ", ")
	}
	return r
}

// setSelectors lists the options selecting sym that the .config has on.
func (k *kconfig) setSelectors(vals values, sym string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range k.selectors[sym] {
		if v := vals["CONFIG_"+s]; (v == "y" || v == "m") && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// selectorList is " (A, B, ...)" naming some options that select sym.
func (k *kconfig) selectorList(sym string) string {
	var names []string
	seen := map[string]bool{}
	for _, s := range k.selectors[sym] {
		if !seen[s] {
			seen[s] = true
			names = append(names, s)
		}
	}
	if len(names) == 0 {
		return ""
	}
	if len(names) > 4 {
		names = append(names[:4], "...")
	}
	return " (" + strings.Join(names, ", ") + ")"
}

// VanishedError is what Configure returns when options did not make it
// into the .config as asked, before anything is built.
type VanishedError struct {
	Options []Vanished
}

func (e *VanishedError) Error() string {
	var b strings.Builder
	n := len(e.Options)
	s := "s"
	if n == 1 {
		s = ""
	}
	fmt.Fprintf(&b, "kernel config: %d option%s did not come out as asked:\n", n, s)
	for _, v := range e.Options {
		fmt.Fprintf(&b, "  %s: want %s, got %s (%s)", v.Option, v.Want, v.Got, v.Fragment)
		if v.Reason != "" {
			b.WriteString(": " + v.Reason)
		}
		b.WriteByte('\n')
	}
	b.WriteString("fix the fragment, or pass --config-item CONFIG_X=y for what an option depends on")
	return b.String()
}
