package ctl

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// colFunc renders one table cell from a resource's JSON form.
type colFunc func(obj map[string]any) string

// kindColumns are a kind's ps (default) and wide headings, as calicoctl
// prints them, and how to render every heading it knows.
type kindColumns struct {
	Default []string
	Wide    []string
	Cells   map[string]colFunc
}

// commonCells are available for every kind.
var commonCells = map[string]colFunc{
	"NAME":      path("metadata.name"),
	"NAMESPACE": path("metadata.namespace"),
	"LABELS":    joined("metadata.labels"),
	"CREATED":   path("metadata.creationTimestamp"),
}

// policyColumns are shared by the (staged, global) network policy kinds.
var policyColumns = kindColumns{
	Default: []string{"NAME", "TIER"},
	Wide:    []string{"NAME", "TIER", "ORDER", "SELECTOR"},
	Cells: map[string]colFunc{
		"TIER":     orDefault("spec.tier", "default"),
		"ORDER":    path("spec.order"),
		"SELECTOR": path("spec.selector"),
	},
}

// columnsByKind is calicoctl's table layout per kind. Kinds missing here
// print NAME (with NAMESPACE for namespaced kinds when -n/-A is given).
var columnsByKind = map[string]kindColumns{
	"IPPool": {
		Default: []string{"NAME", "CIDR", "SELECTOR"},
		Wide:    []string{"NAME", "CIDR", "NAT", "IPIPMODE", "VXLANMODE", "DISABLED", "DISABLEBGPEXPORT", "SELECTOR"},
		Cells: map[string]colFunc{
			"CIDR":             path("spec.cidr"),
			"NAT":              boolean("spec.natOutgoing"),
			"IPIPMODE":         orDefault("spec.ipipMode", "Never"),
			"VXLANMODE":        orDefault("spec.vxlanMode", "Never"),
			"DISABLED":         boolean("spec.disabled"),
			"DISABLEBGPEXPORT": boolean("spec.disableBGPExport"),
			"SELECTOR":         path("spec.nodeSelector"),
			"BLOCKSIZE":        path("spec.blockSize"),
		},
	},
	"NetworkPolicy":             policyColumns,
	"GlobalNetworkPolicy":       policyColumns,
	"StagedNetworkPolicy":       policyColumns,
	"StagedGlobalNetworkPolicy": policyColumns,
	"Tier": {
		Default: []string{"NAME", "ORDER"},
		Wide:    []string{"NAME", "ORDER", "DEFAULTACTION"},
		Cells:   map[string]colFunc{"ORDER": path("spec.order"), "DEFAULTACTION": path("spec.defaultAction")},
	},
	"WorkloadEndpoint": {
		Default: []string{"WORKLOAD", "NODE", "NETWORKS", "INTERFACE"},
		Wide:    []string{"NAME", "WORKLOAD", "NODE", "NETWORKS", "INTERFACE", "PROFILES", "NATS"},
		Cells: map[string]colFunc{
			"WORKLOAD":     firstOf("spec.workload", "spec.pod"),
			"NODE":         path("spec.node"),
			"ORCHESTRATOR": path("spec.orchestrator"),
			"NETWORKS":     joined("spec.ipNetworks"),
			"NATS":         joined("spec.ipNATs"),
			"PROFILES":     joined("spec.profiles"),
			"INTERFACE":    path("spec.interfaceName"),
		},
	},
	"HostEndpoint": {
		Default: []string{"NAME", "NODE"},
		Wide:    []string{"NAME", "NODE", "INTERFACE", "IPS", "PROFILES"},
		Cells: map[string]colFunc{
			"NODE": path("spec.node"), "INTERFACE": path("spec.interfaceName"),
			"IPS": joined("spec.expectedIPs"), "PROFILES": joined("spec.profiles"),
		},
	},
	"Profile": {
		Default: []string{"NAME"},
		Wide:    []string{"NAME", "LABELS"},
		Cells:   map[string]colFunc{"LABELS": joined("spec.labelsToApply")},
	},
	"Node": {
		Default: []string{"NAME"},
		Wide:    []string{"NAME", "ASN", "IPV4", "IPV6"},
		Cells: map[string]colFunc{
			"ASN": orDefault("spec.bgp.asNumber", "(64512)"), "IPV4": path("spec.bgp.ipv4Address"), "IPV6": path("spec.bgp.ipv6Address"),
		},
	},
	"BGPPeer": {
		Default: []string{"NAME", "PEERIP", "NODE", "ASN"},
		Wide:    []string{"NAME", "PEERIP", "NODE", "ASN"},
		Cells: map[string]colFunc{
			"PEERIP": path("spec.peerIP"),
			"NODE": func(o map[string]any) string {
				if n := path("spec.node")(o); n != "" {
					return n
				}
				if s := path("spec.nodeSelector")(o); s != "" {
					return s
				}
				return "(global)"
			},
			"ASN": path("spec.asNumber"),
		},
	},
	"BGPConfiguration": {
		Default: []string{"NAME", "LOGSEVERITY", "MESHENABLED", "ASNUMBER"},
		Wide:    []string{"NAME", "LOGSEVERITY", "MESHENABLED", "ASNUMBER"},
		Cells: map[string]colFunc{
			"LOGSEVERITY": path("spec.logSeverityScreen"), "MESHENABLED": path("spec.nodeToNodeMeshEnabled"), "ASNUMBER": path("spec.asNumber"),
		},
	},
	"NetworkSet": {
		Default: []string{"NAME"}, Wide: []string{"NAME", "NETS"},
		Cells: map[string]colFunc{"NETS": joined("spec.nets")},
	},
	"GlobalNetworkSet": {
		Default: []string{"NAME"}, Wide: []string{"NAME", "NETS"},
		Cells: map[string]colFunc{"NETS": joined("spec.nets")},
	},
	"IPReservation": {
		Default: []string{"NAME"}, Wide: []string{"NAME", "CIDRS"},
		Cells: map[string]colFunc{"CIDRS": joined("spec.reservedCIDRs")},
	},
	"IPAMConfiguration": {
		Default: []string{"NAME"}, Wide: []string{"NAME", "STRICTAFFINITY", "MAXBLOCKSPERHOST"},
		Cells: map[string]colFunc{"STRICTAFFINITY": boolean("spec.strictAffinity"), "MAXBLOCKSPERHOST": path("spec.maxBlocksPerHost")},
	},
	"ClusterInformation": {
		Default: []string{"NAME"}, Wide: []string{"NAME", "CLUSTERGUID", "CLUSTERTYPE", "CALICOVERSION", "DATASTOREREADY"},
		Cells: map[string]colFunc{
			"CLUSTERGUID": path("spec.clusterGUID"), "CLUSTERTYPE": path("spec.clusterType"),
			"CALICOVERSION": path("spec.calicoVersion"), "DATASTOREREADY": path("spec.datastoreReady"),
		},
	},
}

