package node

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"reflect"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/node/autodetect"
)

// configureNode fills in the Node's addresses, AS number and orchestrator
// reference and writes it (CAS) when anything changed.
func configureNode(ctx context.Context, c *client.Client, cfg *Config, ifaces []autodetect.Interface, reach autodetect.ReachFunc, log *slog.Logger) (*v3.Node, error) {
	list := func() ([]autodetect.Interface, error) { return ifaces, nil }
	return updateNode(ctx, c, cfg.NodeName, func(n *v3.Node, exists bool) (bool, error) {
		before := n.DeepCopy()
		if cfg.Backend != BackendNone {
			if n.Spec.BGP == nil {
				n.Spec.BGP = &v3.NodeBGPSpec{}
			}
			internal := kubernetesInternalIPs(n)
			v4, err := nodeAddr(cfg.IPv4, "IP", autodetect.V4, n.Spec.BGP.IPv4Address, internal, list, reach, log)
			if err != nil {
				return false, err
			}
			v6, err := nodeAddr(cfg.IPv6, "IP6", autodetect.V6, n.Spec.BGP.IPv6Address, internal, list, reach, log)
			if err != nil {
				return false, err
			}
			if v4 == "" && v6 == "" {
				return false, fmt.Errorf("node %q: no IPv4 or IPv6 address configured or detected, required for Calico networking; set IP (or IP6) to autodetect or an address, or CALICO_NETWORKING_BACKEND=none for policy only", cfg.NodeName)
			}
			n.Spec.BGP.IPv4Address, n.Spec.BGP.IPv6Address = v4, v6
			if cfg.AS != nil {
				as := *cfg.AS
				n.Spec.BGP.ASNumber = &as
			}
			if !cfg.DisableNodeIPCheck && (v4 != bgpAddr(before, 4) || v6 != bgpAddr(before, 6)) {
				if err := checkConflictingNodes(ctx, c, n); err != nil {
					return false, err
				}
			}
		}
		if cfg.K8sNodeRef != "" {
			n.Spec.OrchRefs = []v3.OrchRef{{NodeName: cfg.K8sNodeRef, Orchestrator: "k8s"}}
		}
		if n.Spec.BGP != nil && reflect.DeepEqual(*n.Spec.BGP, v3.NodeBGPSpec{}) {
			n.Spec.BGP = nil
		}
		return !reflect.DeepEqual(before.Spec, n.Spec), nil
	})
}

// nodeAddr decides one family's address from its setting and the value
// already stored, with Calico's rules:
//
//   - autodetect (and, for IPv4 only, unset with nothing stored): detect;
//   - unset or none with a stored value: keep it;
//   - explicit: use it, taking the prefix length from the interface that
//     holds the address when none was given (else /32 or /128);
//   - IP6 unset: no IPv6 address (IPv6 is opt-in).
//
// internal are the Kubernetes Node's InternalIP addresses, which the
// kubernetes-internal-ip method uses.
func nodeAddr(s AddrSetting, varName string, fam autodetect.Family, stored string, internal []netip.Addr, list autodetect.ListFunc, reach autodetect.ReachFunc, log *slog.Logger) (string, error) {
	detect := s.Mode == AddrAutodetect || (fam == autodetect.V4 && s.Mode == AddrUnset && stored == "")
	switch {
	case detect && s.Method.Kind == autodetect.KubernetesInternalIP:
		p, err := detectKubernetesInternalIP(fam, internal, list)
		if err != nil {
			return "", fmt.Errorf("%s=autodetect: %w", varName, err)
		}
		log.Info("autodetected node address from the Kubernetes Node's InternalIP", "family", fam, "address", p)
		return p.String(), nil
	case detect:
		r, err := s.Method.Detect(fam, list, reach)
		if err != nil {
			return "", fmt.Errorf("%s=autodetect: %w", varName, err)
		}
		log.Info("autodetected node address", "family", fam, "method", s.Method.String(), "interface", r.Interface, "address", r.Addr)
		return r.Addr.String(), nil
	case s.Mode == AddrExplicit:
		p := s.Addr
		ifaces, err := list()
		if err != nil {
			return "", err
		}
		itf, local, found := autodetect.FindAddr(ifaces, p.Addr())
		if !s.HasPrefix && found {
			p = local
		}
		if !found {
			log.Warn("the configured address is not on any interface of this host", "variable", varName, "address", p.Addr())
		} else {
			log.Info("using node address from the environment", "variable", varName, "address", p, "interface", itf.Name)
		}
		return p.String(), nil
	}
	return stored, nil
}

// checkConflictingNodes refuses an address another Node already uses
// (DISABLE_NODE_IP_CHECK=true skips this), as Calico does.
func checkConflictingNodes(ctx context.Context, c *client.Client, n *v3.Node) error {
	nodes, _, err := client.List[*v3.Node](ctx, c, "")
	if err != nil {
		return fmt.Errorf("list nodes to check for address conflicts: %w", err)
	}
	for _, other := range nodes {
		if other.Name == n.Name {
			continue
		}
		for _, fam := range []int{4, 6} {
			ours, theirs := addrOnly(bgpAddr(n, fam)), addrOnly(bgpAddr(other, fam))
			if ours.IsValid() && ours == theirs {
				return fmt.Errorf("node %q: IPv%d address %s is already used by node %q; give this host another address (IP%s), fix the other node, or set DISABLE_NODE_IP_CHECK=true if this is intended",
					n.Name, fam, ours, other.Name, map[int]string{4: "", 6: "6"}[fam])
			}
		}
	}
	return nil
}

// addrOnly parses "a.b.c.d/nn" or "a.b.c.d" into the address.
func addrOnly(s string) netip.Addr {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Addr()
	}
	a, _ := netip.ParseAddr(s)
	return a
}

// kubernetesInternalIPs are the Node's addresses of type InternalIP: in the
// kubernetes datastore, the Kubernetes Node's status.addresses.
func kubernetesInternalIPs(n *v3.Node) []netip.Addr {
	var out []netip.Addr
	for _, a := range n.Spec.Addresses {
		if a.Type != v3.InternalIP {
			continue
		}
		if ip := addrOnly(a.Address); ip.IsValid() {
			out = append(out, ip)
		}
	}
	return out
}

// detectKubernetesInternalIP is Calico's kubernetes-internal-ip method: the
// first InternalIP of the family, with the prefix length of the host
// interface that holds it (/32 or /128 when no interface does).
func detectKubernetesInternalIP(fam autodetect.Family, internal []netip.Addr, list autodetect.ListFunc) (netip.Prefix, error) {
	ifaces, err := list()
	if err != nil {
		return netip.Prefix{}, err
	}
	for _, ip := range internal {
		if (fam == autodetect.V4) != ip.Unmap().Is4() {
			continue
		}
		if _, local, found := autodetect.FindAddr(ifaces, ip); found {
			return local, nil
		}
		return netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()), nil
	}
	return netip.Prefix{}, fmt.Errorf("kubernetes-internal-ip found no IPv%d InternalIP on the Kubernetes Node (status.addresses, reported by the kubelet): %w", fam, autodetect.ErrNeedsKubernetes)
}
