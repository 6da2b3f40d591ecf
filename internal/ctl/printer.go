package ctl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strings"
	"text/tabwriter"
	"text/template"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	v3 "github.com/tricolor-net/tricolor/api/v3"
)

// printer renders get's results. objs are what was asked for: one typed
// list for `get <kind>`, one resource per name for `get <kind> <name>...`.
type printer interface {
	Print(w io.Writer, objs []runtime.Object) error
}

// newPrinter parses -o: ps, wide, yaml|yml, json, custom-columns=A,B,
// go-template=..., go-template-file=....
func newPrinter(output string, printNamespace bool) (printer, error) {
	switch output {
	case "", "ps":
		return tablePrinter{printNamespace: printNamespace}, nil
	case "wide":
		return tablePrinter{wide: true, printNamespace: printNamespace}, nil
	case "yaml", "yml":
		return yamlPrinter{}, nil
	case "json":
		return jsonPrinter{}, nil
	}
	key, value, _ := strings.Cut(output, "=")
	switch key {
	case "custom-columns":
		if value == "" {
			return nil, fmt.Errorf("need to specify at least one column, e.g. -o custom-columns=NAME,CIDR")
		}
		return tablePrinter{headings: strings.Split(value, ",")}, nil
	case "go-template":
		if value == "" {
			return nil, fmt.Errorf("need to specify a template, e.g. -o go-template='{{range .Items}}{{.Name}} {{end}}'")
		}
		return newTemplatePrinter(value)
	case "go-template-file":
		if value == "" {
			return nil, fmt.Errorf("need to specify a template file, e.g. -o go-template-file=./pools.tmpl")
		}
		b, err := os.ReadFile(value)
		if err != nil {
			return nil, fmt.Errorf("read template file: %w", err)
		}
		return newTemplatePrinter(string(b))
	}
	return nil, fmt.Errorf("unrecognized output format '%s'; use ps, wide, yaml, json, custom-columns=..., go-template=... or go-template-file=...", output)
}

// single returns the only object, or the slice when there are several, as
// calicoctl does for yaml, json and templates.
func single(objs []runtime.Object) any {
	if len(objs) == 1 {
		return objs[0]
	}
	return objs
}

type yamlPrinter struct{}

func (yamlPrinter) Print(w io.Writer, objs []runtime.Object) error {
	b, err := yaml.Marshal(single(objs))
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

type jsonPrinter struct{}

func (jsonPrinter) Print(w io.Writer, objs []runtime.Object) error {
	b, err := json.MarshalIndent(single(objs), "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

type templatePrinter struct{ tmpl *template.Template }

func newTemplatePrinter(text string) (printer, error) {
	t, err := template.New("get").Funcs(template.FuncMap{
		"join":            func(items any, sep string) string { return joinValue(items, sep, 0) },
		"joinAndTruncate": joinValue,
	}).Parse(text)
	if err != nil {
		return nil, fmt.Errorf("invalid go-template: %w", err)
	}
	return templatePrinter{tmpl: t}, nil
}

func (p templatePrinter) Print(w io.Writer, objs []runtime.Object) error {
	if err := p.tmpl.Execute(w, single(objs)); err != nil {
		return fmt.Errorf("go-template: %w", err)
	}
	return nil
}

// tablePrinter prints ps, wide and custom-columns tables.
type tablePrinter struct {
	headings       []string
	wide           bool
	printNamespace bool
}

func (p tablePrinter) Print(w io.Writer, objs []runtime.Object) error {
	// Rows grouped by kind in first-seen order; one table per kind.
	var kinds []string
	rows := map[string][]runtime.Object{}
	for _, o := range objs {
		items := []runtime.Object{o}
		if meta.IsListType(o) {
			var err error
			if items, err = meta.ExtractList(o); err != nil {
				return err
			}
			if len(items) == 0 {
				k := strings.TrimSuffix(o.GetObjectKind().GroupVersionKind().Kind, "List")
				if _, ok := rows[k]; !ok {
					kinds = append(kinds, k)
					rows[k] = nil
				}
			}
		}
		for _, it := range items {
			k := it.GetObjectKind().GroupVersionKind().Kind
			if _, ok := rows[k]; !ok {
				kinds = append(kinds, k)
			}
			rows[k] = append(rows[k], it)
		}
	}
	for _, k := range kinds {
		if err := p.printKind(w, k, rows[k]); err != nil {
			return err
		}
	}
	return nil
}

func (p tablePrinter) printKind(w io.Writer, kind string, items []runtime.Object) error {
	info, _ := v3.LookupKind(kind)
	heads := append([]string(nil), p.headings...)
	if p.headings == nil {
		heads = append(heads, headingsFor(kind, p.wide, info.Namespaced, p.printNamespace)...)
	}
	cells := make([]colFunc, len(heads))
	for i, h := range heads {
		f, err := cellFor(kind, h)
		if err != nil {
			return err
		}
		cells[i] = f
		heads[i] = strings.ToUpper(h)
	}
	tw := tabwriter.NewWriter(w, 5, 1, 3, ' ', 0)
	fmt.Fprintln(tw, strings.Join(heads, "\t")+"\t")
	for _, it := range items {
		b, err := json.Marshal(it)
		if err != nil {
			return err
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
		vals := make([]string, len(cells))
		for i, f := range cells {
			vals[i] = f(m)
		}
		fmt.Fprintln(tw, strings.Join(vals, "\t")+"\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// calicoctl leaves a gap after each table.
	_, err := fmt.Fprintln(w)
	return err
}

// joinValue joins a slice (or a map as sorted k=v pairs, or a scalar) with
// sep, truncating to maxLen with "..." when maxLen > 0. It backs the
// templates' join/joinAndTruncate and the list-valued table columns.
func joinValue(items any, sep string, maxLen int) string {
	if items == nil {
		return ""
	}
	v := reflect.ValueOf(items)
	var parts []string
	switch v.Kind() {
	case reflect.Map:
		for _, k := range v.MapKeys() {
			parts = append(parts, fmt.Sprintf("%v=%v", k.Interface(), v.MapIndex(k).Interface()))
		}
		sort.Strings(parts)
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			parts = append(parts, scalar(v.Index(i).Interface()))
		}
	default:
		parts = []string{scalar(items)}
	}
	var buf bytes.Buffer
	for i, s := range parts {
		if i > 0 {
			buf.WriteString(sep)
		}
		buf.WriteString(s)
		if maxLen > 0 && buf.Len() > maxLen {
			buf.Truncate(max(maxLen-3, 0))
			buf.WriteString("...")
			break
		}
	}
	return buf.String()
}

// extractList returns a typed list's items as objects.
func extractList(list runtime.Object) ([]runtime.Object, error) { return meta.ExtractList(list) }
