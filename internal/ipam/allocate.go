package ipam

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"net/netip"
	"slices"
	"time"

	"github.com/tricolor-net/tricolor/internal/datastore"
)

// Allocation attribute keys (Calico's names).
const (
	AttrNamespace = "namespace"
	AttrPod       = "pod"
	AttrNode      = "node"
	AttrTimestamp = "timestamp"
	AttrType      = "type"
)

// Handle ID forms Calico uses.
const (
	// WorkloadHandlePrefix + container ID is a pod's handle.
	WorkloadHandlePrefix = "k8s-pod-network."
)

// TunnelHandle returns the handle of a node's tunnel address: kind is
// "ipip", "vxlan" or "wireguard" ("ipip-tunnel-addr-<node>", ...); the
// IPv6 VXLAN address uses kind "vxlan-v6".
func TunnelHandle(kind, node string) string { return kind + "-tunnel-addr-" + node }

// AutoAssignArgs is one request for automatically chosen addresses.
type AutoAssignArgs struct {
	// Num4 and Num6 are how many IPv4 and IPv6 addresses to assign. When
	// both are non-zero the request is dual-stack: both families or none.
	Num4, Num6 int
	// HandleID identifies the owner; release by handle frees them all.
	HandleID string
	// Attrs are stored with each allocation (namespace, pod, node, type…).
	Attrs map[string]string
	// Hostname is the node the addresses are for (required).
	Hostname string
	// IPv4Pools and IPv6Pools restrict the request to these pools (names or
	// CIDRs), from CNI ipv4_pools/ipv6_pools or the
	// cni.projectcalico.org/ipv4pools / ipv6pools annotations.
	IPv4Pools, IPv6Pools []string
	// IntendedUse is Workload (default) or Tunnel.
	IntendedUse Use
	// MaxBlocksPerHost, when > 0, overrides the configured cap.
	MaxBlocksPerHost int
}

// AssignedIP is one assigned address.
type AssignedIP struct {
	Addr netip.Addr
	// Block is the IPAM block holding it.
	Block netip.Prefix
	// Pool is the name of the pool it came from.
	Pool string
	// SequenceNumber identifies this allocation of the address; release it
	// with ReleaseOptions.SequenceNumber to never free a later allocation.
	SequenceNumber uint64
	// Borrowed is true when the block is affine to another node.
	Borrowed bool
}

// Assignment is the result for one address family.
type Assignment struct {
	IPs []AssignedIP
	// Pools are the pools that were eligible.
	Pools []string
}

// Addrs returns the assigned addresses.
func (a *Assignment) Addrs() []netip.Addr {
	if a == nil {
		return nil
	}
	out := make([]netip.Addr, len(a.IPs))
	for i, ip := range a.IPs {
		out[i] = ip.Addr
	}
	return out
}

// AutoAssign assigns Num4 IPv4 and Num6 IPv6 addresses to node
// args.Hostname. It fails without assigning anything if either family
// cannot be satisfied in full.
func (m *IPAM) AutoAssign(ctx context.Context, args AutoAssignArgs) (v4, v6 *Assignment, err error) {
	if args.Hostname == "" {
		return nil, nil, fmt.Errorf("auto-assign: hostname is empty; say which node the addresses are for")
	}
	if args.Num4 < 0 || args.Num6 < 0 || args.Num4+args.Num6 == 0 {
		return nil, nil, fmt.Errorf("auto-assign for node %q: asked for %d IPv4 and %d IPv6 addresses; ask for at least one, none negative", args.Hostname, args.Num4, args.Num6)
	}
	if args.IntendedUse == "" {
		args.IntendedUse = UseWorkload
	}
	attrs := maps.Clone(args.Attrs)
	if attrs == nil {
		attrs = map[string]string{}
	}
	if _, ok := attrs[AttrNode]; !ok {
		attrs[AttrNode] = args.Hostname
	}
	if _, ok := attrs[AttrTimestamp]; !ok {
		attrs[AttrTimestamp] = m.now().UTC().Format(time.RFC3339Nano)
	}
	req := &request{args: args, attrs: attrs}
	if req.view, err = m.loadView(ctx, args.Hostname); err != nil {
		return nil, nil, err
	}
	req.cfg, req.pools, req.res = req.view.cfg, req.view.pools, req.view.res
	if args.MaxBlocksPerHost > 0 {
		req.cfg.MaxBlocksPerHost = args.MaxBlocksPerHost
	}
	if args.Num4 > 0 {
		if v4, err = m.assignFamily(ctx, req, 4, args.Num4, args.IPv4Pools); err != nil {
			return nil, nil, err
		}
	}
	if args.Num6 > 0 {
		if v6, err = m.assignFamily(ctx, req, 6, args.Num6, args.IPv6Pools); err != nil {
			m.rollback(ctx, args.HandleID, v4)
			return nil, nil, fmt.Errorf("%w (the IPv4 addresses of this dual-stack request were released again)", err)
		}
	}
	return v4, v6, nil
}

