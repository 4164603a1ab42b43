package scenario

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"

	"github.com/kernel-harness/harness/harness/input"
)

// File is the layout of a --scenarios file, in JSON or YAML.
type File struct {
	// Scenarios run beside the built-in ones (docs/scenarios.md).
	Scenarios []Scenario `json:"scenarios"`
}

// LoadFile reads scenarios from a JSON or YAML file and checks each one,
// so that a mistake is reported with the file, its line and column, the
// scenario and the reason before any VM boots. taken holds names already
// in use. JSON is YAML: one parser, which keeps positions, reads both.
func LoadFile(path string, taken map[string]bool) ([]Scenario, error) {
	raw, err := input.ReadFile(path, input.TextLimit)
	if err != nil {
		return nil, fmt.Errorf("scenarios: %w", err)
	}
	// A byte order mark is no part of the document.
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, fmt.Errorf("%s: the file is empty (want {\"scenarios\": [...]}, docs/scenarios.md)", path)
	}
	// The parser's memory grows fast with nesting (100 KB of brackets took
	// gigabytes): a scenario file nests a few levels, so deep is refused
	// before it is parsed.
	if line, depth := nesting(raw); depth > MaxNesting {
		return nil, fmt.Errorf("%s:%d: nested %d levels deep: a scenario file needs a few, at most %d", path, line, depth, MaxNesting)
	}
	if yamlFile(path, raw) {
		if line := secondDocument(raw); line > 0 {
			return nil, fmt.Errorf("%s:%d:1: a second YAML document: one document per file", path, line)
		}
	} else if err := oneJSONValue(path, raw); err != nil {
		return nil, err
	}
	ast, err := parser.ParseBytes(raw, 0)
	if err != nil {
		return nil, positioned(path, nil, err)
	}
	if len(ast.Docs) != 1 || ast.Docs[0].Body == nil {
		return nil, fmt.Errorf("%s: no scenarios (want {\"scenarios\": [...]})", path)
	}
	body := ast.Docs[0].Body
	if err := checkValues(body); err != nil {
		return nil, positioned(path, body, err)
	}
	var f File
	// Steps keep their JSON decoding (a one-key object each).
	if err := yaml.NodeToValue(body, &f, yaml.DisallowUnknownField(), yaml.UseJSONUnmarshaler()); err != nil {
		return nil, positioned(path, body, err)
	}
	if len(f.Scenarios) == 0 {
		return nil, fmt.Errorf("%s: no scenarios (want {\"scenarios\": [...]})", path)
	}
	nodes := scenarioNodes(body)
	at := func(i int) string {
		if i < len(nodes) {
			return at(path, nodes[i].pos)
		}
		return path
	}
	var errs []error
	for i, s := range f.Scenarios {
		if err := s.Validate(); err != nil {
			errs = append(errs, located(path, nodes, i, s.Name, err)...)
			continue
		}
		if taken[s.Name] {
			errs = append(errs, fmt.Errorf("%s: scenario %d: name %q is already taken", at(i), i+1, s.Name))
		}
		taken[s.Name] = true
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return f.Scenarios, nil
}

func at(path string, p token.Position) string {
	return fmt.Sprintf("%s:%d:%d", path, p.Line, p.Column)
}

// located splits what Validate found wrong with scenario i into one error
// a mistake, each at its step when it names one, else at the scenario.
func located(path string, nodes []scenarioNode, i int, name string, err error) []error {
	list := []error{err}
	if j, ok := errors.Unwrap(err).(interface{ Unwrap() []error }); ok {
		list = j.Unwrap() // Validate's errors.Join, under "scenario NAME"
	} else {
		return []error{fmt.Errorf("%s: scenario %d: %w", path, i+1, err)}
	}
	var out []error
	for _, e := range list {
		where := path
		if i < len(nodes) {
			where = at(path, nodes[i].pos)
			var se *StepError
			if errors.As(e, &se) && se.Step-1 < len(nodes[i].steps) {
				where = at(path, nodes[i].steps[se.Step-1])
			}
		}
		out = append(out, fmt.Errorf("%s: scenario %d: scenario %q: %w", where, i+1, name, e))
	}
	return out
}

