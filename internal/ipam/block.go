package ipam

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// block is one IPAMBlock as read from the store: its parsed CIDR, its spec
// and the revision a write must compare against. All methods mutate the
// in-memory spec only; nothing reaches the datastore until the caller's
// CAS update succeeds, so a failed write leaves no trace.
type block struct {
	cidr     netip.Prefix
	spec     *ipamBlockSpec
	meta     metav1.ObjectMeta
	revision string
	// partial marks a summary (listBlockSummaries): no attributes, never
	// written.
	partial bool
}

// clone returns a deep copy of b that shares nothing mutable with it (the
// *int, *string and time pointers inside are never written through).
func (b *block) clone() *block {
	s := *b.spec
	s.Allocations = slices.Clone(b.spec.Allocations)
	s.Unallocated = slices.Clone(b.spec.Unallocated)
	s.Attributes = slices.Clone(b.spec.Attributes)
	s.SequenceNumberForAllocation = maps.Clone(b.spec.SequenceNumberForAllocation)
	return &block{cidr: b.cidr, spec: &s, meta: b.meta, revision: b.revision}
}

// affinityFor renders the block affinity string of a node, "host:<node>".
func affinityFor(node string) string { return "host:" + node }

// newBlockSpec returns an empty block affine to node (or unaffine when node
// is empty). Its sequence number starts at the clock so a deleted and
// re-created block never repeats sequence numbers an old allocation held.
func newBlockSpec(cidr netip.Prefix, node string, now time.Time) *ipamBlockSpec {
	n := blockLen(cidr)
	s := &ipamBlockSpec{
		CIDR:                        cidr.String(),
		Allocations:                 make([]*int, n),
		Unallocated:                 make([]int, n),
		Attributes:                  []allocationAttribute{},
		SequenceNumber:              uint64(now.UnixNano()),
		SequenceNumberForAllocation: map[string]uint64{},
	}
	for i := range s.Unallocated {
		s.Unallocated[i] = i
	}
	if node != "" {
		a := affinityFor(node)
		t := metav1.NewTime(now)
		s.Affinity = &a
		s.AffinityClaimTime = &t
	}
	return s
}

// affineTo reports whether the block is affine to node.
func (b *block) affineTo(node string) bool {
	return b.spec.Affinity != nil && *b.spec.Affinity == affinityFor(node)
}

// affinityNode returns the node the block is affine to ("" if none).
func (b *block) affinityNode() string {
	if b.spec.Affinity == nil {
		return ""
	}
	a := *b.spec.Affinity
	if len(a) > 5 && a[:5] == "host:" {
		return a[5:]
	}
	return ""
}

// numFree counts free ordinals that are not reserved.
func (b *block) numFree(res reservations) int {
	if !res.overlaps(b.cidr) {
		return len(b.spec.Unallocated)
	}
	n := 0
	for _, o := range b.spec.Unallocated {
		if !res.contains(addrAt(b.cidr, o)) {
			n++
		}
	}
	return n
}

// full reports whether the block has no free ordinal and none cooling
// down: a property of its content alone, whatever the clock or the
// reservations say, so it holds for as long as the block is unchanged.
func (b *block) full() bool {
	if len(b.spec.Unallocated) > 0 {
		return false
	}
	for _, a := range b.spec.Attributes {
		if a.ReleasedAt != nil {
			return false
		}
	}
	return true
}

// inUse counts taken ordinals, including released ones still cooling down.
func (b *block) inUse() int {
	n := 0
	for _, a := range b.spec.Allocations {
		if a != nil {
			n++
		}
	}
	return n
}

// empty reports whether no ordinal is taken (cooling addresses count as
// taken: deleting the block would hand them out again at once).
func (b *block) empty() bool { return b.inUse() == 0 }

// attrAt returns the attribute of an ordinal, or nil when it is free.
func (b *block) attrAt(ordinal int) *allocationAttribute {
	idx := b.spec.Allocations[ordinal]
	if idx == nil || *idx < 0 || *idx >= len(b.spec.Attributes) {
		return nil
	}
	return &b.spec.Attributes[*idx]
}

// active reports whether an ordinal holds a live (not released) allocation.
func (b *block) active(ordinal int) bool {
	a := b.attrAt(ordinal)
	return a != nil && a.ReleasedAt == nil
}

// seqOf returns the sequence number recorded for an ordinal.
func (b *block) seqOf(ordinal int) uint64 {
	return b.spec.SequenceNumberForAllocation[strconv.Itoa(ordinal)]
}

