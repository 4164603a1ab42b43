package kbuild

import (
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// kconfig is a rough index of a tree's Kconfig files: enough to say why
// an option did not make it into .config, not to evaluate the tree.
// Every file named Kconfig* is read on its own; `source` is not followed,
// so only if/menu/choice blocks of the same file add to an entry's
// dependencies.
type kconfig struct {
	defs      map[string][]*symDef
	selectors map[string][]string // option -> options that select it
	files     int
}

// symDef is one `config NAME` or `menuconfig NAME` entry.
type symDef struct {
	name     string
	file     string
	line     int
	typ      string // bool, tristate, string, int, hex; empty if unsaid
	prompt   bool
	deps     []string // depends on, and the prompt's if
	outer    []string // conditions of the enclosing if, menu and choice blocks
	defaults []dflt
}

// dflt is a default or def_bool line: raw as written, the value and its
// condition.
type dflt struct {
	raw, expr, cond string
}

// arch is the only architecture whose arch/ Kconfig files are read: the
// harness builds arch/x86/boot/bzImage, and other arches define the same
// options differently.
const arch = "x86"

// indexKconfig reads every Kconfig* file under root. Unreadable files are
// skipped: the index only explains, it never decides.
func indexKconfig(root string) *kconfig {
	k := &kconfig{defs: map[string][]*symDef{}, selectors: map[string][]string{}}
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if d != nil && d.IsDir() && path != root {
				return fs.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if path != root && skipDir(rel, d.Name()) {
				return fs.SkipDir
			}
			return nil
		}
		if !strings.HasPrefix(d.Name(), "Kconfig") || !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		k.files++
		k.parse(rel, string(data))
		return nil
	})
	return k
}

func skipDir(rel, name string) bool {
	if strings.HasPrefix(name, ".") {
		return true
	}
	switch rel {
	case "Documentation", "tools", "scripts/kconfig/tests":
		return true
	}
	parts := strings.Split(rel, "/")
	return len(parts) == 2 && parts[0] == "arch" && parts[1] != arch
}

// frame is an open if, menu or choice block and the conditions it puts on
// the entries inside it.
type frame struct {
	kind  string
	conds []string
}

func (k *kconfig) parse(file, text string) {
	lines := strings.Split(text, "\n")
	var (
		stack      []*frame
		cur        *symDef // entry taking attributes
		curFrame   *frame  // menu or choice taking attributes
		help       bool
		helpIndent = -1
	)
	pop := func(kind string) {
		for i := len(stack) - 1; i >= 0; i-- {
			if stack[i].kind == kind {
				stack = stack[:i]
				return
			}
		}
	}
	for i := 0; i < len(lines); i++ {
		raw, lineNo := lines[i], i+1
		if help {
			if strings.TrimSpace(raw) == "" {
				continue
			}
			ind := indent(raw)
			if ind > 0 && helpIndent < 0 {
				helpIndent = ind
			}
			if ind > 0 && ind >= helpIndent {
				continue
			}
			help = false
		}
		for strings.HasSuffix(raw, "\\") && i+1 < len(lines) {
			i++
			raw = strings.TrimSuffix(raw, "\\") + " " + lines[i]
		}
		line := strings.TrimSpace(stripComment(raw))
		if line == "" {
			continue
		}
		kw, rest := line, ""
		if j := strings.IndexAny(line, " \t"); j >= 0 {
			kw, rest = line[:j], strings.TrimSpace(line[j+1:])
		}
		switch kw {
		case "config", "menuconfig":
			name := firstField(rest)
			d := &symDef{name: name, file: file, line: lineNo}
			for _, f := range stack {
				d.outer = append(d.outer, f.conds...)
			}
			k.defs[name] = append(k.defs[name], d)
			cur, curFrame = d, nil
		case "choice", "menu":
			f := &frame{kind: kw}
			stack = append(stack, f)
			cur, curFrame = nil, f
		case "if":
			stack = append(stack, &frame{kind: "if", conds: []string{rest}})
			cur, curFrame = nil, nil
		case "endchoice", "endmenu", "endif":
			pop(strings.TrimPrefix(kw, "end"))
			cur, curFrame = nil, nil
		case "comment", "mainmenu", "source", "rsource", "osource", "orsource":
			cur, curFrame = nil, nil
		case "help", "---help---":
			help, helpIndent = true, -1
		case "depends":
			cond, ok := strings.CutPrefix(rest, "on ")
			if !ok {
				continue
			}
			if cur != nil {
				cur.deps = append(cur.deps, strings.TrimSpace(cond))
			} else if curFrame != nil {
				curFrame.conds = append(curFrame.conds, strings.TrimSpace(cond))
			}
		case "bool", "boolean", "tristate", "string", "int", "hex", "prompt":
			if cur == nil {
				continue
			}
			if kw == "boolean" {
				kw = "bool"
			}
			if kw != "prompt" {
				cur.typ = kw
			}
			// A prompt's own "if" only hides the prompt, but that is
			// what keeps a fragment from setting the option.
			if _, cond, ok := parsePrompt(rest); ok {
				cur.prompt = true
				if cond != "" {
					cur.deps = append(cur.deps, cond)
				}
			}
		case "def_bool", "def_tristate", "default":
			if cur == nil {
				continue
			}
			if kw != "default" {
				cur.typ = strings.TrimPrefix(kw, "def_")
			}
			expr, cond := splitIf(rest)
			cur.defaults = append(cur.defaults, dflt{raw: kw + " " + strings.Join(strings.Fields(rest), " "), expr: expr, cond: cond})
		case "select":
			if cur != nil {
				if s := firstField(rest); s != "" {
					k.selectors[s] = append(k.selectors[s], cur.name)
				}
			}
		}
	}
}

