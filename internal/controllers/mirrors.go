package controllers

import (
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/informers"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/datastore/k8s/conversion"
)

// absent turns a lister's NotFound into "no object".
func absent(err error) error {
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// newPolicyMirror mirrors Kubernetes NetworkPolicies into knp.default.*.
func newPolicyMirror(m *Manager, f informers.SharedInformerFactory) *mirror {
	inf := f.Networking().V1().NetworkPolicies()
	return newMirror(m, ControllerPolicy, inf.Informer(), &mirror{
		kind:   v3.KindNetworkPolicy,
		prefix: conversion.NetworkPolicyPrefix,
		desired: func(key string) (v3.Resource, error) {
			ns, name := splitKey(key)
			np, err := inf.Lister().NetworkPolicies(ns).Get(name)
			if err != nil {
				return nil, absent(err)
			}
			p, err := conversion.NetworkPolicyToCalico(np)
			if p == nil {
				return nil, err // never a typed nil inside the interface
			}
			return p, err
		},
		calicoKey: func(key string) datastore.Key {
			ns, name := splitKey(key)
			return datastore.Key{Kind: v3.KindNetworkPolicy, Namespace: ns, Name: conversion.NetworkPolicyName(name)}
		},
		k8sKey: func(k datastore.Key) string {
			if n := trimPrefix(k.Name, conversion.NetworkPolicyPrefix); n != "" {
				return joinKey(k.Namespace, n)
			}
			return ""
		},
	})
}

// newNamespaceMirror mirrors Namespaces into kns.* profiles.
func newNamespaceMirror(m *Manager, f informers.SharedInformerFactory) *mirror {
	inf := f.Core().V1().Namespaces()
	return newMirror(m, ControllerNamespace, inf.Informer(), &mirror{
		kind:   v3.KindProfile,
		prefix: conversion.NamespaceProfilePrefix,
		desired: func(key string) (v3.Resource, error) {
			ns, err := inf.Lister().Get(key)
			if err != nil {
				return nil, absent(err)
			}
			return conversion.NamespaceToProfile(ns), nil
		},
		calicoKey: func(key string) datastore.Key {
			return datastore.Key{Kind: v3.KindProfile, Name: conversion.NamespaceProfileName(key)}
		},
		k8sKey: func(k datastore.Key) string { return trimPrefix(k.Name, conversion.NamespaceProfilePrefix) },
	})
}

// newServiceAccountMirror mirrors ServiceAccounts into ksa.<ns>.<name>.
func newServiceAccountMirror(m *Manager, f informers.SharedInformerFactory) *mirror {
	inf := f.Core().V1().ServiceAccounts()
	return newMirror(m, ControllerServiceAccount, inf.Informer(), &mirror{
		kind:   v3.KindProfile,
		prefix: conversion.ServiceAccountProfilePrefix,
		desired: func(key string) (v3.Resource, error) {
			ns, name := splitKey(key)
			sa, err := inf.Lister().ServiceAccounts(ns).Get(name)
			if err != nil {
				return nil, absent(err)
			}
			return conversion.ServiceAccountToProfile(sa), nil
		},
		calicoKey: func(key string) datastore.Key {
			ns, name := splitKey(key)
			return datastore.Key{Kind: v3.KindProfile, Name: conversion.ServiceAccountProfileName(ns, name)}
		},
		k8sKey: func(k datastore.Key) string {
			// ksa.<ns>.<name>: namespaces have no dots, names may.
			ns, name, ok := strings.Cut(trimPrefix(k.Name, conversion.ServiceAccountProfilePrefix), ".")
			if !ok {
				return ""
			}
			return joinKey(ns, name)
		},
	})
}
