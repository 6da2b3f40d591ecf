package ctl

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
)

// pastTense is the verb calicoctl's messages use for each action.
var pastTense = map[client.Action]string{
	client.ActionCreate: "created",
	client.ActionApply:  "applied",
	client.ActionUpdate: "replaced",
	client.ActionDelete: "deleted",
}

// fileFlags are the -f family shared by the file-driven commands.
type fileFlags struct {
	filename  string
	recursive bool
	skipEmpty bool
	namespace string
}

func (f *fileFlags) register(cmd *cobra.Command, verb string) {
	cmd.Flags().StringVarP(&f.filename, "filename", "f", "", "file to "+verb+" resources from: a file, a directory of .yaml/.yml/.json files, or - for stdin")
	cmd.Flags().BoolVarP(&f.recursive, "recursive", "R", false, "process the directory given with -f recursively")
	cmd.Flags().BoolVar(&f.skipEmpty, "skip-empty", false, "do not fail when the files contain no resources")
	cmd.Flags().StringVarP(&f.namespace, "namespace", "n", "", "namespace for namespaced resources that do not set one (default \"default\")")
}

// load reads, decodes and namespaces every resource named by -f.
func (a *app) load(f *fileFlags) ([]loaded, error) {
	docs, err := loadDocs(f.filename, f.recursive, a.opts.Stdin)
	if err != nil {
		return nil, fmt.Errorf("Failed to execute command: %w", err)
	}
	items := decodeDocs(docs)
	if len(items) == 0 && !f.skipEmpty {
		return nil, fmt.Errorf("No resources specified in file %s", f.filename)
	}
	for i := range items {
		if items[i].Err == nil {
			items[i].Err = applyNamespace(items[i].Resource, f.namespace, false)
		}
	}
	return items, nil
}

// writeCommand builds create, apply or replace.
func (a *app) writeCommand(action client.Action) *cobra.Command {
	var ff fileFlags
	var skipExists bool
	verb := action.String()
	cmd := &cobra.Command{
		Use:   verb + " -f <FILENAME>",
		Short: map[client.Action]string{client.ActionCreate: "Create resources by filename or stdin (fails if any exists)", client.ActionApply: "Create or replace resources by filename or stdin", client.ActionUpdate: "Replace existing resources by filename or stdin"}[action],
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if ff.filename == "" {
				return fmt.Errorf("%s needs -f/--filename (a file, a directory or - for stdin)", verb)
			}
			items, err := a.load(&ff)
			if err != nil {
				return err
			}
			skip := func(err error) bool { return skipExists && client.IsAlreadyExists(err) }
			return a.runBatch(cmd.Context(), action, items, skip)
		},
	}
	ff.register(cmd, verb)
	if action == client.ActionCreate {
		cmd.Flags().BoolVar(&skipExists, "skip-exists", false, "skip resources that already exist (counted as created)")
	}
	return cmd
}

// runBatch checks every resource as one batch, then writes them in order.
// Nothing is written unless every resource passes. skip says which planning
// errors to ignore (--skip-exists / --skip-not-exists); skipped resources
// count as handled, as in calicoctl.
func (a *app) runBatch(ctx context.Context, action client.Action, items []loaded, skip func(error) bool) error {
	verb, done := action.String(), pastTense[action]
	kind := singleKind(items)
	var problems []string
	for _, it := range items {
		if it.Err != nil {
			problems = append(problems, locate(it.Where, it.Err))
		}
	}
	if len(problems) > 0 {
		return batchFailure(verb, kind, len(items), problems)
	}
	if action == client.ActionDelete {
		// Files declare what others depend on first (a tier, then its
		// policies); deleting in reverse order lets the file that created a
		// set of resources delete them again.
		items = reversed(items)
	}
	c, closer, err := a.connect(ctx)
	if err != nil {
		return err
	}
	defer closer()
	ops := make([]client.Op, len(items))
	for i, it := range items {
		ops[i] = client.Op{Action: action, Resource: it.Resource}
	}
	skipped := make([]bool, len(items))
	for i, err := range c.Plan(ctx, ops) {
		switch {
		case err == nil:
		case skip != nil && skip(err):
			skipped[i] = true
		default:
			problems = append(problems, locate(items[i].Where, err))
		}
	}
	if len(problems) > 0 {
		return batchFailure(verb, kind, len(items), problems)
	}
	for i, it := range items {
		if skipped[i] {
			continue
		}
		if err := a.writeOne(ctx, c, action, it.Resource); err != nil {
			if skip != nil && skip(err) {
				continue
			}
			return partialFailure(verb, done, kind, i, len(items), locate(it.Where, err))
		}
	}
	if kind != "" {
		fmt.Fprintf(a.opts.Stdout, "Successfully %s %d '%s' resource(s)\n", done, len(items), kind)
	} else {
		fmt.Fprintf(a.opts.Stdout, "Successfully %s %d resource(s)\n", done, len(items))
	}
	return nil
}

