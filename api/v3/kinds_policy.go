package v3

// policyKinds lists the policy and endpoint kinds.
func policyKinds() []KindInfo {
	return []KindInfo{}
}
