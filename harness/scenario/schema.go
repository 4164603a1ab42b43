package scenario

import (
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/invopop/jsonschema"
	orderedmap "github.com/pb33f/ordered-map/v2"
)

// SchemaID is where the published schema of scenario files lives in the
// repository (docs/scenarios.schema.json).
const SchemaID = "https://github.com/kernel-harness/harness/blob/main/docs/scenarios.schema.json"

// JSONSchema is the JSON Schema of a --scenarios file, made from the Go
// types so that editors complete and check what LoadFile reads; with
// srcDir, this package's source folder, the fields' Go comments describe
// them. It says what a field takes; LoadFile checks the rest (sizes, what
// the steps add up to).
func JSONSchema(srcDir string) ([]byte, error) {
	r := &jsonschema.Reflector{
		ExpandedStruct:             true,
		DoNotReference:             true,
		RequiredFromJSONSchemaTags: true, // required: as set below
		Mapper: func(t reflect.Type) *jsonschema.Schema {
			if t == reflect.TypeFor[Step]() {
				return stepSchema()
			}
			return nil
		},
	}
	if srcDir != "" {
		if err := r.AddGoComments("github.com/kernel-harness/harness/harness/scenario", srcDir); err != nil {
			return nil, fmt.Errorf("scenario schema: %w", err)
		}
	}
	s := r.Reflect(&File{})
	s.ID = SchemaID
	s.Title = "harness scenario file (harness run --scenarios FILE)"
	s.Required = []string{"scenarios"}
	sc := s.Properties.Value("scenarios").Items
	sc.Required = []string{"name", "path", "frames"}
	prop := func(o *jsonschema.Schema, name string) *jsonschema.Schema {
		p := o.Properties.Value(name)
		if p == nil {
			panic("scenario schema: no field " + name) // a renamed field: caught by the schema test
		}
		return p
	}
	prop(sc, "name").MinLength = ptr(uint64(1))
	prop(sc, "path").Enum = []any{PathInOrder, PathOFO, PathFastOpen}
	prop(sc, "fastopen").Enum = []any{"cookie", "no-cookie"}
	prop(sc, "mtu").Minimum, prop(sc, "mtu").Maximum = "1280", "65536"
	frame := prop(sc, "frames").Items
	frame.Required = []string{"header", "payload"}
	prop(frame, "header").Minimum, prop(frame, "payload").Minimum = "0", "0"
	prop(sc, "sends").Items.Minimum = "1"
	seg := prop(sc, "segments").Items
	seg.Required = []string{"offset", "len"}
	prop(seg, "offset").Minimum, prop(seg, "len").Minimum = "0", "1"
	prop(sc, "close").Enum = []any{CloseFIN, CloseRST}
	prop(sc, "rcvbuf").Minimum, prop(sc, "rcvbuf").Maximum = json.Number(fmt.Sprint(MinRcvBuf)), json.Number(fmt.Sprint(MaxRcvBuf))
	rmem := prop(sc, "rmem")
	rmem.MinItems, rmem.MaxItems, rmem.Items.Minimum = ptr(uint64(3)), ptr(uint64(3)), "1"
	rd := prop(sc, "reader")
	prop(rd, "call").Enum = []any{CallRecv, CallRead, CallSplice}
	prop(rd, "max").Minimum = "0"
	prop(prop(sc, "app_rcvlowat"), "value").Minimum = "1"
	prop(sc, "optin_after").Minimum = "1"
	prop(sc, "optout_after").Minimum = "1"
	prop(sc, "connections").Minimum, prop(sc, "connections").Maximum = "1", json.Number(fmt.Sprint(MaxConnections))
	desc := prop(frame, "desc")
	desc.MinItems, desc.MaxItems = ptr(uint64(2)), ptr(uint64(2))
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// stepSchema is a step as written: an object with exactly one key.
func stepSchema() *jsonschema.Schema {
	one := func(key, desc string, v *jsonschema.Schema) *jsonschema.Schema {
		props := orderedmap.New[string, *jsonschema.Schema]()
		v.Description = desc
		props.Set(key, v)
		return &jsonschema.Schema{Type: "object", Properties: props, Required: []string{key}, AdditionalProperties: jsonschema.FalseSchema}
	}
	whole := func(min string) *jsonschema.Schema {
		return &jsonschema.Schema{Type: "integer", Minimum: json.Number(min)}
	}
	segProps := orderedmap.New[string, *jsonschema.Schema]()
	segProps.Set("offset", whole("0"))
	segProps.Set("len", whole("1"))
	segProps.Set("syn_data", &jsonschema.Schema{Type: "boolean"})
	seg := &jsonschema.Schema{Type: "object", Properties: segProps, Required: []string{"offset", "len"}, AdditionalProperties: jsonschema.FalseSchema}
	return &jsonschema.Schema{
		Description: "one action of a scripted scenario: an object with exactly one key (docs/scenarios.md)",
		OneOf: []*jsonschema.Schema{
			one(StepSend, "loopback: write the next N bytes of the stream", whole("1")),
			one(StepSegment, "the TCP peer sends this byte range of the stream", seg),
			one(StepRecv, "read exactly N bytes", whole("1")),
			one(StepPoll, "epoll_wait with timeout 0 returns N (0 or 1)", &jsonschema.Schema{Type: "integer", Enum: []any{0, 1}}),
			one(StepRcvlowat, "getsockopt SO_RCVLOWAT returns N", whole("1")),
			one(StepAutolowat, "turn on the per-socket autolowat opt-in", &jsonschema.Schema{Const: true}),
		},
	}
}

func ptr[T any](v T) *T { return &v }
