package ctl

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"
)

// patchCommand builds `patch <KIND> <NAME> -p <PATCH> [-t strategic|merge]`.
// Both types apply a JSON Merge Patch (RFC 7386): for Calico's CRD-backed
// resources a strategic merge patch behaves the same way. The patch may be
// JSON or YAML. The result is validated like any write and stored with CAS
// against the revision that was patched.
func (a *app) patchCommand() *cobra.Command {
	var patch, ptype, namespace string
	cmd := &cobra.Command{
		Use:   "patch <KIND> <NAME> -p <PATCH>",
		Short: "Patch a resource in place with a JSON or YAML merge patch",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch ptype {
			case "", "strategic", "merge":
			case "json":
				return fmt.Errorf("patch type json (RFC 6902) is not supported yet; use the default merge patch, e.g. -p '{\"spec\":{\"natOutgoing\":true}}'")
			default:
				return fmt.Errorf("unknown patch type %q; use strategic (default) or merge", ptype)
			}
			if patch == "" {
				return fmt.Errorf("patch needs -p/--patch, e.g. -p '{\"spec\":{\"natOutgoing\":true}}'")
			}
			items, err := itemsFromArgs(args[0], args[1:2], namespace)
			if err != nil {
				return err
			}
			if items[0].Err != nil {
				return items[0].Err
			}
			probe := items[0].Resource
			kind := probe.GetObjectKind().GroupVersionKind().Kind
			pj, err := yaml.YAMLToJSON([]byte(patch))
			if err != nil {
				return fmt.Errorf("Failed to patch '%s' resource: the patch is not valid JSON or YAML: %v", kind, err)
			}
			var pm any
			if err := json.Unmarshal(pj, &pm); err != nil {
				return fmt.Errorf("Failed to patch '%s' resource: the patch is not valid JSON or YAML: %v", kind, err)
			}
			if _, ok := pm.(map[string]any); !ok {
				return fmt.Errorf("Failed to patch '%s' resource: the patch must be an object such as {\"spec\":{...}}", kind)
			}
			c, closer, err := a.connect(cmd.Context())
			if err != nil {
				return err
			}
			defer closer()
			cur, err := c.Get(cmd.Context(), kind, probe.GetNamespace(), probe.GetName())
			if err != nil {
				return fmt.Errorf("Failed to patch '%s' resource: %v", kind, err)
			}
			b, err := json.Marshal(cur)
			if err != nil {
				return err
			}
			var doc any
			if err := json.Unmarshal(b, &doc); err != nil {
				return err
			}
			merged := mergePatch(doc, pm).(map[string]any)
			meta, _ := merged["metadata"].(map[string]any)
			if meta["name"] != cur.GetName() || (cur.GetNamespace() != "" && meta["namespace"] != cur.GetNamespace()) {
				return fmt.Errorf("Failed to patch '%s' resource: a patch cannot change metadata.name or metadata.namespace; create a new resource instead", kind)
			}
			meta["resourceVersion"] = cur.GetResourceVersion()
			out, err := json.Marshal(merged)
			if err != nil {
				return err
			}
			res, err := decodeObject(out)
			if err != nil {
				return fmt.Errorf("Failed to patch '%s' resource: %v", kind, err)
			}
			if _, err := c.Update(cmd.Context(), res); err != nil {
				return fmt.Errorf("Failed to patch '%s' resource: %v", kind, err)
			}
			fmt.Fprintf(a.opts.Stdout, "Successfully patched 1 '%s' resource\n", kind)
			return nil
		},
	}
	cmd.Flags().StringVarP(&patch, "patch", "p", "", "the merge patch, JSON or YAML")
	cmd.Flags().StringVarP(&ptype, "type", "t", "strategic", "patch type: strategic (default) or merge (both a JSON merge patch)")
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "", "namespace of a namespaced resource (default \"default\")")
	return cmd
}

// mergePatch applies an RFC 7386 JSON Merge Patch to doc: objects merge key
// by key, null deletes, anything else replaces.
func mergePatch(doc, patch any) any {
	pm, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	dm, ok := doc.(map[string]any)
	if !ok {
		dm = map[string]any{}
	}
	for k, v := range pm {
		if v == nil {
			delete(dm, k)
			continue
		}
		dm[k] = mergePatch(dm[k], v)
	}
	return dm
}
