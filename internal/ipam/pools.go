package ipam

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/selector"
)

// pool is an IPPool as IPAM sees it.
type pool struct {
	name      string
	cidr      netip.Prefix
	blockSize int
	disabled  bool
	selector  string
	uses      []string
	manual    bool
}

func (p pool) ref() string { return poolRef{p.name, p.cidr.String()}.String() }

func (p pool) allows(u Use) bool {
	if len(p.uses) == 0 { // Calico's default: Workload and Tunnel.
		return u == UseWorkload || u == UseTunnel
	}
	return slices.Contains(p.uses, string(u))
}

// listPools reads every IPPool; pools that cannot be parsed are skipped
// with a warning (validation keeps them out; a hand-edited store may not).
func (m *IPAM) listPools(ctx context.Context) ([]pool, error) {
	l, err := m.st.List(ctx, datastore.ListOptions{Kind: kindIPPool})
	if err != nil {
		return nil, fmt.Errorf("list IP pools: %w", err)
	}
	var out []pool
	for i := range l.Items {
		var o ipPool
		if err := decode(&l.Items[i], &o); err != nil {
			m.log.Warn("ipam: skipping unreadable IP pool", "err", err)
			continue
		}
		cidr, err := parsePrefix(o.Spec.CIDR)
		if err != nil {
			m.log.Warn("ipam: skipping IP pool with invalid CIDR", "pool", o.Name, "err", err)
			continue
		}
		bs := o.Spec.BlockSize
		if bs == 0 {
			bs = 26
			if cidr.Addr().Is6() {
				bs = 122
			}
		}
		if bs < cidr.Bits() || bs > cidr.Addr().BitLen() || cidr.Addr().BitLen()-bs > maxBlockHostBits {
			m.log.Warn("ipam: skipping IP pool with unusable block size", "pool", o.Name, "cidr", cidr.String(), "blockSize", bs)
			continue
		}
		out = append(out, pool{
			name: o.Name, cidr: cidr, blockSize: bs, disabled: o.Spec.Disabled,
			selector: o.Spec.NodeSelector, uses: o.Spec.AllowedUses,
			manual: o.Spec.AssignmentMode != nil && *o.Spec.AssignmentMode == "Manual",
		})
	}
	return out, nil
}

// poolFor returns the pool containing addr (enabled or not).
func poolFor(pools []pool, addr netip.Addr) (pool, bool) {
	for _, p := range pools {
		if p.cidr.Contains(addr) {
			return p, true
		}
	}
	return pool{}, false
}

// nodeLabels reads the labels of a Node; a node that is not (yet)
// registered has none, so only pools selecting all() match it.
func (m *IPAM) nodeLabels(ctx context.Context, name string) (map[string]string, error) {
	kv, err := m.st.Get(ctx, key(kindNode, name))
	if errors.Is(err, datastore.ErrNotFound) {
		m.log.Debug("ipam: node not registered; matching pool selectors against no labels", "node", name)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read node %q for pool selection: %w", name, err)
	}
	var n node
	if err := decode(kv, &n); err != nil {
		return nil, err
	}
	return n.Labels, nil
}

// selectsNode evaluates a pool's nodeSelector against node labels.
func selectsNode(p pool, labels map[string]string) (bool, error) {
	s := strings.TrimSpace(p.selector)
	if s == "" || s == "all()" {
		return true, nil
	}
	sel, err := selector.Parse(s)
	if err != nil {
		return false, fmt.Errorf("ippool %q: spec.nodeSelector: %v", p.name, err)
	}
	return sel.Evaluate(labels), nil
}

