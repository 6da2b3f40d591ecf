package ctl

import (
	"fmt"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
)

// applyNamespace reconciles a resource's metadata.namespace with -n and -A
// the way calicoctl does: -n fills an empty namespace, a mismatch is an
// error, namespaced kinds default to "default", and cluster-scoped kinds
// must not have one.
func applyNamespace(res v3.Resource, cliNs string, allNs bool) error {
	info, err := v3.LookupKind(res.GetObjectKind().GroupVersionKind().Kind)
	if err != nil {
		return err
	}
	resNs := res.GetNamespace()
	if !info.Namespaced {
		switch {
		case resNs != "":
			return fmt.Errorf("%s: metadata.namespace must be empty: %s is not namespaced; remove it", v3.ResourceRef(info.Kind, resNs, res.GetName()), info.Kind)
		case allNs || cliNs != "":
			return fmt.Errorf("%s is not namespaced; drop -n/--namespace and -A/--all-namespaces", info.Kind)
		}
		return nil
	}
	switch {
	case allNs && cliNs != "":
		return fmt.Errorf("cannot use both --namespace and --all-namespaces flags at the same time")
	case resNs == "" && cliNs != "":
		res.SetNamespace(cliNs)
	case allNs:
		res.SetNamespace("")
	case resNs == "":
		res.SetNamespace(client.DefaultNamespace)
	case cliNs != "" && resNs != cliNs:
		return fmt.Errorf("%s: resource namespace does not match client namespace. %s != %s; fix metadata.namespace or -n",
			v3.ResourceRef(info.Kind, resNs, res.GetName()), resNs, cliNs)
	}
	return nil
}