// writeOne performs one planned operation.
func (a *app) writeOne(ctx context.Context, c *client.Client, action client.Action, res v3.Resource) error {
	var err error
	switch action {
	case client.ActionCreate:
		_, err = c.Create(ctx, res)
	case client.ActionApply:
		_, err = c.Apply(ctx, res)
	case client.ActionUpdate:
		// calicoctl replace targets the revision in the file when there is
		// one, else the current one (still a CAS against what was read).
		if res.GetResourceVersion() == "" {
			cur, gerr := c.Get(ctx, res.GetObjectKind().GroupVersionKind().Kind, res.GetNamespace(), res.GetName())
			if gerr != nil {
				return gerr
			}
			res = res.DeepCopyObject().(v3.Resource)
			res.SetResourceVersion(cur.GetResourceVersion())
		}
		_, err = c.Update(ctx, res)
	case client.ActionDelete:
		_, err = c.Delete(ctx, res.GetObjectKind().GroupVersionKind().Kind, res.GetNamespace(), res.GetName(), res.GetResourceVersion())
	}
	return err
}

// singleKind returns the one kind all items share, or "".
func singleKind(items []loaded) string {
	kind := ""
	for _, it := range items {
		if it.Resource == nil {
			continue
		}
		k := it.Resource.GetObjectKind().GroupVersionKind().Kind
		if kind != "" && k != kind {
			return ""
		}
		kind = k
	}
	return kind
}

// locate prefixes an error with where it came from.
func locate(where string, err error) string {
	if where == "" {
		return err.Error()
	}
	return where + ": " + err.Error()
}

// batchFailure reports problems found before anything was written.
func batchFailure(verb, kind string, n int, problems []string) error {
	var head string
	switch {
	case n == 1 && kind != "":
		head = fmt.Sprintf("Failed to %s '%s' resource", verb, kind)
	case n == 1:
		head = fmt.Sprintf("Failed to %s resource", verb)
	case kind != "":
		head = fmt.Sprintf("Failed to %s any '%s' resources", verb, kind)
	default:
		head = fmt.Sprintf("Failed to %s any resources", verb)
	}
	if len(problems) == 1 {
		return errors.New(head + ": " + problems[0])
	}
	return fmt.Errorf("%s: %d of %d resources are invalid; nothing was written:\n  %s", head, len(problems), n, strings.Join(problems, "\n  "))
}

// partialFailure reports a write that failed after earlier ones succeeded
// (possible only when the datastore changes between check and write).
func partialFailure(verb, done, kind string, handled, total int, problem string) error {
	if handled == 0 {
		return batchFailure(verb, kind, total, []string{problem})
	}
	k := "resources"
	if kind != "" {
		k = fmt.Sprintf("'%s' resources", kind)
	}
	return fmt.Errorf("Partial success: %s the first %d out of %d %s:\nHit error(s): %s", done, handled, total, k, problem)
}

// reversed returns items in reverse order (a new slice).
func reversed(items []loaded) []loaded {
	out := make([]loaded, len(items))
	for i, it := range items {
		out[len(items)-1-i] = it
	}
	return out
}