// choosePools returns the pools a request of family for node may use.
// Requested pools (CNI ipv4_pools/ipv6_pools or the pod/namespace
// annotations; names or CIDRs) are used as given, ignoring nodeSelector as
// Calico does, but must exist, be enabled and allow the use. Otherwise every
// enabled, automatic pool of the family whose nodeSelector matches the node
// and whose allowedUses include the use qualifies.
// The pools and the node's labels come from the request's view.
func (m *IPAM) choosePools(v *view, fam int, requested []string, nodeName string, use Use) ([]pool, error) {
	all := v.pools
	if len(requested) > 0 {
		var out []pool
		for _, r := range requested {
			p, err := findRequestedPool(all, r)
			if err != nil {
				return nil, err
			}
			if family(p.cidr.Addr()) != fam {
				return nil, fmt.Errorf("ippool %s was requested for IPv%d but is an IPv%d pool; list it under ipv%d_pools", p.ref(), fam, family(p.cidr.Addr()), family(p.cidr.Addr()))
			}
			if p.disabled {
				return nil, fmt.Errorf("ippool %s was requested but is disabled; enable it (spec.disabled: false) or request another pool", p.ref())
			}
			if !p.allows(use) {
				return nil, fmt.Errorf("ippool %s was requested but its spec.allowedUses %v do not include %s", p.ref(), p.uses, use)
			}
			if !slices.ContainsFunc(out, func(x pool) bool { return x.name == p.name }) {
				out = append(out, p)
			}
		}
		return out, nil
	}
	labels := v.labels
	var out []pool
	var skipped []string
	for _, p := range all {
		if family(p.cidr.Addr()) != fam {
			continue
		}
		switch ok, err := selectsNode(p, labels); {
		case err != nil:
			m.log.Warn("ipam: skipping pool with invalid nodeSelector", "pool", p.name, "err", err)
			skipped = append(skipped, p.name+": invalid nodeSelector")
		case p.disabled:
			skipped = append(skipped, p.name+": disabled")
		case p.manual:
			skipped = append(skipped, p.name+": assignmentMode Manual")
		case !ok:
			skipped = append(skipped, p.name+": nodeSelector does not match")
		case !p.allows(use):
			skipped = append(skipped, p.name+": allowedUses excludes "+string(use))
		default:
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		d := "no pools of this family exist"
		if len(skipped) > 0 {
			d = "skipped " + strings.Join(skipped, "; ")
		}
		return nil, &NoPoolsError{Node: nodeName, Family: fam, Use: use, Detail: d}
	}
	return out, nil
}

// findRequestedPool resolves a pool given by name or CIDR.
func findRequestedPool(all []pool, r string) (pool, error) {
	r = strings.TrimSpace(r)
	for _, p := range all {
		if p.name == r {
			return p, nil
		}
	}
	if c, err := netip.ParsePrefix(r); err == nil {
		for _, p := range all {
			if p.cidr == c.Masked() {
				return p, nil
			}
		}
	}
	return pool{}, fmt.Errorf("requested IP pool %q does not exist; name an existing IPPool by metadata.name or spec.cidr (`calicoctl get ippools`)", r)
}

// poolRefs renders pools for errors.
func poolRefs(ps []pool) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ref()
	}
	return out
}

// listReservations reads every IPReservation's CIDRs (single addresses
// become /32 or /128).
func (m *IPAM) listReservations(ctx context.Context) (reservations, map[netip.Prefix]string, error) {
	l, err := m.st.List(ctx, datastore.ListOptions{Kind: kindIPReservation})
	if err != nil {
		return nil, nil, fmt.Errorf("list IP reservations: %w", err)
	}
	var out reservations
	names := map[netip.Prefix]string{}
	for i := range l.Items {
		var o ipReservation
		if err := decode(&l.Items[i], &o); err != nil {
			m.log.Warn("ipam: skipping unreadable IP reservation", "err", err)
			continue
		}
		for _, c := range o.Spec.ReservedCIDRs {
			p, err := parseCIDROrIP(c)
			if err != nil {
				m.log.Warn("ipam: skipping invalid reserved CIDR", "ipreservation", o.Name, "cidr", c)
				continue
			}
			out = append(out, p)
			names[p] = o.Name
		}
	}
	return out, names, nil
}

// parseCIDROrIP accepts "10.0.0.0/24" or "10.0.0.5".
func parseCIDROrIP(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		return parsePrefix(s)
	}
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}
