package nft

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"

	"sigs.k8s.io/knftables"
)

// TableLister lists the whole table in one call as `nft -j list table`
// prints it. A knftables.Interface that also implements it is read back
// with one `nft` run instead of one per set and map (at 1,000 policies:
// seconds instead of a minute). ok is false when the table does not exist.
type TableLister interface {
	ListTableJSON(ctx context.Context) (out []byte, ok bool, err error)
}

// ExecLister runs the nft binary to list one table.
type ExecLister struct {
	Family knftables.Family
	Table  string
}

// ListTableJSON implements TableLister.
func (l ExecLister) ListTableJSON(ctx context.Context) ([]byte, bool, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "nft", "-j", "list", "table", string(l.Family), l.Table)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if strings.Contains(stderr.String(), "No such file or directory") {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("nft -j list table %s %s: %w: %s", l.Family, l.Table, err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), true, nil
}

// parseTableJSON turns `nft -j list table` output into a state: chains with
// their rules' comments in order, sets and maps with their elements in the
// form ElementKey produces.
func parseTableJSON(data []byte) (*state, error) {
	var doc struct {
		Nftables []map[string]json.RawMessage `json:"nftables"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse nft JSON: %w", err)
	}
	st := newState()
	st.tableExists = true
	for _, obj := range doc.Nftables {
		for kind, raw := range obj {
			switch kind {
			case "chain":
				var c struct {
					Name string `json:"name"`
				}
				if err := json.Unmarshal(raw, &c); err != nil {
					return nil, fmt.Errorf("parse nft JSON chain: %w", err)
				}
				if _, ok := st.chains[c.Name]; !ok {
					st.chains[c.Name] = []string{}
				}
			case "rule":
				var r struct {
					Chain   string `json:"chain"`
					Comment string `json:"comment"`
				}
				if err := json.Unmarshal(raw, &r); err != nil {
					return nil, fmt.Errorf("parse nft JSON rule: %w", err)
				}
				st.chains[r.Chain] = append(st.chains[r.Chain], r.Comment)
			case "set", "map":
				var s struct {
					Name string            `json:"name"`
					Elem []json.RawMessage `json:"elem"`
				}
				if err := json.Unmarshal(raw, &s); err != nil {
					return nil, fmt.Errorf("parse nft JSON %s: %w", kind, err)
				}
				if kind == "set" {
					elems := make(map[string]struct{}, len(s.Elem))
					for _, e := range s.Elem {
						k, err := elementKey(e)
						if err != nil {
							return nil, fmt.Errorf("set %s: %w", s.Name, err)
						}
						elems[k] = struct{}{}
					}
					st.sets[s.Name] = elems
					continue
				}
				elems := make(map[string]string, len(s.Elem))
				for _, e := range s.Elem {
					var kv []json.RawMessage
					if err := json.Unmarshal(e, &kv); err != nil || len(kv) != 2 {
						return nil, fmt.Errorf("map %s: element %s is not [key, value]", s.Name, e)
					}
					k, err := elementKey(kv[0])
					if err != nil {
						return nil, fmt.Errorf("map %s: %w", s.Name, err)
					}
					v, err := elementKey(kv[1])
					if err != nil {
						return nil, fmt.Errorf("map %s: %w", s.Name, err)
					}
					elems[k] = v
				}
				st.maps[s.Name] = elems
			}
		}
	}
	return st, nil
}

// elementKey renders one JSON element value: a string, a number, a prefix,
// a range, a concatenation, an element wrapper (with a comment or counter)
// or a verdict ("goto chain").
func elementKey(raw json.RawMessage) (string, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "", fmt.Errorf("element %s: %w", raw, err)
	}
	parts, err := elementParts(v)
	if err != nil {
		return "", fmt.Errorf("element %s: %w", raw, err)
	}
	return strings.Join(parts, " . "), nil
}

func elementParts(v any) ([]string, error) {
	switch x := v.(type) {
	case string:
		return []string{x}, nil
	case json.Number:
		return []string{x.String()}, nil
	case map[string]any:
		if len(x) != 1 {
			return nil, errors.New("object with more than one key")
		}
		for k, inner := range x {
			switch k {
			case "elem":
				w, ok := inner.(map[string]any)
				if !ok {
					return nil, errors.New("elem is not an object")
				}
				return elementParts(w["val"])
			case "concat":
				list, ok := inner.([]any)
				if !ok {
					return nil, errors.New("concat is not a list")
				}
				var out []string
				for _, item := range list {
					p, err := elementParts(item)
					if err != nil {
						return nil, err
					}
					out = append(out, p...)
				}
				return out, nil
			case "prefix":
				p, ok := inner.(map[string]any)
				if !ok {
					return nil, errors.New("prefix is not an object")
				}
				addr, _ := p["addr"].(string)
				n, _ := p["len"].(json.Number)
				return []string{addr + "/" + n.String()}, nil
			case "range":
				r, ok := inner.([]any)
				if !ok || len(r) != 2 {
					return nil, errors.New("range is not a pair")
				}
				lo, err := elementParts(r[0])
				if err != nil {
					return nil, err
				}
				hi, err := elementParts(r[1])
				if err != nil {
					return nil, err
				}
				return []string{lo[0] + "-" + hi[0]}, nil
			default: // a verdict: {"accept": null}, {"goto": {"target": "c"}}
				if inner == nil {
					return []string{k}, nil
				}
				if t, ok := inner.(map[string]any); ok {
					if target, ok := t["target"].(string); ok {
						return []string{k + " " + target}, nil
					}
				}
				return nil, fmt.Errorf("unknown element form %q", k)
			}
		}
	}
	return nil, fmt.Errorf("unknown element value %v", v)
}
