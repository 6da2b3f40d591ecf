package k8s

import (
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/tricolor-net/tricolor/internal/datastore"
)

// isUnserved reports a 404 about the resource type rather than one object:
// the CRD is not installed (no object name in the status details).
func isUnserved(err error) bool {
	var s apierrors.APIStatus
	if !errors.As(err, &s) || !apierrors.IsNotFound(err) {
		return false
	}
	d := s.Status().Details
	return d == nil || d.Name == ""
}

// isMissingNamespace reports the 404 the NamespaceLifecycle admission
// plugin returns when creating an object in a namespace that does not exist.
func isMissingNamespace(err error) bool {
	var s apierrors.APIStatus
	if !errors.As(err, &s) || !apierrors.IsNotFound(err) {
		return false
	}
	d := s.Status().Details
	return d != nil && d.Kind == "namespaces"
}

// unservedError says which CRD to install.
func unservedError(op string, k kindInfo, what string, err error) error {
	return fmt.Errorf("%s %s: the API server does not serve %s (%v); install the CRD %s (kubectl apply -f manifests/crds/)",
		op, what, k.gvr.GroupResource(), err, k.crdName())
}

// isGone reports an API error meaning the requested resourceVersion is no
// longer available (410 Gone / Expired: "too old resource version").
func isGone(err error) bool {
	return apierrors.IsGone(err) || apierrors.IsResourceExpired(err)
}

// apiError wraps an API error that maps onto no sentinel with what was being
// done.
func apiError(op string, key datastore.Key, err error) error {
	return fmt.Errorf("%s %s: %w", op, key, err)
}

// isNotFoundErr reports a 404 of any kind.
func isNotFoundErr(err error) bool { return apierrors.IsNotFound(err) }
