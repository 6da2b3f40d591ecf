package ctl

import (
	"fmt"

	"github.com/spf13/cobra"
)

// validateCommand builds `validate -f FILE`: parse every document, apply
// defaults and validate each resource on its own, without a datastore.
// Cross-resource rules (overlapping pools, missing tiers) need the
// datastore and are checked by create/apply/replace before they write.
func (a *app) validateCommand() *cobra.Command {
	var ff fileFlags
	cmd := &cobra.Command{
		Use:   "validate -f <FILENAME>",
		Short: "Check resource files offline (syntax, kinds, fields, values)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if ff.filename == "" {
				return fmt.Errorf("validate needs -f/--filename (a file, a directory or - for stdin)")
			}
			items, err := a.load(&ff)
			if err != nil {
				return err
			}
			var problems []string
			for _, it := range items {
				if it.Err == nil {
					r := it.Resource.DeepCopyObject().(interface {
						Default()
						Validate() error
					})
					r.Default()
					it.Err = r.Validate()
				}
				if it.Err != nil {
					problems = append(problems, locate(it.Where, it.Err))
				}
			}
			if len(problems) > 0 {
				return batchFailure("validate", singleKind(items), len(items), problems)
			}
			fmt.Fprintf(a.opts.Stdout, "Successfully validated %d resource(s)\n", len(items))
			return nil
		},
	}
	ff.register(cmd, "validate")
	return cmd
}