// attrIndex finds an attribute with this handle and these secondary
// attributes, or appends one, and returns its index.
func (b *block) attrIndex(handle string, secondary map[string]string) int {
	for i, a := range b.spec.Attributes {
		if a.ReleasedAt == nil && ptrEq(a.HandleID, handle) && maps.Equal(a.Secondary, secondary) {
			return i
		}
	}
	var h *string
	if handle != "" {
		h = &handle
	}
	b.spec.Attributes = append(b.spec.Attributes, allocationAttribute{HandleID: h, Secondary: maps.Clone(secondary)})
	return len(b.spec.Attributes) - 1
}

func ptrEq(p *string, s string) bool {
	if p == nil {
		return s == ""
	}
	return *p == s
}

// take marks an ordinal allocated to attribute idx at the current sequence
// number.
func (b *block) take(ordinal, idx int) {
	i := idx
	b.spec.Allocations[ordinal] = &i
	if b.spec.SequenceNumberForAllocation == nil {
		b.spec.SequenceNumberForAllocation = map[string]uint64{}
	}
	b.spec.SequenceNumberForAllocation[strconv.Itoa(ordinal)] = b.spec.SequenceNumber
}

// autoAssign takes up to num free, unreserved ordinals in unallocated order
// and returns their addresses.
func (b *block) autoAssign(num int, handle string, secondary map[string]string, res reservations) []netip.Addr {
	var got []netip.Addr
	idx := -1
	keep := b.spec.Unallocated[:0:0]
	for i, o := range b.spec.Unallocated {
		if len(got) >= num {
			keep = append(keep, b.spec.Unallocated[i:]...)
			break
		}
		addr := addrAt(b.cidr, o)
		if res.contains(addr) {
			keep = append(keep, o)
			continue
		}
		if idx < 0 {
			idx = b.attrIndex(handle, secondary)
		}
		b.take(o, idx)
		got = append(got, addr)
	}
	b.spec.Unallocated = keep
	return got
}

// assign takes one specific address. It fails if the address is taken
// (including an address still cooling down after release).
func (b *block) assign(addr netip.Addr, handle string, secondary map[string]string) error {
	o, err := ordinalOf(b.cidr, addr)
	if err != nil {
		return err
	}
	if a := b.attrAt(o); a != nil {
		if a.ReleasedAt != nil {
			return &InUseError{IP: addr, Handle: "", CoolingDown: true}
		}
		h := ""
		if a.HandleID != nil {
			h = *a.HandleID
		}
		return &InUseError{IP: addr, Handle: h}
	}
	b.take(o, b.attrIndex(handle, secondary))
	b.spec.Unallocated = slices.DeleteFunc(b.spec.Unallocated, func(x int) bool { return x == o })
	return nil
}

// releaseResult is what one block's release did.
type releaseResult struct {
	// released are the addresses freed (or put into cooldown).
	released []netip.Addr
	// notAllocated are requested addresses that held no live allocation.
	notAllocated []netip.Addr
	// byHandle counts released addresses per handle.
	byHandle map[string]int
}

// release frees the given addresses. An option with a Handle or a
// SequenceNumber that does not match the stored allocation fails the whole
// call with a StaleReleaseError: the caller acted on old information and
// must not free what may now be someone else's address. With cooldown > 0
// the ordinals stay taken, marked released at now.
func (b *block) release(opts []ReleaseOptions, now time.Time, cooldown time.Duration) (releaseResult, error) {
	r := releaseResult{byHandle: map[string]int{}}
	var ordinals []int
	seen := map[int]bool{}
	for _, opt := range opts {
		o, err := ordinalOf(b.cidr, opt.Address)
		if err != nil {
			return releaseResult{}, err
		}
		if seen[o] {
			continue
		}
		seen[o] = true
		if !b.active(o) {
			r.notAllocated = append(r.notAllocated, opt.Address)
			continue
		}
		a := b.attrAt(o)
		h := ""
		if a.HandleID != nil {
			h = *a.HandleID
		}
		if opt.SequenceNumber != nil && *opt.SequenceNumber != b.seqOf(o) {
			return releaseResult{}, &StaleReleaseError{IP: opt.Address, Field: "sequence number",
				Requested: strconv.FormatUint(*opt.SequenceNumber, 10), Stored: strconv.FormatUint(b.seqOf(o), 10)}
		}
		if opt.Handle != "" && opt.Handle != h {
			return releaseResult{}, &StaleReleaseError{IP: opt.Address, Field: "handle", Requested: opt.Handle, Stored: h}
		}
		ordinals = append(ordinals, o)
		if h != "" {
			r.byHandle[h]++
		}
	}
	b.free(ordinals, now, cooldown)
	for _, o := range ordinals {
		r.released = append(r.released, addrAt(b.cidr, o))
	}
	return r, nil
}

