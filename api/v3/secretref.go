package v3

// SecretKeySelector names one key of a Kubernetes Secret. It is encoded
// exactly like k8s.io/api/core/v1.SecretKeySelector; we keep our own copy so
// api/v3 does not depend on k8s.io/api.
type SecretKeySelector struct {
	// Name is the Secret's name (in calico-node's namespace).
	Name string `json:"name,omitempty"`
	// Key is the key within the Secret.
	Key string `json:"key"`
	// Optional allows the Secret or key to be missing.
	Optional *bool `json:"optional,omitempty"`
}

// BGPPassword says where a BGP session's MD5 password comes from.
type BGPPassword struct {
	// SecretKeyRef reads the password from a Secret key.
	SecretKeyRef *SecretKeySelector `json:"secretKeyRef,omitempty"`
}

// validate checks the secret reference names a secret and key.
func (p *BGPPassword) validate(v *validator, field string) {
	if p == nil || p.SecretKeyRef == nil {
		return
	}
	if p.SecretKeyRef.Name == "" {
		v.addf(field+".secretKeyRef.name", "is required; name the Secret holding the password")
	}
	if p.SecretKeyRef.Key == "" {
		v.addf(field+".secretKeyRef.key", "is required; name the key within the Secret")
	}
}