// oneJSONValue refuses a JSON file with more after its value: the YAML
// parser would call it a syntax error, this says what it is.
func oneJSONValue(path string, raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	var v json.RawMessage
	if err := dec.Decode(&v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := lineCol(raw, int(se.Offset)-1) // Offset is just past the bad byte
			return fmt.Errorf("%s:%d:%d: %w", path, line, col, err)
		}
		return fmt.Errorf("%s: %w", path, err)
	}
	end := int(dec.InputOffset())
	if len(bytes.TrimSpace(raw[end:])) > 0 {
		off := end + len(raw[end:]) - len(bytes.TrimLeft(raw[end:], " \t\r\n"))
		line, col := lineCol(raw, off)
		return fmt.Errorf("%s:%d:%d: more after the scenarios (at byte %d): one JSON or YAML document per file", path, line, col, off)
	}
	return nil
}

// lineCol is the 1-based line and column (in bytes) of offset in raw.
func lineCol(raw []byte, off int) (line, col int) {
	off = min(max(off, 0), len(raw))
	before := raw[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	return line, off - bytes.LastIndexByte(before, '\n')
}

// scenarioNode is where a scenario of the file starts, and its name as
// written, for messages.
type scenarioNode struct {
	node  ast.Node
	pos   token.Position
	name  string
	steps []token.Position
}

// scenarioNodes are the entries of the file's scenarios list.
func scenarioNodes(body ast.Node) []scenarioNode {
	m, ok := body.(*ast.MappingNode)
	if !ok {
		return nil
	}
	var list *ast.SequenceNode
	for _, kv := range m.Values {
		if kv.Key.GetToken().Value == "scenarios" {
			list, _ = kv.Value.(*ast.SequenceNode)
		}
	}
	if list == nil {
		return nil
	}
	var out []scenarioNode
	for _, n := range list.Values {
		sn := scenarioNode{node: n, pos: start(n)}
		if mm, ok := n.(*ast.MappingNode); ok {
			for _, kv := range mm.Values {
				switch kv.Key.GetToken().Value {
				case "name":
					sn.name = kv.Value.GetToken().Value
				case "steps":
					if seq, ok := kv.Value.(*ast.SequenceNode); ok {
						for _, st := range seq.Values {
							sn.steps = append(sn.steps, start(st))
						}
					}
				}
			}
		}
		out = append(out, sn)
	}
	return out
}

// start is where a node begins as written: a block mapping at its first
// key, not at the first value's colon; a flow mapping at its brace.
func start(n ast.Node) token.Position {
	if m, ok := n.(*ast.MappingNode); ok && !m.IsFlowStyle && len(m.Values) > 0 {
		return *m.Values[0].Key.GetToken().Position
	}
	if kv, ok := n.(*ast.MappingValueNode); ok {
		return *kv.Key.GetToken().Position
	}
	return *n.GetToken().Position
}

// checkValues refuses a number with a fraction or an exponent: no field of
// a scenario file takes one, and the decoder would truncate it to an int.
// It refuses YAML aliases too: each would be expanded in full, and nested
// ones grow a small file into more than memory holds.
func checkValues(body ast.Node) error {
	var bad error
	ast.Walk(visitor(func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FloatNode:
			bad = &posError{tok: n.GetToken(), msg: fmt.Sprintf("want a whole number, got %s", n.GetToken().Value)}
		case *ast.InfinityNode, *ast.NanNode:
			bad = &posError{tok: n.GetToken(), msg: fmt.Sprintf("want a whole number, got %s", n.GetToken().Value)}
		case *ast.AliasNode:
			bad = &posError{tok: n.GetToken(), msg: "YAML aliases (*name) are not taken: write the value out"}
		case *ast.MappingValueNode:
			// YAML would turn name: 0x1F into "31": a name is text as written.
			if k, ok := n.Key.(*ast.StringNode); ok && k.Value == "name" {
				if _, ok := n.Value.(*ast.StringNode); !ok {
					bad = &posError{tok: n.Value.GetToken(), msg: fmt.Sprintf("name: want text, got %s; put it in quotes to keep it as written", n.Value.GetToken().Value)}
				}
			}
		}
		return bad == nil
	}), body)
	return bad
}

