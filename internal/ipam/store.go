package ipam

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tricolor-net/tricolor/internal/datastore"
)

// This file is IPAM's codec and typed access to its three kinds. Every
// write is a CAS: updates and deletes carry the revision they read.

func key(kind, name string) datastore.Key { return datastore.Key{Kind: kind, Name: name} }

func typeMeta(kind string) metav1.TypeMeta {
	return metav1.TypeMeta{Kind: kind, APIVersion: apiVersion}
}

func encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own plain structs are encoded here.
		panic(fmt.Sprintf("ipam: encode %T: %v", v, err))
	}
	return b
}

func decode(kv *datastore.KVPair, into any) error {
	if err := json.Unmarshal(kv.Value, into); err != nil {
		return fmt.Errorf("%s: stored value is not valid JSON for its kind: %v; delete or repair it", kv.Key, err)
	}
	return nil
}

// ---- blocks ----

func decodeBlock(kv *datastore.KVPair) (*block, error) {
	var o ipamBlock
	if err := decode(kv, &o); err != nil {
		return nil, err
	}
	cidr, err := parsePrefix(o.Spec.CIDR)
	if err != nil {
		return nil, fmt.Errorf("%s: spec.cidr: %v", kv.Key, err)
	}
	if cidr.Addr().BitLen()-cidr.Bits() > maxBlockHostBits {
		return nil, fmt.Errorf("%s: spec.cidr %s is larger than IPAM supports (at most %d addresses)", kv.Key, cidr, 1<<maxBlockHostBits)
	}
	b := &block{cidr: cidr, spec: &o.Spec, meta: o.ObjectMeta, revision: kv.Revision}
	if err := b.validate(); err != nil {
		return nil, err
	}
	return b, nil
}

func (b *block) kv() *datastore.KVPair {
	o := ipamBlock{TypeMeta: typeMeta(kindIPAMBlock), ObjectMeta: b.meta, Spec: *b.spec}
	o.Name = blockName(b.cidr)
	o.ResourceVersion = ""
	return &datastore.KVPair{Key: key(kindIPAMBlock, o.Name), Value: encode(&o), Revision: b.revision}
}

func (m *IPAM) getBlock(ctx context.Context, cidr netip.Prefix) (*block, error) {
	kv, err := m.st.Get(ctx, key(kindIPAMBlock, blockName(cidr)))
	if err != nil {
		return nil, err
	}
	return decodeBlock(kv)
}

func (m *IPAM) listBlocks(ctx context.Context) ([]*block, error) {
	l, err := m.st.List(ctx, datastore.ListOptions{Kind: kindIPAMBlock})
	if err != nil {
		return nil, fmt.Errorf("list IPAM blocks: %w", err)
	}
	out := make([]*block, 0, len(l.Items))
	for i := range l.Items {
		b, err := decodeBlock(&l.Items[i])
		if err != nil {
			m.log.Warn("ipam: skipping unreadable block", "key", l.Items[i].Key.String(), "err", err)
			continue
		}
		out = append(out, b)
	}
	return out, nil
}

// blockSummary is the part of an IPAMBlock that choosing a block to claim
// needs; decoding only this skips the attributes, which dominate the cost
// of decoding a full block.
type blockSummary struct {
	Spec struct {
		CIDR              string       `json:"cidr"`
		Affinity          *string      `json:"affinity,omitempty"`
		AffinityClaimTime *metav1.Time `json:"affinityClaimTime,omitempty"`
		Allocations       []*int       `json:"allocations"`
		Unallocated       []int        `json:"unallocated"`
		SequenceNumber    uint64       `json:"sequenceNumber"`
	} `json:"spec"`
}

// listBlockSummaries lists every block, decoding only what block choice
// needs. The blocks it returns are partial: they answer affineTo,
// affinityNode, numFree and empty, and may be deleted by revision, but
// must never be written (updateBlock refuses them).
func (m *IPAM) listBlockSummaries(ctx context.Context) ([]*block, error) {
	l, err := m.st.List(ctx, datastore.ListOptions{Kind: kindIPAMBlock})
	if err != nil {
		return nil, fmt.Errorf("list IPAM blocks: %w", err)
	}
	out := make([]*block, 0, len(l.Items))
	for i := range l.Items {
		var o blockSummary
		if err := decode(&l.Items[i], &o); err != nil {
			m.log.Warn("ipam: skipping unreadable block", "key", l.Items[i].Key.String(), "err", err)
			continue
		}
		cidr, err := parsePrefix(o.Spec.CIDR)
		if err != nil || len(o.Spec.Allocations) != blockLen(cidr) {
			m.log.Warn("ipam: skipping unreadable block", "key", l.Items[i].Key.String(), "cidr", o.Spec.CIDR)
			continue
		}
		spec := &ipamBlockSpec{CIDR: o.Spec.CIDR, Affinity: o.Spec.Affinity, AffinityClaimTime: o.Spec.AffinityClaimTime,
			Allocations: o.Spec.Allocations, Unallocated: o.Spec.Unallocated, SequenceNumber: o.Spec.SequenceNumber}
		out = append(out, &block{cidr: cidr, spec: spec, revision: l.Items[i].Revision, partial: true})
	}
	return out, nil
}