// headingsFor returns the headings to print for a kind.
func headingsFor(kind string, wide, namespaced, printNamespace bool) []string {
	kc, ok := columnsByKind[kind]
	var hs []string
	switch {
	case !ok:
		hs = []string{"NAME"}
	case wide:
		hs = kc.Wide
	default:
		hs = kc.Default
	}
	if namespaced && printNamespace {
		hs = append([]string{"NAMESPACE"}, hs...)
	}
	return hs
}

// cellFor finds the renderer for a heading (case-insensitive).
func cellFor(kind, heading string) (colFunc, error) {
	h := strings.ToUpper(heading)
	if f, ok := columnsByKind[kind].Cells[h]; ok {
		return f, nil
	}
	if f, ok := commonCells[h]; ok {
		return f, nil
	}
	var names []string
	for n := range commonCells {
		names = append(names, n)
	}
	for n := range columnsByKind[kind].Cells {
		names = append(names, n)
	}
	sort.Strings(names)
	return nil, fmt.Errorf("unknown column %q for %s; available columns: %s", heading, kind, strings.Join(names, ", "))
}

// lookup follows a dotted path through a JSON map.
func lookup(obj map[string]any, p string) any {
	var cur any = obj
	for _, part := range strings.Split(p, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}

// path renders the value at p (empty when unset).
func path(p string) colFunc {
	return func(o map[string]any) string { return scalar(lookup(o, p)) }
}

// orDefault renders the value at p, or def when unset.
func orDefault(p, def string) colFunc {
	return func(o map[string]any) string {
		if s := scalar(lookup(o, p)); s != "" {
			return s
		}
		return def
	}
}

// boolean renders a bool that JSON omits when false.
func boolean(p string) colFunc {
	return func(o map[string]any) string {
		if b, ok := lookup(o, p).(bool); ok && b {
			return "true"
		}
		return "false"
	}
}

// firstOf renders the first non-empty of several paths.
func firstOf(ps ...string) colFunc {
	return func(o map[string]any) string {
		for _, p := range ps {
			if s := scalar(lookup(o, p)); s != "" {
				return s
			}
		}
		return ""
	}
}

// joined renders a list as "a,b" and a map as "k=v,k2=v2" (sorted).
func joined(p string) colFunc {
	return func(o map[string]any) string { return joinValue(lookup(o, p), ",", 0) }
}

// scalar renders a JSON scalar; integers print without an exponent.
func scalar(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		if x == float64(int64(x)) {
			return fmt.Sprintf("%d", int64(x))
		}
		return fmt.Sprintf("%g", x)
	case bool:
		return fmt.Sprintf("%t", x)
	}
	return fmt.Sprint(v)
}

// fieldsOfRes returns any object's JSON form as a map.
func fieldsOfRes(o any) map[string]any {
	b, err := json.Marshal(o)
	if err != nil {
		return nil
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}
