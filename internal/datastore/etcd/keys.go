package etcd

import (
	"strings"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/datastore"
)

// KeyRoot is the prefix every Tricolor (and Calico v3) resource lives under.
const KeyRoot = "/calico/resources/v3/projectcalico.org/"

// kindScope says what the backend knows about a kind's layout.
type kindScope int

const (
	scopeUnknown kindScope = iota
	scopeCluster
	scopeNamespaced
)

// pluralFor returns the path segment for kind: the registered plural for
// known kinds, else the lower-cased kind plus "s" (so tests and future kinds
// work without registration).
func pluralFor(kind string) (string, kindScope) {
	if info, err := v3.LookupKind(kind); err == nil && info.Kind == kind {
		if info.Namespaced {
			return info.Plural, scopeNamespaced
		}
		return info.Plural, scopeCluster
	}
	return strings.ToLower(kind) + "s", scopeUnknown
}

// kindPrefix is the directory holding every resource of kind.
func kindPrefix(kind string) string {
	p, _ := pluralFor(kind)
	return KeyRoot + p + "/"
}

// etcdKey renders a validated key as its etcd path.
func etcdKey(k datastore.Key) string {
	if k.Namespace == "" {
		return kindPrefix(k.Kind) + k.Name
	}
	return kindPrefix(k.Kind) + k.Namespace + "/" + k.Name
}

// listPrefix is the narrowest etcd prefix covering opts. Results are still
// filtered with opts.Matches, because a name prefix can only be part of the
// etcd prefix when the namespace segment is known (or the kind has none).
func listPrefix(opts datastore.ListOptions) string {
	p := kindPrefix(opts.Kind)
	if opts.Namespace != "" {
		return p + opts.Namespace + "/" + opts.NamePrefix
	}
	if _, scope := pluralFor(opts.Kind); scope == scopeCluster {
		return p + opts.NamePrefix
	}
	return p
}

// parseKey turns an etcd path under kind's directory back into a Key; ok is
// false for paths that are not a resource of kind (too deep, empty parts).
func parseKey(kind string, path []byte) (datastore.Key, bool) {
	rest, found := strings.CutPrefix(string(path), kindPrefix(kind))
	if !found || rest == "" {
		return datastore.Key{}, false
	}
	parts := strings.Split(rest, "/")
	switch {
	case len(parts) == 1:
		return datastore.Key{Kind: kind, Name: parts[0]}, true
	case len(parts) == 2 && parts[0] != "" && parts[1] != "":
		return datastore.Key{Kind: kind, Namespace: parts[0], Name: parts[1]}, true
	}
	return datastore.Key{}, false
}