// createBlock stores a new block; ErrAlreadyExists if someone was first.
func (m *IPAM) createBlock(ctx context.Context, b *block) (*block, error) {
	b.meta = metav1.ObjectMeta{Name: blockName(b.cidr), CreationTimestamp: metav1.NewTime(m.now())}
	b.revision = ""
	kv, err := m.st.Create(ctx, b.kv())
	if err != nil {
		return nil, err
	}
	b.revision = kv.Revision
	return b, nil
}

// updateBlock writes b if nobody else wrote it since it was read, bumping
// its sequence number.
func (m *IPAM) updateBlock(ctx context.Context, b *block) error {
	if b.partial {
		// Writing a summary would drop the block's attributes.
		panic("ipam: updateBlock called with a partially decoded block " + blockName(b.cidr))
	}
	b.spec.SequenceNumber++
	kv, err := m.st.Update(ctx, b.kv())
	if err != nil {
		b.spec.SequenceNumber--
		return err
	}
	b.revision = kv.Revision
	return nil
}

func (m *IPAM) deleteBlock(ctx context.Context, b *block) error {
	_, err := m.st.Delete(ctx, key(kindIPAMBlock, blockName(b.cidr)), b.revision)
	return err
}

// ---- affinities ----

// affinity is one BlockAffinity as read from the store.
type affinity struct {
	cidr     netip.Prefix
	obj      blockAffinity
	revision string
}

func (a *affinity) node() string  { return a.obj.Spec.Node }
func (a *affinity) state() string { return a.obj.Spec.State }

func decodeAffinity(kv *datastore.KVPair) (*affinity, error) {
	a := &affinity{revision: kv.Revision}
	if err := decode(kv, &a.obj); err != nil {
		return nil, err
	}
	cidr, err := parsePrefix(a.obj.Spec.CIDR)
	if err != nil {
		return nil, fmt.Errorf("%s: spec.cidr: %v", kv.Key, err)
	}
	a.cidr = cidr
	return a, nil
}

func (a *affinity) kv() *datastore.KVPair {
	o := a.obj
	o.TypeMeta = typeMeta(kindBlockAffinity)
	o.ResourceVersion = ""
	return &datastore.KVPair{Key: key(kindBlockAffinity, o.Name), Value: encode(&o), Revision: a.revision}
}

func (m *IPAM) getAffinity(ctx context.Context, node string, cidr netip.Prefix) (*affinity, error) {
	kv, err := m.st.Get(ctx, key(kindBlockAffinity, affinityName(node, cidr)))
	if err != nil {
		return nil, err
	}
	return decodeAffinity(kv)
}

// listAffinities lists the affinities of node, or of every node when node
// is empty.
func (m *IPAM) listAffinities(ctx context.Context, node string) ([]*affinity, error) {
	opts := datastore.ListOptions{Kind: kindBlockAffinity}
	if node != "" {
		opts.NamePrefix = node + "-"
	}
	l, err := m.st.List(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("list block affinities: %w", err)
	}
	var out []*affinity
	for i := range l.Items {
		a, err := decodeAffinity(&l.Items[i])
		if err != nil {
			m.log.Warn("ipam: skipping unreadable block affinity", "key", l.Items[i].Key.String(), "err", err)
			continue
		}
		// The name prefix of "node-1" also matches "node-1-a"'s affinities.
		if node != "" && a.node() != node {
			continue
		}
		out = append(out, a)
	}
	return out, nil
}

func (m *IPAM) createAffinity(ctx context.Context, node string, cidr netip.Prefix, state string) (*affinity, error) {
	a := &affinity{cidr: cidr}
	a.obj.Name = affinityName(node, cidr)
	a.obj.CreationTimestamp = metav1.NewTime(m.now())
	a.obj.Spec = blockAffinitySpec{State: state, Node: node, CIDR: cidr.String()}
	kv, err := m.st.Create(ctx, a.kv())
	if err != nil {
		return nil, err
	}
	a.revision = kv.Revision
	return a, nil
}

func (m *IPAM) updateAffinity(ctx context.Context, a *affinity, state string) error {
	old := a.obj.Spec.State
	a.obj.Spec.State = state
	kv, err := m.st.Update(ctx, a.kv())
	if err != nil {
		a.obj.Spec.State = old
		return err
	}
	a.revision = kv.Revision
	return nil
}

func (m *IPAM) deleteAffinity(ctx context.Context, a *affinity) error {
	_, err := m.st.Delete(ctx, key(kindBlockAffinity, a.obj.Name), a.revision)
	return err
}

// ---- handles ----

