package v3

import (
	"fmt"
	"net"
	"regexp"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// FieldError is one problem with one field of a resource.
// +kubebuilder:object:generate=false
type FieldError struct {
	// Field is the JSON path, e.g. "spec.cidr" or "spec.ingress[0].destination.ports".
	Field string
	// Detail says what is wrong and how to fix it.
	Detail string
}

// ValidationError lists every problem found in one resource. Its message
// names the resource (kind, namespace, name), each field and the fix, e.g.
//
//	ippool "pool-b": spec.blockSize: 33 is out of range; use 20-32 for IPv4 pools
//
// +kubebuilder:object:generate=false
type ValidationError struct {
	Kind      string
	Namespace string
	Name      string
	Errors    []FieldError
}

// Error renders all field errors on one line each, after the resource name.
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString(ResourceRef(e.Kind, e.Namespace, e.Name))
	b.WriteString(": ")
	for i, fe := range e.Errors {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(fe.Field)
		b.WriteString(": ")
		b.WriteString(fe.Detail)
	}
	return b.String()
}

// ResourceRef renders a resource the way errors name it:
// `ippool "pool-b"` or `networkpolicy "ns1/allow-web"`.
func ResourceRef(kind, namespace, name string) string {
	if namespace != "" {
		return fmt.Sprintf("%s %q", strings.ToLower(kind), namespace+"/"+name)
	}
	return fmt.Sprintf("%s %q", strings.ToLower(kind), name)
}

// validator accumulates field errors for one resource.
// +kubebuilder:object:generate=false
type validator struct {
	err ValidationError
}

// newValidator starts validating the resource of the given kind and metadata.
func newValidator(kind string, meta *metav1.ObjectMeta) *validator {
	return &validator{err: ValidationError{Kind: kind, Namespace: meta.Namespace, Name: meta.Name}}
}

// addf records a problem with field.
func (v *validator) addf(field, format string, args ...any) {
	v.err.Errors = append(v.err.Errors, FieldError{Field: field, Detail: fmt.Sprintf(format, args...)})
}

// result returns nil when nothing was recorded, else the *ValidationError.
func (v *validator) result() error {
	if len(v.err.Errors) == 0 {
		return nil
	}
	e := v.err
	return &e
}

var dns1123Subdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// name checks metadata.name is a DNS-1123 subdomain (Calico's rule for most
// kinds) and, for namespaced kinds, that a namespace is set.
func (v *validator) name(meta *metav1.ObjectMeta, namespaced bool) {
	switch {
	case meta.Name == "":
		v.addf("metadata.name", "is required; set a lower-case DNS-1123 name such as \"my-resource\"")
	case len(meta.Name) > 253 || !dns1123Subdomain.MatchString(meta.Name):
		v.addf("metadata.name", "%q is not a valid name; use lower-case letters, digits, '-' and '.', starting and ending with a letter or digit (DNS-1123 subdomain, at most 253 characters)", meta.Name)
	}
	if namespaced && meta.Namespace != "" && !dns1123Label.MatchString(meta.Namespace) {
		v.addf("metadata.namespace", "%q is not a valid namespace; use a DNS-1123 label (lower-case letters, digits and '-')", meta.Namespace)
	}
	if !namespaced && meta.Namespace != "" {
		v.addf("metadata.namespace", "must be empty: %s is cluster-scoped; remove the namespace", v.err.Kind)
	}
}

var dns1123Label = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// cidr parses s as a CIDR and checks it is the network address.
// It returns nil (after recording the error) if it is not usable.
func (v *validator) cidr(field, s string) *net.IPNet {
	ip, n, err := net.ParseCIDR(s)
	if err != nil {
		v.addf(field, "%q is not a valid CIDR; write it as address/prefix-length, e.g. 10.244.0.0/16 or fd00:10:244::/64", s)
		return nil
	}
	if !ip.Equal(n.IP) {
		v.addf(field, "%q has host bits set; use the network address %s", s, n.String())
		return nil
	}
	return n
}

// IsIPv4Net reports whether n is an IPv4 network.
func IsIPv4Net(n *net.IPNet) bool { return n.IP.To4() != nil }

// parseCIDR is net.ParseCIDR; named so callers read as intent.
func parseCIDR(s string) (net.IP, *net.IPNet, error) { return net.ParseCIDR(s) }

// indexed renders a list element's field path, e.g. "spec.allowedUses[2]".
func indexed(field string, i int) string { return fmt.Sprintf("%s[%d]", field, i) }