// parsePrompt reads `"text" [if EXPR]`.
func parsePrompt(s string) (prompt, cond string, ok bool) {
	if s == "" || (s[0] != '"' && s[0] != '\'') {
		return "", "", false
	}
	q := s[0]
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case q:
			rest := strings.TrimSpace(s[i+1:])
			if c, ok := strings.CutPrefix(rest, "if "); ok {
				cond = strings.TrimSpace(c)
			}
			return s[1:i], cond, true
		}
	}
	return "", "", false
}

// splitIf splits `EXPR if COND` (the if outside quotes).
func splitIf(s string) (expr, cond string) {
	var q byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case q != 0 && c == '\\':
			i++
		case q != 0 && c == q:
			q = 0
		case q == 0 && (c == '"' || c == '\''):
			q = c
		case q == 0 && strings.HasPrefix(s[i:], " if "):
			return strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+4:])
		}
	}
	return strings.TrimSpace(s), ""
}

// stripComment drops a # comment that is not inside quotes.
func stripComment(s string) string {
	var q byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case q != 0 && c == '\\':
			i++
		case q != 0 && c == q:
			q = 0
		case q == 0 && (c == '"' || c == '\''):
			q = c
		case q == 0 && c == '#':
			return s[:i]
		}
	}
	return s
}

func indent(s string) int {
	n := 0
	for _, c := range s {
		switch c {
		case ' ':
			n++
		case '\t':
			n = (n/8 + 1) * 8
		default:
			return n
		}
	}
	return n
}

func firstField(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return ""
}

// A dependency expression: a symbol or constant, a quoted string, !, &&,
// ||, or a comparison of two atoms.
type node struct {
	op   string // "sym", "str", "!", "&&", "||", "=", "!=", "<", "<=", ">", ">="
	name string
	l, r *node
}

// parseExpr parses a depends-on expression; nil when it cannot (or holds
// a $(...) macro, which only Kconfig itself can evaluate).
func parseExpr(s string) *node {
	if strings.Contains(s, "$(") {
		return nil
	}
	toks, ok := tokenize(s)
	if !ok || len(toks) == 0 {
		return nil
	}
	p := &exprParser{toks: toks}
	n := p.or()
	if n == nil || p.pos != len(toks) {
		return nil
	}
	return n
}

func tokenize(s string) ([]string, bool) {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(' || c == ')':
			toks = append(toks, s[i:i+1])
			i++
		case c == '&' || c == '|':
			if i+1 >= len(s) || s[i+1] != c {
				return nil, false
			}
			toks = append(toks, s[i:i+2])
			i += 2
		case c == '!' || c == '<' || c == '>' || c == '=':
			if i+1 < len(s) && s[i+1] == '=' && c != '=' {
				toks = append(toks, s[i:i+2])
				i += 2
			} else {
				toks = append(toks, s[i:i+1])
				i++
			}
		case c == '"' || c == '\'':
			j := i + 1
			for j < len(s) && s[j] != c {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(s) {
				return nil, false
			}
			toks = append(toks, s[i:j+1])
			i = j + 1
		case isWordByte(c):
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		default:
			return nil, false
		}
	}
	return toks, true
}