// request is one AutoAssign's inputs, read once.
type request struct {
	args  AutoAssignArgs
	attrs map[string]string
	view  *view
	cfg   Config
	pools []pool
	res   reservations
}

// assignFamily runs the three phases for one family; on failure it
// releases whatever it had taken.
func (m *IPAM) assignFamily(ctx context.Context, req *request, fam, num int, requested []string) (_ *Assignment, err error) {
	node := req.args.Hostname
	pools, err := m.choosePools(req.view, fam, requested, node, req.args.IntendedUse)
	if err != nil {
		return nil, err
	}
	out := &Assignment{Pools: poolRefs(pools)}
	defer func() {
		if err != nil && !errors.Is(err, ErrKilled) {
			m.rollback(ctx, req.args.HandleID, out)
			out = nil
		}
	}()
	inPools := func(c netip.Prefix) bool {
		return slices.ContainsFunc(pools, func(p pool) bool { return p.cidr.Overlaps(c) })
	}
	add := func(ips []AssignedIP) {
		for i := range ips {
			if p, ok := poolFor(pools, ips[i].Addr); ok {
				ips[i].Pool = p.name
			}
		}
		out.IPs = append(out.IPs, ips...)
	}
	left := func() int { return num - len(out.IPs) }

	// Phase 1: the node's own blocks, lowest CIDR first — except that the
	// block this node last wrote goes first: it is the one most likely to
	// have room, and its remembered copy saves reading it.
	affs := slices.Clone(req.view.affs)
	slices.SortFunc(affs, func(a, b *affinity) int { return cmp.Compare(a.cidr.String(), b.cidr.String()) })
	last := m.lastBlock(node)
	if last != nil {
		if i := slices.IndexFunc(affs, func(a *affinity) bool { return a.cidr == last.cidr }); i > 0 {
			a := affs[i]
			copy(affs[1:i+1], affs[:i])
			affs[0] = a
		}
	}
	owned := 0
	for _, a := range affs {
		if family(a.cidr.Addr()) != fam {
			continue
		}
		owned++
		if left() == 0 || !inPools(a.cidr) || req.res.coversAll(a.cidr) || req.view.stillFull[a.cidr] {
			continue
		}
		var guess *block
		if last != nil && last.cidr == a.cidr && a.state() == affinityConfirmed {
			guess = last
		}
		ips, err := m.fromAffinity(ctx, req, a, guess, left())
		if err != nil {
			return nil, err
		}
		add(ips)
	}

	// Phase 2: claim new blocks.
	reason := ""
	for tries := 0; left() > 0; tries++ {
		if !req.cfg.AutoAllocateBlocks {
			reason = "autoAllocateBlocks is off, so no new block may be claimed"
			break
		}
		if req.cfg.MaxBlocksPerHost > 0 && owned >= req.cfg.MaxBlocksPerHost {
			reason = fmt.Sprintf("node already has maxBlocksPerHost=%d blocks", req.cfg.MaxBlocksPerHost)
			break
		}
		if tries >= m.tries {
			return nil, fmt.Errorf("claim a block for node %q: %w", node, errRetriesExhausted)
		}
		cidr, ok, err := m.findUsableBlock(ctx, node, pools, req.res)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		b, err := m.claimBlock(ctx, node, cidr)
		if retryable(err) {
			continue // lost a race for this block: look again
		}
		if err != nil {
			return nil, err
		}
		owned++
		ips, err := m.fromBlock(ctx, req, b, false, node, true, left())
		if err != nil {
			return nil, err
		}
		add(ips)
	}

	// Phase 3: borrow from blocks affine to other nodes.
	if left() > 0 && req.cfg.StrictAffinity {
		reason = joinReason(reason, "strictAffinity is true, so addresses may not be borrowed from other nodes' blocks")
	}
	if left() > 0 && !req.cfg.StrictAffinity {
		blocks, err := m.listBlocks(ctx)
		if err != nil {
			return nil, err
		}
		h := fnv.New32a()
		h.Write([]byte(node))
		var cands []*block
		for _, b := range blocks {
			if family(b.cidr.Addr()) == fam && inPools(b.cidr) && !b.affineTo(node) && b.numFree(req.res) > 0 {
				cands = append(cands, b)
			}
		}
		if len(cands) > 0 {
			// Start at a node-dependent block so borrowers spread out.
			r := int(h.Sum32() % uint32(len(cands)))
			cands = append(cands[r:], cands[:r]...)
		}
		for _, b := range cands {
			if left() == 0 {
				break
			}
			ips, err := m.fromBlock(ctx, req, b, false, node, false, left())
			if err != nil {
				return nil, err
			}
			for i := range ips {
				ips[i].Borrowed = true
			}
			add(ips)
		}
	}
	if left() > 0 {
		return nil, &ExhaustedError{Node: node, Family: fam, Pools: out.Pools, Wanted: num, Available: len(out.IPs), Reason: reason}
	}
	return out, nil
}

