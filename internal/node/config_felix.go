package node

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v3 "github.com/tricolor-net/tricolor/api/v3"
)

// felixEnvPrefix marks Felix's environment overrides (FELIX_<PARAM>).
const felixEnvPrefix = "FELIX_"

// felixAliases maps Felix parameter names whose spelling differs from the
// FelixConfiguration JSON field (lower-cased) to that field.
var felixAliases = map[string]string{
	"ipinipenabled": "ipipenabled",
	"ipinipmtu":     "ipipmtu",
}

// FelixOverrides are the FELIX_* environment variables. Felix resolves its
// configuration with this precedence, highest first:
//
//	FELIX_<PARAM> environment variable
//	FelixConfiguration "node.<nodename>"
//	FelixConfiguration "default"
//	Felix's built-in default
//
// Parameters that match a FelixConfiguration field are checked when loaded
// (a bad value is a startup error naming the variable); others (e.g.
// FELIX_DATASTORETYPE) are environment-only and passed through as strings.
type FelixOverrides struct {
	// params maps the lower-cased parameter name to its raw value.
	params map[string]string
	// vars maps the lower-cased parameter name to the variable as written.
	vars map[string]string
}

// LoadFelixOverrides collects FELIX_* from the environment (KEY=VALUE
// strings) and checks the values of known parameters.
func LoadFelixOverrides(environ []string) (FelixOverrides, error) {
	o := FelixOverrides{params: map[string]string{}, vars: map[string]string{}}
	var errs []string
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(strings.ToUpper(k), felixEnvPrefix) || len(k) == len(felixEnvPrefix) {
			continue
		}
		p := strings.ToLower(k[len(felixEnvPrefix):])
		o.params[p], o.vars[p] = v, k
		if f, ok := specField(p); ok {
			if _, err := parseFelixValue(f.Type, v); err != nil {
				errs = append(errs, fmt.Sprintf("%s: %q %v (FelixConfiguration field %s)", k, v, err, jsonName(f)))
			}
		}
	}
	if len(errs) > 0 {
		slices.Sort(errs)
		return o, fmt.Errorf("%s", strings.Join(errs, "\n  "))
	}
	return o, nil
}

// Get returns the raw value of parameter name (case-insensitive, without
// the FELIX_ prefix, e.g. "HealthPort"), or "".
func (o FelixOverrides) Get(name string) string {
	p := strings.ToLower(name)
	if v, ok := o.params[p]; ok {
		return v
	}
	for alias, field := range felixAliases {
		if field == p {
			return o.params[alias]
		}
	}
	return ""
}

// Vars returns the override variables as written, sorted.
func (o FelixOverrides) Vars() []string {
	out := make([]string, 0, len(o.vars))
	for _, v := range o.vars {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

// Apply overlays the overrides onto spec (the merged FelixConfiguration),
// field by field. Environment-only parameters are left out.
func (o FelixOverrides) Apply(spec *v3.FelixConfigurationSpec) error {
	rv := reflect.ValueOf(spec).Elem()
	for _, p := range slices.Sorted(mapKeys(o.params)) {
		f, ok := specField(p)
		if !ok {
			continue
		}
		val, err := parseFelixValue(f.Type, o.params[p])
		if err != nil {
			return fmt.Errorf("%s: %q %v", o.vars[p], o.params[p], err)
		}
		rv.FieldByIndex(f.Index).Set(val)
	}
	return nil
}

// EffectiveFelixConfig resolves Felix's configuration with Calico's
// precedence: the "default" resource, overlaid field by field with
// "node.<nodename>", then with the FELIX_* environment. Either resource may
// be nil. Built-in defaults apply to whatever is still unset.
func EffectiveFelixConfig(global, node *v3.FelixConfiguration, env FelixOverrides) (*v3.FelixConfigurationSpec, error) {
	merged := map[string]json.RawMessage{}
	for _, r := range []*v3.FelixConfiguration{global, node} {
		if r == nil {
			continue
		}
		b, err := json.Marshal(r.Spec)
		if err != nil {
			return nil, err
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, err
		}
		for k, v := range m {
			merged[k] = v
		}
	}
	b, _ := json.Marshal(merged)
	spec := &v3.FelixConfigurationSpec{}
	if err := json.Unmarshal(b, spec); err != nil {
		return nil, fmt.Errorf("merge FelixConfigurations: %w", err)
	}
	if err := env.Apply(spec); err != nil {
		return nil, err
	}
	return spec, nil
}

// specField finds the FelixConfigurationSpec field for a lower-cased
// parameter name.
func specField(p string) (reflect.StructField, bool) {
	if a, ok := felixAliases[p]; ok {
		p = a
	}
	t := reflect.TypeOf(v3.FelixConfigurationSpec{})
	for i := range t.NumField() {
		f := t.Field(i)
		if strings.ToLower(jsonName(f)) == p {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// jsonName is a field's JSON name.
func jsonName(f reflect.StructField) string {
	n, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if n == "" {
		return f.Name
	}
	return n
}

var durationType = reflect.TypeOf(metav1.Duration{})

// parseFelixValue converts an environment string to a value of type t the
// way Felix reads its environment: booleans, integers, durations in
// seconds (or Go syntax like 90s), comma-separated string lists, and JSON
// for anything structured.
func parseFelixValue(t reflect.Type, s string) (reflect.Value, error) {
	if t.Kind() == reflect.Pointer {
		v, err := parseFelixValue(t.Elem(), s)
		if err != nil {
			return v, err
		}
		p := reflect.New(t.Elem())
		p.Elem().Set(v)
		return p, nil
	}
	v := reflect.New(t).Elem()
	s = strings.TrimSpace(s)
	switch {
	case t == durationType:
		if secs, err := strconv.ParseFloat(s, 64); err == nil {
			v.Set(reflect.ValueOf(metav1.Duration{Duration: time.Duration(secs * float64(time.Second))}))
			return v, nil
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return v, fmt.Errorf("is not a duration; give seconds (e.g. 90) or a Go duration (e.g. 1m30s)")
		}
		v.Set(reflect.ValueOf(metav1.Duration{Duration: d}))
	case t.Kind() == reflect.Bool:
		e := &env{get: func(string) string { return s }}
		b := e.boolean("", false)
		if len(e.errs) > 0 {
			return v, fmt.Errorf("is not a boolean; use true or false")
		}
		v.SetBool(b)
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		n, err := strconv.ParseInt(s, 0, t.Bits())
		if err != nil {
			return v, fmt.Errorf("is not an integer")
		}
		v.SetInt(n)
	case t.Kind() >= reflect.Uint && t.Kind() <= reflect.Uint64:
		n, err := strconv.ParseUint(s, 0, t.Bits())
		if err != nil {
			return v, fmt.Errorf("is not an unsigned integer (decimal or 0x hex)")
		}
		v.SetUint(n)
	case t.Kind() == reflect.String:
		v.SetString(s)
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String && !strings.HasPrefix(s, "["):
		for _, part := range splitComma(s) {
			v.Set(reflect.Append(v, reflect.ValueOf(part).Convert(t.Elem())))
		}
	default:
		if err := json.Unmarshal([]byte(s), v.Addr().Interface()); err != nil {
			return v, fmt.Errorf("does not parse as JSON for this field (%v); set it in the FelixConfiguration resource instead", err)
		}
	}
	return v, nil
}

// splitComma splits a comma-separated list, dropping empty items.
func splitComma(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// mapKeys returns an iterator over m's keys.
func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