type visitor func(ast.Node) bool

func (v visitor) Visit(n ast.Node) ast.Visitor {
	if n == nil || !v(n) {
		return nil
	}
	return v
}

// posError is a refusal of ours at a token of the file.
type posError struct {
	tok *token.Token
	msg string
}

func (e *posError) Error() string { return e.msg }

// positioned names the file, line and column of a parser's or decoder's
// error, and the scenario it lies in when it lies in one.
func positioned(path string, body ast.Node, err error) error {
	var tok *token.Token
	msg := err.Error()
	var ye yaml.Error
	var pe *posError
	switch {
	case errors.As(err, &pe):
		tok, msg = pe.tok, pe.msg
	case errors.As(err, &ye):
		tok, msg = ye.GetToken(), ye.GetMessage()
	}
	if tok == nil || tok.Position == nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	p := tok.Position
	where := fmt.Sprintf("%s:%d:%d", path, p.Line, p.Column)
	for i, sn := range scenarioNodes(body) {
		if contains(sn.node, tok) {
			if sn.name != "" {
				return fmt.Errorf("%s: scenario %d: scenario %q: %s", where, i+1, sn.name, msg)
			}
			return fmt.Errorf("%s: scenario %d: %s", where, i+1, msg)
		}
	}
	return fmt.Errorf("%s: %s", where, msg)
}

// contains says whether tok is one of the tokens of the tree at n.
func contains(n ast.Node, tok *token.Token) bool {
	found := false
	ast.Walk(visitor(func(m ast.Node) bool {
		if t := m.GetToken(); t != nil && t.Position != nil && *t.Position == *tok.Position {
			found = true
		}
		return !found
	}), n)
	return found
}

// secondDocument is the line of a YAML document marker (---) that follows
// content, which starts a second document; 0 when there is none.
func secondDocument(raw []byte) int {
	content := false
	for i, line := range strings.Split(string(raw), "\n") {
		t := strings.TrimRight(line, " \t\r")
		switch {
		case t == "---" || strings.HasPrefix(t, "--- "):
			if content {
				return i + 1
			}
		case strings.TrimSpace(t) != "" && !strings.HasPrefix(strings.TrimSpace(t), "#"):
			content = true
		}
	}
	return 0
}

// MaxNesting bounds how deep a scenario file's values nest.
const MaxNesting = 64

// nesting is how deep raw's flow collections ([ and {) and block
// sequences ("- - -" on one line) nest at their deepest, and the line
// where they first pass MaxNesting: a scan of the bytes, which quoted
// strings and comments do not count in.
func nesting(raw []byte) (line, depth int) {
	d, ln, quote, comment, lineStart, dashes := 0, 1, byte(0), false, true, 0
	for i, c := range raw {
		switch {
		case c == '\n':
			ln, comment, lineStart, dashes = ln+1, false, true, 0
			continue
		case comment:
			continue
		case quote != 0:
			if c == quote && (quote == '\'' || i == 0 || raw[i-1] != '\\') {
				quote = 0
			}
			continue
		}
		switch c {
		case '"', '\'':
			quote = c
		case '#':
			if i == 0 || raw[i-1] == ' ' || raw[i-1] == '\t' || raw[i-1] == '\n' {
				comment = true
			}
		case '[', '{':
			d++
		case ']', '}':
			d--
		case '-':
			if lineStart && (i+1 == len(raw) || raw[i+1] == ' ' || raw[i+1] == '\t') {
				dashes++
			} else {
				lineStart = false
			}
		case ' ', '\t':
		default:
			lineStart = false
		}
		if n := d + dashes; n > depth {
			depth = n
			if depth > MaxNesting && line == 0 {
				line = ln
			}
		}
	}
	return line, depth
}

// yamlFile says whether path holds YAML rather than JSON: by its name
// when it says (.yaml, .yml, .json), else by its first character (JSON
// starts with { or [).
func yamlFile(path string, raw []byte) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		return true
	case ".json":
		return false
	}
	t := bytes.TrimLeft(raw, " \t\r\n")
	return len(t) > 0 && t[0] != '{' && t[0] != '['
}
