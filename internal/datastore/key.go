package datastore

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ValidateKey checks that a key can be stored by every backend: a kind and a
// name are required, and neither the name nor the namespace may contain "/"
// (it separates path segments in etcd and is illegal in Kubernetes names).
func ValidateKey(key Key) error {
	switch {
	case key.Kind == "":
		return fmt.Errorf("key %s: kind is empty; set the resource's kind (e.g. IPPool)", key)
	case key.Name == "":
		return fmt.Errorf("key %s: name is empty; every resource needs metadata.name", key)
	case strings.Contains(key.Name, "/"):
		return fmt.Errorf("key %s: name %q contains \"/\"; names may not contain slashes", key, key.Name)
	case strings.Contains(key.Namespace, "/"):
		return fmt.Errorf("key %s: namespace %q contains \"/\"; namespaces may not contain slashes", key, key.Namespace)
	case strings.Contains(key.Kind, "/"):
		return fmt.Errorf("key %s: kind %q contains \"/\"", key, key.Kind)
	}
	return nil
}

// ValidateListOptions checks the parts of opts every backend relies on.
func ValidateListOptions(opts ListOptions) error {
	if opts.Kind == "" {
		return fmt.Errorf("list: kind is empty; say which kind to list (e.g. IPPool)")
	}
	if strings.Contains(opts.Namespace, "/") {
		return fmt.Errorf("list %s: namespace %q contains \"/\"", opts.Kind, opts.Namespace)
	}
	return nil
}

// Matches reports whether key falls within opts (kind, namespace and name
// prefix; opts.Revision is not considered).
func (opts ListOptions) Matches(key Key) bool {
	return key.Kind == opts.Kind &&
		(opts.Namespace == "" || key.Namespace == opts.Namespace) &&
		strings.HasPrefix(key.Name, opts.NamePrefix)
}

// ParseRevision parses a decimal revision as the etcd and memory backends
// issue them. The Kubernetes backend treats revisions as opaque and does not
// use it. what names the argument in the error ("revision", "fromRevision").
func ParseRevision(what, rev string) (int64, error) {
	n, err := strconv.ParseInt(rev, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s %q is not a revision this datastore issued (want a non-negative decimal number)", what, rev)
	}
	return n, nil
}

// FormatRevision renders an integer revision as the decimal string callers see.
func FormatRevision(rev int64) string {
	return strconv.FormatInt(rev, 10)
}

// SortKVs orders items as List returns them: by namespace, then name.
func SortKVs(items []KVPair) {
	sort.Slice(items, func(i, j int) bool {
		a, b := items[i].Key, items[j].Key
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
}