// releaseByHandle frees every live allocation of handle (only those with
// sequence number seq, when given) and returns how many it freed.
func (b *block) releaseByHandle(handle string, seq *uint64, now time.Time, cooldown time.Duration) []netip.Addr {
	var ordinals []int
	for o := range b.spec.Allocations {
		a := b.attrAt(o)
		if a == nil || a.ReleasedAt != nil || !ptrEq(a.HandleID, handle) || handle == "" {
			continue
		}
		if seq != nil && *seq != b.seqOf(o) {
			continue
		}
		ordinals = append(ordinals, o)
	}
	b.free(ordinals, now, cooldown)
	out := make([]netip.Addr, len(ordinals))
	for i, o := range ordinals {
		out[i] = addrAt(b.cidr, o)
	}
	return out
}

// free returns ordinals to the unallocated list, or with a cooldown moves
// them to a "released at now" attribute so they stay taken for a while.
func (b *block) free(ordinals []int, now time.Time, cooldown time.Duration) {
	if len(ordinals) == 0 {
		return
	}
	if cooldown > 0 {
		// One released attribute per original attribute keeps handle and
		// pod attributes visible to `ipam show --ip` during the cooldown.
		moved := map[int]int{}
		t := metav1.NewTime(now)
		for _, o := range ordinals {
			old := *b.spec.Allocations[o]
			ni, ok := moved[old]
			if !ok {
				a := b.spec.Attributes[old]
				b.spec.Attributes = append(b.spec.Attributes, allocationAttribute{
					HandleID: a.HandleID, Secondary: maps.Clone(a.Secondary), ReleasedAt: &t})
				ni = len(b.spec.Attributes) - 1
				moved[old] = ni
			}
			v := ni
			b.spec.Allocations[o] = &v
		}
	} else {
		for _, o := range ordinals {
			b.spec.Allocations[o] = nil
			delete(b.spec.SequenceNumberForAllocation, strconv.Itoa(o))
			b.spec.Unallocated = append(b.spec.Unallocated, o)
		}
	}
	b.compactAttributes()
}

// deallocateExpired frees released ordinals whose cooldown has passed and
// returns how many it freed.
func (b *block) deallocateExpired(now time.Time, cooldown time.Duration) int {
	var ordinals []int
	for o := range b.spec.Allocations {
		a := b.attrAt(o)
		if a != nil && a.ReleasedAt != nil && now.Sub(a.ReleasedAt.Time) >= cooldown {
			ordinals = append(ordinals, o)
		}
	}
	b.free(ordinals, now, 0)
	return len(ordinals)
}

// compactAttributes drops attributes no allocation refers to and renumbers
// the rest, so the block never grows with churn.
func (b *block) compactAttributes() {
	used := make([]bool, len(b.spec.Attributes))
	for _, a := range b.spec.Allocations {
		if a != nil && *a >= 0 && *a < len(used) {
			used[*a] = true
		}
	}
	newIdx := make([]int, len(b.spec.Attributes))
	kept := b.spec.Attributes[:0:0]
	for i, a := range b.spec.Attributes {
		if used[i] {
			newIdx[i] = len(kept)
			kept = append(kept, a)
		}
	}
	if len(kept) == len(b.spec.Attributes) {
		return
	}
	b.spec.Attributes = kept
	for o, a := range b.spec.Allocations {
		if a != nil {
			v := newIdx[*a]
			b.spec.Allocations[o] = &v
		}
	}
}

// handleCounts counts live allocations per handle.
func (b *block) handleCounts() map[string]int {
	out := map[string]int{}
	for o := range b.spec.Allocations {
		if a := b.attrAt(o); a != nil && a.ReleasedAt == nil && a.HandleID != nil {
			out[*a.HandleID]++
		}
	}
	return out
}

// validate checks the internal consistency a corrupt or hand-edited block
// could break; IPAM refuses to write on top of such a block.
func (b *block) validate() error {
	n := blockLen(b.cidr)
	if len(b.spec.Allocations) != n {
		return fmt.Errorf("ipamblock %q: spec.allocations has %d entries; a %s block needs %d", blockName(b.cidr), len(b.spec.Allocations), b.cidr, n)
	}
	free := map[int]bool{}
	for _, o := range b.spec.Unallocated {
		if o < 0 || o >= n || free[o] || b.spec.Allocations[o] != nil {
			return fmt.Errorf("ipamblock %q: spec.unallocated lists ordinal %d which is out of range, repeated or allocated; repair with `calicoctl ipam check`", blockName(b.cidr), o)
		}
		free[o] = true
	}
	for o, a := range b.spec.Allocations {
		if a == nil && !free[o] {
			return fmt.Errorf("ipamblock %q: ordinal %d is neither allocated nor in spec.unallocated; repair with `calicoctl ipam check`", blockName(b.cidr), o)
		}
		if a != nil && (*a < 0 || *a >= len(b.spec.Attributes)) {
			return fmt.Errorf("ipamblock %q: ordinal %d refers to attribute %d of %d", blockName(b.cidr), o, *a, len(b.spec.Attributes))
		}
	}
	return nil
}
