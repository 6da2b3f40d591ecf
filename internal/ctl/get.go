package ctl

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
)

// getCommand builds `get (<KIND> [<NAME>...] | -f FILE) [-o FORMAT]`.
func (a *app) getCommand() *cobra.Command {
	var ff fileFlags
	var output string
	var allNs, export bool
	cmd := &cobra.Command{
		Use:   "get (<KIND> [<NAME>...] | -f <FILENAME>)",
		Short: "Display resources by kind and name, or by filename",
		RunE: func(cmd *cobra.Command, args []string) error {
			pr, err := newPrinter(output, allNs || ff.namespace != "")
			if err != nil {
				return err
			}
			var objs []runtime.Object
			var errs []string
			switch {
			case ff.filename != "" && len(args) > 0:
				return fmt.Errorf("give either -f/--filename or <KIND> [<NAME>...], not both")
			case ff.filename != "":
				objs, errs, err = a.getFromFile(cmd.Context(), &ff)
			case len(args) >= 1:
				objs, errs, err = a.getFromArgs(cmd.Context(), args[0], args[1:], ff.namespace, allNs)
			default:
				return fmt.Errorf("get needs <KIND> or -f/--filename; e.g. calicoctl get ippools -o wide")
			}
			if err != nil {
				return err
			}
			if export {
				exportStrip(objs)
			}
			if len(objs) > 0 {
				if err := pr.Print(a.opts.Stdout, objs); err != nil {
					return err
				}
			}
			if len(errs) > 0 {
				return errors.New(strings.Join(errs, "\n"))
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "ps", "output format: ps, wide, yaml, json, custom-columns=..., go-template=..., go-template-file=...")
	cmd.Flags().BoolVarP(&allNs, "all-namespaces", "A", false, "list the requested resources across all namespaces")
	cmd.Flags().BoolVar(&export, "export", false, "strip cluster-specific metadata (uid, resourceVersion, creationTimestamp, namespace) from named resources")
	ff.register(cmd, "get")
	return cmd
}

// getFromArgs lists a kind, or gets the named resources of it.
func (a *app) getFromArgs(ctx context.Context, kind string, names []string, ns string, allNs bool) ([]runtime.Object, []string, error) {
	info, err := v3.LookupKind(kind)
	if err != nil {
		return nil, nil, fmt.Errorf("%v; valid kinds are: %s", err, kindList())
	}
	probe := info.New()
	if err := applyNamespace(probe, ns, allNs); err != nil {
		return nil, nil, err
	}
	c, closer, err := a.connect(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer closer()
	if len(names) == 0 || allNs {
		list, err := c.ListObject(ctx, info.Kind, probe.GetNamespace())
		if err != nil {
			return nil, nil, fmt.Errorf("Failed to get resources: %w", err)
		}
		if len(names) > 0 {
			list, err = filterByName(info, list, names)
			if err != nil {
				return nil, nil, err
			}
		}
		return []runtime.Object{list}, nil, nil
	}
	var objs []runtime.Object
	var errs []string
	for _, n := range names {
		r, err := c.Get(ctx, info.Kind, probe.GetNamespace(), n)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		objs = append(objs, r)
	}
	return objs, errs, nil
}

// getFromFile gets the resources a file names (by kind, namespace and name).
func (a *app) getFromFile(ctx context.Context, ff *fileFlags) ([]runtime.Object, []string, error) {
	items, err := a.load(ff)
	if err != nil {
		return nil, nil, err
	}
	var errs []string
	for _, it := range items {
		if it.Err != nil {
			errs = append(errs, locate(it.Where, it.Err))
		}
	}
	if len(errs) > 0 {
		return nil, nil, fmt.Errorf("Failed to execute command: %s", strings.Join(errs, "\n"))
	}
	c, closer, err := a.connect(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer closer()
	var objs []runtime.Object
	for _, it := range items {
		r := it.Resource
		got, err := c.Get(ctx, r.GetObjectKind().GroupVersionKind().Kind, r.GetNamespace(), r.GetName())
		if err != nil {
			errs = append(errs, locate(it.Where, err))
			continue
		}
		objs = append(objs, got)
	}
	return objs, errs, nil
}

// filterByName keeps the list items whose names are in names.
func filterByName(info v3.KindInfo, list v3.ResourceList, names []string) (v3.ResourceList, error) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	items, _, err := itemsOf(list)
	if err != nil {
		return nil, err
	}
	var kept []v3.Resource
	for _, r := range items {
		if want[r.GetName()] {
			kept = append(kept, r)
		}
	}
	return client.NewList(info, kept, list.GetResourceVersion())
}

// itemsOf extracts a typed list's items as resources.
func itemsOf(list v3.ResourceList) ([]v3.Resource, string, error) {
	objs, err := extractList(list)
	if err != nil {
		return nil, "", err
	}
	out := make([]v3.Resource, 0, len(objs))
	for _, o := range objs {
		r, ok := o.(v3.Resource)
		if !ok {
			return nil, "", fmt.Errorf("list item %T is not a resource", o)
		}
		out = append(out, r)
	}
	return out, list.GetResourceVersion(), nil
}

// exportStrip removes cluster-specific metadata from named results, as
// calicoctl get --export does (lists are left alone).
func exportStrip(objs []runtime.Object) {
	for _, o := range objs {
		r, ok := o.(v3.Resource)
		if !ok {
			continue
		}
		r.SetNamespace("")
		r.SetUID("")
		r.SetResourceVersion("")
		r.SetCreationTimestamp(metav1.Time{})
		r.SetDeletionTimestamp(nil)
		r.SetDeletionGracePeriodSeconds(nil)
	}
}