func joinReason(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// fromAffinity allocates from the block behind one of the node's
// affinities (as listed for this request). guess, when set, is the node's
// remembered copy of that block: it is tried without reading the block,
// and a stale copy costs one failed CAS.
func (m *IPAM) fromAffinity(ctx context.Context, req *request, a *affinity, guess *block, n int) ([]AssignedIP, error) {
	if guess != nil {
		return m.fromBlock(ctx, req, guess, true, a.node(), true, n)
	}
	var b *block
	cur := a
	err := m.retry(ctx, "load affine block "+a.cidr.String(), func() error {
		var err error
		b, err = m.affineBlock(ctx, cur)
		if errors.Is(err, datastore.ErrConflict) || errors.Is(err, datastore.ErrNotFound) {
			// The affinity changed since it was listed: re-read it.
			fresh, gerr := m.getAffinity(ctx, a.node(), a.cidr)
			if errors.Is(gerr, datastore.ErrNotFound) {
				b, cur = nil, nil
				return nil // released meanwhile
			}
			if gerr != nil {
				return gerr
			}
			cur = fresh
			return errStaleRead
		}
		return err
	})
	if err != nil || b == nil {
		return nil, err
	}
	return m.fromBlock(ctx, req, b, false, a.node(), true, n)
}

// fromBlock takes up to n addresses from b with CAS, re-reading and
// retrying on conflict. With affine set it only uses the block while it is
// affine to node. guessed says b is a remembered copy that may be stale: if
// it shows no room, the block is read afresh before giving up on it.
//
// The handle is incremented before the block is written, so it never
// undercounts; when a write loses a race the increment is kept for the
// next attempt on the same block and corrected (down) only by what that
// attempt needs, or returned when the block is given up.
func (m *IPAM) fromBlock(ctx context.Context, req *request, b *block, guessed bool, node string, affine bool, n int) (_ []AssignedIP, err error) {
	var out []AssignedIP
	cooldown := req.cfg.IPCooldown
	handle := req.args.HandleID
	cidr := b.cidr
	counted := 0 // what the handle counts for this block beyond what is written
	defer func() {
		if counted > 0 && !errors.Is(err, ErrKilled) {
			if uerr := m.adjustHandle(context.WithoutCancel(ctx), handle, cidr, -counted); uerr != nil {
				m.log.Warn("ipam: could not undo handle count after a failed block write; GC will repair it", "handle", handle, "block", cidr.String(), "err", uerr)
			}
		}
	}()
	fresh := !guessed
	first := true
	err = m.retry(ctx, "allocate from ipamblock "+blockName(cidr), func() error {
		if !first {
			cur, err := m.getBlock(ctx, cidr)
			if errors.Is(err, datastore.ErrNotFound) {
				m.forgetBlock(node, cidr)
				return nil
			}
			if err != nil {
				return err
			}
			b, fresh = cur, true
		}
		first = false
		if affine && !b.affineTo(node) {
			if !fresh {
				return errStaleRead
			}
			m.forgetBlock(node, cidr)
			return nil
		}
		b.deallocateExpired(m.now(), cooldown)
		addrs := b.autoAssign(n, handle, req.attrs, req.res)
		if len(addrs) == 0 {
			if !fresh {
				return errStaleRead // the copy may be out of date: look again
			}
			if affine && b.full() {
				m.recordFull(req.view, node, cidr)
			}
			return nil
		}
		if handle != "" && len(addrs) != counted {
			if err := m.adjustHandle(ctx, handle, cidr, len(addrs)-counted); err != nil {
				return err
			}
			counted = len(addrs)
		}
		if err := m.injected(FaultAfterHandleWrite); err != nil {
			return err
		}
		if err := m.updateBlock(ctx, b); err != nil {
			if errors.Is(err, datastore.ErrNotFound) {
				return errStaleRead
			}
			return err
		}
		counted = 0
		if affine {
			m.rememberBlock(node, b)
		}
		for _, a := range addrs {
			o, _ := ordinalOf(cidr, a)
			out = append(out, AssignedIP{Addr: a, Block: cidr, SequenceNumber: b.seqOf(o)})
		}
		return m.injected(FaultAfterBlockWrite)
	})
	return out, err
}

// findUsableBlock picks the next block to claim in pools: a block that
// does not exist yet, one already affine to node with room, or, when the
// pools are fully carved up, an empty block of another node claimed longer
// than EmptyBlockReclaimAge ago (released first, so it can be claimed).
func (m *IPAM) findUsableBlock(ctx context.Context, node string, pools []pool, res reservations) (netip.Prefix, bool, error) {
	blocks, err := m.listBlockSummaries(ctx)
	if err != nil {
		return netip.Prefix{}, false, err
	}
	exists := make(map[netip.Prefix]*block, len(blocks))
	for _, b := range blocks {
		exists[b.cidr] = b
	}
	var empties []*block
	for _, p := range pools {
		g := newBlockGenerator(p.cidr, p.blockSize, node)
		// Only existing or fully reserved blocks make us go on, so a free
		// block turns up within len(blocks)+reserved steps; the cap keeps a
		// huge IPv6 pool with a huge reservation from spinning.
		for steps := 0; steps < len(blocks)+1<<16; steps++ {
			cidr, ok := g.next()
			if !ok {
				break
			}
			if res.coversAll(cidr) {
				continue
			}
			b, ok := exists[cidr]
			if !ok {
				return cidr, true, nil
			}
			if b.affineTo(node) && b.numFree(res) > 0 {
				return cidr, true, nil
			}
			if b.empty() && b.numFree(res) > 0 {
				empties = append(empties, b)
			}
		}
	}
	now := m.now()
	for _, b := range empties {
		owner := b.affinityNode()
		if owner == "" {
			// Unowned and empty: delete it (CAS) so it can be claimed.
			if err := m.deleteBlock(ctx, b); err == nil || errors.Is(err, datastore.ErrNotFound) {
				return b.cidr, true, nil
			}
			continue
		}
		if b.spec.AffinityClaimTime != nil && now.Sub(b.spec.AffinityClaimTime.Time) < m.age {
			continue
		}
		a, err := m.getAffinity(ctx, owner, b.cidr)
		if errors.Is(err, datastore.ErrNotFound) {
			a = &affinity{cidr: b.cidr}
			a.obj.Name = affinityName(owner, b.cidr)
			a.obj.Spec.Node = owner
		} else if err != nil {
			continue
		}
		seq := b.spec.SequenceNumber
		if ok, err := m.releaseAffinity(ctx, a, true, &seq); err == nil && ok {
			m.log.Info("ipam: reclaimed empty block from another node", "node", node, "block", b.cidr.String(), "from", owner)
			return b.cidr, true, nil
		}
	}
	return netip.Prefix{}, false, nil
}

// rollback releases what a failed request had assigned, by sequence
// number so it can never free a later allocation of the same address.
func (m *IPAM) rollback(ctx context.Context, handleID string, a *Assignment) {
	if a == nil || len(a.IPs) == 0 {
		return
	}
	opts := make([]ReleaseOptions, len(a.IPs))
	for i, ip := range a.IPs {
		s := ip.SequenceNumber
		opts[i] = ReleaseOptions{Address: ip.Addr, Handle: handleID, SequenceNumber: &s}
	}
	// A rollback must not be cut short by the caller's cancelled context.
	ctx = context.WithoutCancel(ctx)
	if _, err := m.ReleaseIPs(ctx, opts...); err != nil {
		m.log.Warn("ipam: could not roll back a failed assignment; `calicoctl ipam check` will report the leak", "handle", handleID, "err", err)
	}
}
