package ctl

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// labelCommand builds `label <KIND> <NAME> (<key>=<value> [--overwrite] |
// <key> --remove)` with calicoctl's messages.
func (a *app) labelCommand() *cobra.Command {
	var overwrite, remove bool
	var namespace string
	cmd := &cobra.Command{
		Use:   "label <KIND> <NAME> (<key>=<value> [--overwrite] | <key> --remove)",
		Short: "Add, update or remove a label on a resource",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			kindArg, name := args[0], args[1]
			if overwrite && remove {
				return fmt.Errorf("--overwrite and --remove cannot be used together")
			}
			var key, value string
			if remove {
				key = args[2]
			} else {
				kv := strings.Split(args[2], "=")
				if len(kv) != 2 || kv[0] == "" {
					return fmt.Errorf("invalid label %s; use key=value (or key --remove)", args[2])
				}
				key, value = kv[0], kv[1]
			}
			items, err := itemsFromArgs(kindArg, []string{name}, namespace)
			if err != nil {
				return err
			}
			if items[0].Err != nil {
				return items[0].Err
			}
			probe := items[0].Resource
			c, closer, err := a.connect(cmd.Context())
			if err != nil {
				return err
			}
			defer closer()
			res, err := c.Get(cmd.Context(), probe.GetObjectKind().GroupVersionKind().Kind, probe.GetNamespace(), name)
			if err != nil {
				return fmt.Errorf("failed to get %s %s, error %v", kindArg, name, err)
			}
			labels := res.GetLabels()
			if labels == nil {
				labels = map[string]string{}
			}
			overwritten := false
			if remove {
				if _, ok := labels[key]; !ok {
					return fmt.Errorf("cannot remove label of %s %s, key %s does not exist", kindArg, name, key)
				}
				delete(labels, key)
			} else if old, ok := labels[key]; ok {
				if !overwrite && old != value {
					return fmt.Errorf("failed to update label of %s %s, key %s is already present. please use '--overwrite' to set a new value.", kindArg, name, key)
				}
				labels[key], overwritten = value, true
			} else {
				labels[key] = value
			}
			res.SetLabels(labels)
			if _, err := c.Update(cmd.Context(), res); err != nil {
				return fmt.Errorf("failed to update %s %s, label not changed: %v", kindArg, name, err)
			}
			switch {
			case remove:
				fmt.Fprintf(a.opts.Stdout, "Successfully removed label %s from %s %s\n", key, kindArg, name)
			case overwritten:
				fmt.Fprintf(a.opts.Stdout, "Successfully updated label %s on %s %s\n", key, kindArg, name)
			default:
				fmt.Fprintf(a.opts.Stdout, "Successfully set label %s on %s %s\n", key, kindArg, name)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&overwrite, "overwrite", false, "overwrite the value when the key is already present")
	cmd.Flags().BoolVar(&remove, "remove", false, "remove the given key (error if absent)")
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "", "namespace of a namespaced resource (default \"default\")")
	return cmd
}
