package ctl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	v3 "github.com/tricolor-net/tricolor/api/v3"
)

// loaded is one resource read from an input, or the reason it could not be.
type loaded struct {
	// Where locates it: "pools.yaml document 3" (plus " item 2" in a list).
	Where    string
	Resource v3.Resource
	Err      error
}

// decodeDocs turns raw documents into resources. A document may hold one
// resource, a List (kind: List or <Kind>List with items) or a sequence.
func decodeDocs(docs []rawDoc) []loaded {
	var out []loaded
	for _, d := range docs {
		out = append(out, decodeDoc(d)...)
	}
	return out
}

func decodeDoc(d rawDoc) []loaded {
	w := where(d.Source, d.Index, 0)
	if d.Err != nil {
		return []loaded{{Where: w, Err: d.Err}}
	}
	if d.JSON == nil {
		return nil
	}
	trimmed := bytes.TrimSpace(d.JSON)
	var items []json.RawMessage
	if len(trimmed) > 0 && trimmed[0] == '[' {
		if err := json.Unmarshal(trimmed, &items); err != nil {
			return []loaded{{Where: w, Err: fmt.Errorf("invalid document: %v", err)}}
		}
	} else {
		var head struct {
			Kind  string            `json:"kind"`
			Items []json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(trimmed, &head); err != nil {
			return []loaded{{Where: w, Err: fmt.Errorf("invalid document: expected a resource (a mapping with apiVersion, kind, metadata, spec): %v", err)}}
		}
		if head.Kind != "List" && !(strings.HasSuffix(head.Kind, "List") && head.Items != nil) {
			r, err := decodeObject(trimmed)
			return []loaded{{Where: w, Resource: r, Err: err}}
		}
		items = head.Items
	}
	out := make([]loaded, 0, len(items))
	for i, raw := range items {
		r, err := decodeObject(raw)
		out = append(out, loaded{Where: where(d.Source, d.Index, i+1), Resource: r, Err: err})
	}
	return out
}

// decodeObject decodes one resource strictly: apiVersion and kind must be
// Calico's, and every field must exist (an unknown field is named by its
// full path, with the valid names at that level).
func decodeObject(raw []byte) (v3.Resource, error) {
	var generic any
	if err := json.Unmarshal(raw, &generic); err != nil {
		return nil, fmt.Errorf("invalid document: %v", err)
	}
	m, ok := generic.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("invalid document: expected a resource (a mapping with apiVersion, kind, metadata, spec), got %T", generic)
	}
	apiVersion, _ := m["apiVersion"].(string)
	kind, _ := m["kind"].(string)
	meta, _ := m["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	namespace, _ := meta["namespace"].(string)
	if kind == "" {
		return nil, fmt.Errorf("kind is required; set kind to one of: %s", kindList())
	}
	info, err := v3.LookupKind(kind)
	switch {
	case err != nil:
		return nil, fmt.Errorf("kind %q is not a %s kind; use one of: %s", kind, v3.GroupVersionCurrent, kindList())
	case info.Kind != kind:
		return nil, fmt.Errorf("kind %q is not a %s kind; did you mean %q?", kind, v3.GroupVersionCurrent, info.Kind)
	}
	ref := v3.ResourceRef(info.Kind, namespace, name)
	switch apiVersion {
	case v3.GroupVersionCurrent:
	case "":
		return nil, fmt.Errorf("%s: apiVersion is required; set apiVersion: %s", ref, v3.GroupVersionCurrent)
	default:
		return nil, fmt.Errorf("%s: apiVersion %q is not supported; set apiVersion: %s", ref, apiVersion, v3.GroupVersionCurrent)
	}
	res := info.New()
	if probs := unknownFields(reflect.TypeOf(res), m, ""); len(probs) > 0 {
		return nil, fmt.Errorf("%s: %s", ref, strings.Join(probs, "; "))
	}
	if err := json.Unmarshal(raw, res); err != nil {
		return nil, fmt.Errorf("%s: %v", ref, describeJSONError(err))
	}
	return res, nil
}

// describeJSONError turns encoding/json type errors into "field: problem".
func describeJSONError(err error) string {
	var te *json.UnmarshalTypeError
	if ok := asTypeError(err, &te); ok && te.Field != "" {
		return fmt.Sprintf("%s: a %s cannot hold a JSON %s; fix the value's type", te.Field, te.Type, te.Value)
	}
	return err.Error()
}

func asTypeError(err error, target **json.UnmarshalTypeError) bool {
	te, ok := err.(*json.UnmarshalTypeError)
	if ok {
		*target = te
	}
	return ok
}

// kindList names every registered kind for error messages.
func kindList() string {
	var names []string
	for _, k := range v3.Kinds() {
		names = append(names, k.Kind)
	}
	return strings.Join(names, ", ")
}

var jsonUnmarshaler = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()

// unknownFields walks a decoded JSON value alongside the Go type it will be
// decoded into and reports every key the type has no field for, by path
// ("spec.ingress[0].protocoll"). Types with their own UnmarshalJSON are
// trusted to check themselves. Matching is case-sensitive, as Kubernetes'
// strict decoding is.
func unknownFields(t reflect.Type, v any, path string) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(jsonUnmarshaler) || t.Implements(jsonUnmarshaler) {
		return nil
	}
	var probs []string
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return nil // a type mismatch; json.Unmarshal reports it
		}
		fields := jsonFields(t)
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ft, ok := fields[k]
			if !ok {
				probs = append(probs, unknownFieldMessage(join(path, k), k, fields))
				continue
			}
			probs = append(probs, unknownFields(ft, m[k], join(path, k))...)
		}
	case reflect.Slice, reflect.Array:
		arr, ok := v.([]any)
		if !ok {
			return nil
		}
		for i, e := range arr {
			probs = append(probs, unknownFields(t.Elem(), e, fmt.Sprintf("%s[%d]", path, i))...)
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		for k, e := range m {
			probs = append(probs, unknownFields(t.Elem(), e, join(path, k))...)
		}
	}
	return probs
}

func unknownFieldMessage(path, key string, fields map[string]reflect.Type) string {
	names := make([]string, 0, len(fields))
	hint := ""
	for n := range fields {
		names = append(names, n)
		if strings.EqualFold(n, key) {
			hint = fmt.Sprintf(" (did you mean %q?)", n)
		}
	}
	sort.Strings(names)
	return fmt.Sprintf("unknown field %q%s; valid fields there are: %s", path, hint, strings.Join(names, ", "))
}

// jsonFields maps JSON names to field types, flattening inline and embedded
// structs as encoding/json does.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" && opts == "" {
			continue
		}
		if f.Anonymous && (name == "" || strings.Contains(opts, "inline")) {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range jsonFields(ft) {
					out[k] = v
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