// handle is one IPAMHandle as read from the store.
type handle struct {
	obj      ipamHandle
	revision string
}

func decodeHandle(kv *datastore.KVPair) (*handle, error) {
	h := &handle{revision: kv.Revision}
	if err := decode(kv, &h.obj); err != nil {
		return nil, err
	}
	if h.obj.Spec.Block == nil {
		h.obj.Spec.Block = map[string]int{}
	}
	return h, nil
}

func (h *handle) kv() *datastore.KVPair {
	o := h.obj
	o.TypeMeta = typeMeta(kindIPAMHandle)
	o.ResourceVersion = ""
	return &datastore.KVPair{Key: key(kindIPAMHandle, o.Name), Value: encode(&o), Revision: h.revision}
}

func (m *IPAM) getHandle(ctx context.Context, id string) (*handle, error) {
	kv, err := m.st.Get(ctx, key(kindIPAMHandle, handleName(id)))
	if err != nil {
		return nil, err
	}
	return decodeHandle(kv)
}

func (m *IPAM) listHandles(ctx context.Context) ([]*handle, error) {
	l, err := m.st.List(ctx, datastore.ListOptions{Kind: kindIPAMHandle})
	if err != nil {
		return nil, fmt.Errorf("list IPAM handles: %w", err)
	}
	var out []*handle
	for i := range l.Items {
		h, err := decodeHandle(&l.Items[i])
		if err != nil {
			m.log.Warn("ipam: skipping unreadable handle", "key", l.Items[i].Key.String(), "err", err)
			continue
		}
		out = append(out, h)
	}
	return out, nil
}

// adjustHandle adds delta to handle id's count for block cidr, creating the
// handle on the first allocation and deleting it when its last count goes.
// Handles are written before allocations and after releases, so a handle
// always counts at least what the blocks hold for it (docs/ipam.md).
func (m *IPAM) adjustHandle(ctx context.Context, id string, cidr netip.Prefix, delta int) error {
	_, err := m.adjustKnownHandle(ctx, id, cidr, delta, nil)
	return err
}

// adjustKnownHandle is adjustHandle starting from known, the handle as the
// caller last read it (nil: read it), which saves a read when nobody wrote
// the handle since; a stale known only costs a failed CAS. It reports
// whether it deleted the handle.
func (m *IPAM) adjustKnownHandle(ctx context.Context, id string, cidr netip.Prefix, delta int, known *handle) (deleted bool, _ error) {
	if id == "" || delta == 0 {
		return false, nil
	}
	c := cidr.String()
	// Most increments are a new handle's first (a pod's first address):
	// try the create first and read only when the handle already exists.
	tryCreate := delta > 0 && known == nil
	return deleted, m.retry(ctx, "update ipamhandle "+id, func() error {
		if tryCreate {
			h := &handle{}
			h.obj.Name = handleName(id)
			h.obj.CreationTimestamp = metav1.NewTime(m.now())
			h.obj.Spec = ipamHandleSpec{HandleID: id, Block: map[string]int{c: delta}}
			_, err := m.st.Create(ctx, h.kv())
			if !errors.Is(err, datastore.ErrAlreadyExists) {
				return err
			}
		}
		h, err := known, error(nil)
		if h != nil {
			// Used once: a retry reads afresh. Copy the map, the caller's
			// handle stays as it read it.
			cp := *h
			cp.obj.Spec.Block = maps.Clone(h.obj.Spec.Block)
			h, known = &cp, nil
		} else {
			h, err = m.getHandle(ctx, id)
		}
		if errors.Is(err, datastore.ErrNotFound) {
			if delta < 0 {
				m.log.Warn("ipam: releasing from a handle that does not exist", "handle", id, "block", c)
				return nil
			}
			tryCreate = true
			return errStaleRead // deleted since the create failed: create again
		}
		if err != nil {
			return err
		}
		tryCreate = false
		n := h.obj.Spec.Block[c] + delta
		if n <= 0 {
			if n < 0 {
				m.log.Warn("ipam: handle counted fewer allocations than released", "handle", id, "block", c, "count", n-delta, "released", -delta)
			}
			delete(h.obj.Spec.Block, c)
		} else {
			h.obj.Spec.Block[c] = n
		}
		if len(h.obj.Spec.Block) == 0 {
			_, err = m.st.Delete(ctx, key(kindIPAMHandle, h.obj.Name), h.revision)
			if errors.Is(err, datastore.ErrNotFound) {
				return errStaleRead
			}
			deleted = err == nil
			return err
		}
		_, err = m.st.Update(ctx, h.kv())
		if errors.Is(err, datastore.ErrNotFound) {
			tryCreate = delta > 0
			return errStaleRead
		}
		return err
	})
}

// nowTime is m.now as a metav1.Time.
func (m *IPAM) nowTime() metav1.Time { return metav1.NewTime(m.now()) }

var _ = time.Second
