package ctl

import (
	"fmt"

	"github.com/spf13/cobra"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
)

// deleteCommand builds `delete (<KIND> <NAME>... | -f FILE)`.
func (a *app) deleteCommand() *cobra.Command {
	var ff fileFlags
	var skipNotExists bool
	cmd := &cobra.Command{
		Use:   "delete (<KIND> <NAME>... | -f <FILENAME>)",
		Short: "Delete resources by filename, stdin, or kind and name",
		RunE: func(cmd *cobra.Command, args []string) error {
			var items []loaded
			var err error
			switch {
			case ff.filename != "" && len(args) > 0:
				return fmt.Errorf("give either -f/--filename or <KIND> <NAME>, not both")
			case ff.filename != "":
				if items, err = a.load(&ff); err != nil {
					return err
				}
			case len(args) >= 2:
				if items, err = itemsFromArgs(args[0], args[1:], ff.namespace); err != nil {
					return err
				}
			default:
				return fmt.Errorf("delete needs <KIND> <NAME> or -f/--filename; e.g. calicoctl delete ippool my-pool")
			}
			skip := func(err error) bool { return skipNotExists && client.IsNotFound(err) }
			return a.runBatch(cmd.Context(), client.ActionDelete, items, skip)
		},
	}
	ff.register(cmd, "delete")
	cmd.Flags().BoolVar(&skipNotExists, "skip-not-exists", false, "skip resources that do not exist (counted as deleted)")
	return cmd
}

// itemsFromArgs builds empty resources identified by kind and names, for the
// commands that take <KIND> <NAME> instead of a file.
func itemsFromArgs(kind string, names []string, namespace string) ([]loaded, error) {
	info, err := v3.LookupKind(kind)
	if err != nil {
		return nil, fmt.Errorf("%v; valid kinds are: %s", err, kindList())
	}
	var items []loaded
	for _, n := range names {
		if n == "" {
			return nil, fmt.Errorf("resource name may not be empty")
		}
		res := info.New()
		res.SetName(n)
		items = append(items, loaded{Resource: res, Err: applyNamespace(res, namespace, false)})
	}
	return items, nil
}
