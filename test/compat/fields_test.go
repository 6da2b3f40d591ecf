package compat

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	calicov3 "github.com/projectcalico/api/pkg/apis/projectcalico/v3"
	v3 "github.com/tricolor-net/tricolor/api/v3"
)

// jsonField is one field as encoding/json sees it.
type jsonField struct {
	omitempty bool
	typ       reflect.Type
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// newerCalicoFields are fields that newer Calico releases have and the
// pinned projectcalico/api module lacks. Tricolor carries them (as pointers
// with omitempty, so a document without them encodes exactly as Calico's
// types encode it) because IPAM reads and writes them. Each entry is the
// field's path as compareTypes reports it and where Calico added it. Only
// "not in Calico" is excused for these paths; every other check still
// applies, and TestCompat_NewerCalicoFieldsStillNeeded fails once the pinned
// module has the field (so the entry must then be removed).
var newerCalicoFields = map[string]string{
	"IPAMConfiguration.spec.autoAllocateBlocks": "projectcalico/calico api/pkg/apis/projectcalico/v3/ipamconfig.go (autoAllocateBlocks)",
	"IPAMConfiguration.spec.ipCooldownSeconds":  "projectcalico/calico#12638 (IP cooldown: IPCooldownSeconds)",
}

// fieldsOf flattens a struct type's JSON fields, following embedded
// structs the way encoding/json does.
func fieldsOf(t reflect.Type) map[string]jsonField {
	out := map[string]jsonField{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range fieldsOf(ft) {
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
		out[name] = jsonField{omitempty: strings.Contains(opts, "omitempty"), typ: f.Type}
	}
	return out
}

// shape classifies a type by how it encodes.
func shape(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return "custom"
	}
	switch t.Kind() {
	case reflect.Struct:
		return "object"
	case reflect.Slice, reflect.Array:
		return "list"
	case reflect.Map:
		return "map"
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "bool"
	case reflect.Float32, reflect.Float64:
		return "number"
	default:
		return "integer"
	}
}

// compareTypes walks ours and theirs in step and reports every difference
// in JSON names, omitempty, pointer-ness and shape.
func compareTypes(path string, ours, theirs reflect.Type, seen map[[2]reflect.Type]bool, diffs *[]string) {
	if seen[[2]reflect.Type{ours, theirs}] {
		return
	}
	seen[[2]reflect.Type{ours, theirs}] = true
	if (ours.Kind() == reflect.Pointer) != (theirs.Kind() == reflect.Pointer) {
		*diffs = append(*diffs, fmt.Sprintf("%s: pointer-ness differs (ours %s, Calico %s)", path, ours, theirs))
	}
	for ours.Kind() == reflect.Pointer {
		ours = ours.Elem()
	}
	for theirs.Kind() == reflect.Pointer {
		theirs = theirs.Elem()
	}
	so, st := shape(ours), shape(theirs)
	if so != st {
		*diffs = append(*diffs, fmt.Sprintf("%s: encodes as %s in ours, %s in Calico", path, so, st))
		return
	}
	switch so {
	case "object":
		fo, ft := fieldsOf(ours), fieldsOf(theirs)
		names := map[string]bool{}
		for k := range fo {
			names[k] = true
		}
		for k := range ft {
			names[k] = true
		}
		keys := make([]string, 0, len(names))
		for k := range names {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			a, inOurs := fo[k]
			b, inTheirs := ft[k]
			switch {
			case !inOurs:
				*diffs = append(*diffs, fmt.Sprintf("%s.%s: missing in ours", path, k))
			case !inTheirs && newerCalicoFields[path+"."+k] != "":
				// Allowed: a field of a newer Calico (see newerCalicoFields).
				// It must still be optional so older documents round-trip.
				if !a.omitempty || a.typ.Kind() != reflect.Pointer {
					*diffs = append(*diffs, fmt.Sprintf("%s.%s: a newer-Calico field must be a pointer with omitempty", path, k))
				}
			case !inTheirs:
				*diffs = append(*diffs, fmt.Sprintf("%s.%s: not in Calico", path, k))
			default:
				if a.omitempty != b.omitempty {
					*diffs = append(*diffs, fmt.Sprintf("%s.%s: omitempty %v in ours, %v in Calico", path, k, a.omitempty, b.omitempty))
				}
				compareTypes(path+"."+k, a.typ, b.typ, seen, diffs)
			}
		}
	case "list", "map":
		compareTypes(path+"[]", ours.Elem(), theirs.Elem(), seen, diffs)
	}
}

func TestCompat_FieldsMatchCalico(t *testing.T) {
	s := calicoScheme(t)
	for _, k := range calicoKinds(s) {
		if notYetImplemented[k] {
			continue
		}
		t.Run(k, func(t *testing.T) {
			theirs, err := s.New(calicov3.SchemeGroupVersion.WithKind(k))
			if err != nil {
				t.Fatal(err)
			}
			ours, err := v3.NewResource(k)
			if err != nil {
				t.Fatal(err)
			}
			var diffs []string
			compareTypes(k, reflect.TypeOf(ours), reflect.TypeOf(theirs), map[[2]reflect.Type]bool{}, &diffs)
			for _, d := range diffs {
				t.Error(d)
			}
		})
	}
}

// TestCompat_NewerCalicoFieldsStillNeeded keeps newerCalicoFields honest:
// every entry must name a field Tricolor has and the pinned Calico lacks.
func TestCompat_NewerCalicoFieldsStillNeeded(t *testing.T) {
	s := calicoScheme(t)
	for path := range newerCalicoFields {
		parts := strings.Split(path, ".")
		kind := parts[0]
		theirs, err := s.New(calicov3.SchemeGroupVersion.WithKind(kind))
		if err != nil {
			t.Errorf("%s: Calico has no kind %s: %v", path, kind, err)
			continue
		}
		ours, err := v3.NewResource(kind)
		if err != nil {
			t.Errorf("%s: Tricolor has no kind %s: %v", path, kind, err)
			continue
		}
		to, tt := reflect.TypeOf(ours), reflect.TypeOf(theirs)
		for i, name := range parts[1:] {
			last := i == len(parts)-2
			fo, okO := fieldsOf(deref(to))[name]
			ft, okT := fieldsOf(deref(tt))[name]
			switch {
			case !okO:
				t.Errorf("%s: Tricolor has no field %q; remove the entry", path, name)
			case last && okT:
				t.Errorf("%s: the pinned Calico API has this field now; remove it from newerCalicoFields", path)
			case !last && !okT:
				t.Errorf("%s: Calico has no field %q on the way to the entry", path, name)
			}
			if !okO || !okT {
				break
			}
			to, tt = fo.typ, ft.typ
		}
	}
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}