func isWordByte(c byte) bool {
	return c == '_' || c == '-' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

type exprParser struct {
	toks []string
	pos  int
}

func (p *exprParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *exprParser) or() *node {
	l := p.and()
	for l != nil && p.peek() == "||" {
		p.pos++
		r := p.and()
		if r == nil {
			return nil
		}
		l = &node{op: "||", l: l, r: r}
	}
	return l
}

func (p *exprParser) and() *node {
	l := p.not()
	for l != nil && p.peek() == "&&" {
		p.pos++
		r := p.not()
		if r == nil {
			return nil
		}
		l = &node{op: "&&", l: l, r: r}
	}
	return l
}

func (p *exprParser) not() *node {
	if p.peek() == "!" {
		p.pos++
		e := p.not()
		if e == nil {
			return nil
		}
		return &node{op: "!", l: e}
	}
	return p.primary()
}

func (p *exprParser) primary() *node {
	if p.peek() == "(" {
		p.pos++
		e := p.or()
		if e == nil || p.peek() != ")" {
			return nil
		}
		p.pos++
		return e
	}
	a := p.atom()
	if a == nil {
		return nil
	}
	switch op := p.peek(); op {
	case "=", "!=", "<", "<=", ">", ">=":
		p.pos++
		b := p.atom()
		if b == nil {
			return nil
		}
		return &node{op: op, l: a, r: b}
	}
	return a
}

func (p *exprParser) atom() *node {
	t := p.peek()
	switch {
	case t == "":
		return nil
	case t[0] == '"' || t[0] == '\'':
		p.pos++
		return &node{op: "str", name: t[1 : len(t)-1]}
	case isWordByte(t[0]):
		p.pos++
		return &node{op: "sym", name: t}
	}
	return nil
}

// values answers for the symbols of an expression from a .config.
type values map[string]string

func isConst(name string) bool {
	switch name {
	case "y", "m", "n":
		return true
	}
	_, err := strconv.ParseInt(name, 0, 64)
	return err == nil
}

// tri is a symbol's tristate value: 0 n, 1 m, 2 y.
func (v values) tri(name string) int {
	val := name
	if !isConst(name) {
		val = v["CONFIG_"+name]
	}
	switch val {
	case "y":
		return 2
	case "m":
		// m means n when modules are off.
		if v["CONFIG_MODULES"] == "y" {
			return 1
		}
	}
	return 0
}

// str is an atom's value as Kconfig compares it.
func (v values) str(n *node) string {
	if n.op == "str" || isConst(n.name) {
		return n.name
	}
	val, ok := v["CONFIG_"+n.name]
	if !ok {
		return "n"
	}
	return strings.Trim(val, `"`)
}

func (v values) eval(n *node) int {
	switch n.op {
	case "sym":
		return v.tri(n.name)
	case "str":
		return 0
	case "!":
		return 2 - v.eval(n.l)
	case "&&":
		return min(v.eval(n.l), v.eval(n.r))
	case "||":
		return max(v.eval(n.l), v.eval(n.r))
	}
	a, b := v.str(n.l), v.str(n.r)
	c := strings.Compare(a, b)
	x, errA := strconv.ParseInt(a, 0, 64)
	y, errB := strconv.ParseInt(b, 0, 64)
	if errA == nil && errB == nil {
		c = cmpInt(x, y)
	} else if n.op != "=" && n.op != "!=" {
		// An order of numbers, one of which is unset (or not a number).
		return 0
	}
	ok := false
	switch n.op {
	case "=":
		ok = c == 0
	case "!=":
		ok = c != 0
	case "<":
		ok = c < 0
	case "<=":
		ok = c <= 0
	case ">":
		ok = c > 0
	case ">=":
		ok = c >= 0
	}
	if ok {
		return 2
	}
	return 0
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// blame names the symbols that keep n from being at least k (atLeast) or
// at most k (!atLeast), e.g. "DEBUG_INFO is not set" or "DEBUG_INFO_SPLIT=y".
func (v values) blame(n *node, atLeast bool, k int) []string {
	val := v.eval(n)
	if atLeast && val >= k || !atLeast && val <= k {
		return nil
	}
	switch n.op {
	case "sym":
		if isConst(n.name) {
			return nil
		}
		return []string{v.describe(n.name)}
	case "str":
		return nil
	case "!":
		return v.blame(n.l, !atLeast, 2-k)
	case "&&", "||":
		// For && every operand too low is to blame, and for || every one
		// too high; otherwise all of them are.
		return append(v.blame(n.l, atLeast, k), v.blame(n.r, atLeast, k)...)
	}
	var out []string
	for _, a := range []*node{n.l, n.r} {
		if a.op == "sym" && !isConst(a.name) {
			out = append(out, v.describe(a.name))
		}
	}
	return out
}

func (v values) describe(name string) string {
	val, ok := v["CONFIG_"+name]
	if !ok || val == "n" {
		return name + " is not set"
	}
	return name + "=" + val
}
