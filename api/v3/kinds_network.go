package v3

// networkKinds lists the networking, IPAM and configuration kinds, with the
// resource-type names calicoctl accepts for each (case-insensitive; the kind
// and plural lower-cased are implied). calicoctl does not manage the IPAM
// kinds (IPAMBlock, BlockAffinity, IPAMHandle); they get only their singular.
func networkKinds() []KindInfo {
	return []KindInfo{
		{Kind: KindIPPool, Plural: "ippools", Aliases: []string{"ippool", "ipp", "ipps", "pool", "pools"},
			New: func() Resource { return NewIPPool() }, NewList: func() ResourceList { return NewIPPoolList() }},
		{Kind: KindIPReservation, Plural: "ipreservations", Aliases: []string{"ipreservation", "reservation", "reservations"},
			New: func() Resource { return NewIPReservation() }, NewList: func() ResourceList { return NewIPReservationList() }},
		{Kind: KindIPAMConfiguration, Plural: "ipamconfigurations", Aliases: []string{"ipamconfiguration", "ipamconfig", "ipamconfigs"},
			New: func() Resource { return NewIPAMConfiguration() }, NewList: func() ResourceList { return NewIPAMConfigurationList() }},
		{Kind: KindBGPConfiguration, Plural: "bgpconfigurations", Aliases: []string{"bgpconfiguration", "bgpconfig", "bgpconfigs"},
			New: func() Resource { return NewBGPConfiguration() }, NewList: func() ResourceList { return NewBGPConfigurationList() }},
		{Kind: KindBGPPeer, Plural: "bgppeers", Aliases: []string{"bgppeer", "bgpp", "bgpps", "bp", "bps"},
			New: func() Resource { return NewBGPPeer() }, NewList: func() ResourceList { return NewBGPPeerList() }},
		{Kind: KindBGPFilter, Plural: "bgpfilters", Aliases: []string{"bgpfilter", "bgpf", "bgpfs", "bf", "bfs"},
			New: func() Resource { return NewBGPFilter() }, NewList: func() ResourceList { return NewBGPFilterList() }},
		{Kind: KindNode, Plural: "nodes", Aliases: []string{"node", "no", "nos"},
			New: func() Resource { return NewNode() }, NewList: func() ResourceList { return NewNodeList() }},
		{Kind: KindFelixConfiguration, Plural: "felixconfigurations", Aliases: []string{"felixconfiguration", "felixconfig", "felixconfigs"},
			New: func() Resource { return NewFelixConfiguration() }, NewList: func() ResourceList { return NewFelixConfigurationList() }},
		{Kind: KindKubeControllersConfiguration, Plural: "kubecontrollersconfigurations", Aliases: []string{"kubecontrollersconfiguration", "kubecontrollersconfig", "kubecontrollersconfigs"},
			New: func() Resource { return NewKubeControllersConfiguration() }, NewList: func() ResourceList { return NewKubeControllersConfigurationList() }},
		{Kind: KindClusterInformation, Plural: "clusterinformations", Aliases: []string{"clusterinformation", "clusterinfo", "clusterinfos"},
			New: func() Resource { return NewClusterInformation() }, NewList: func() ResourceList { return NewClusterInformationList() }},
		{Kind: KindCalicoNodeStatus, Plural: "caliconodestatuses", Aliases: []string{"caliconodestatus", "nodestatus", "nodestatuses"},
			New: func() Resource { return NewCalicoNodeStatus() }, NewList: func() ResourceList { return NewCalicoNodeStatusList() }},
		{Kind: KindIPAMBlock, Plural: "ipamblocks", Aliases: []string{"ipamblock"},
			New: func() Resource { return NewIPAMBlock() }, NewList: func() ResourceList { return NewIPAMBlockList() }},
		{Kind: KindBlockAffinity, Plural: "blockaffinities", Aliases: []string{"blockaffinity"},
			New: func() Resource { return NewBlockAffinity() }, NewList: func() ResourceList { return NewBlockAffinityList() }},
		{Kind: KindIPAMHandle, Plural: "ipamhandles", Aliases: []string{"ipamhandle"},
			New: func() Resource { return NewIPAMHandle() }, NewList: func() ResourceList { return NewIPAMHandleList() }},
	}
}
