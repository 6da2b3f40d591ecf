package v3

// networkKinds lists the networking and IPAM kinds.
func networkKinds() []KindInfo {
	return []KindInfo{
		{Kind: KindIPPool, Plural: "ippools", Aliases: []string{"ippool", "ipp", "ipps", "pool", "pools"},
			New: func() Resource { return NewIPPool() }, NewList: func() ResourceList { return NewIPPoolList() }},
	}
}
