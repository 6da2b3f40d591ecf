package ipam

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// ErrNoSuchAllocation is wrapped by errors about an address or handle that
// holds nothing.
var ErrNoSuchAllocation = errors.New("no such allocation")

// poolRef names a pool in an error: `"pool-a" (10.0.0.0/24)`.
type poolRef struct{ Name, CIDR string }

func (p poolRef) String() string { return fmt.Sprintf("%q (%s)", p.Name, p.CIDR) }

// ExhaustedError says no address could be found for a node in the pools it
// may use. Nothing was allocated by the failing request.
type ExhaustedError struct {
	// Node is the node the request was for.
	Node string
	// Family is 4 or 6.
	Family int
	// Pools are the pools that were tried.
	Pools []string
	// Wanted and Available are the requested count and what was found.
	Wanted, Available int
	// Reason says which rule stopped the search (strictAffinity,
	// maxBlocksPerHost, autoAllocateBlocks off), if one did.
	Reason string
}

func (e *ExhaustedError) Error() string {
	msg := fmt.Sprintf("no IP addresses available in pool(s) [%s] for node %q: wanted %d IPv%d address(es), found %d",
		strings.Join(e.Pools, ", "), e.Node, e.Wanted, e.Family, e.Available)
	if e.Reason != "" {
		msg += "; " + e.Reason
	}
	return msg + "; add or enlarge an IPPool, or release unused addresses (`calicoctl ipam check` finds leaks)"
}

// NoPoolsError says no enabled pool may serve the request.
type NoPoolsError struct {
	Node   string
	Family int
	Use    Use
	Detail string
}

func (e *NoPoolsError) Error() string {
	msg := fmt.Sprintf("no enabled IPv%d IPPool can allocate %s addresses for node %q", e.Family, strings.ToLower(string(e.Use)), e.Node)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg + "; create an IPPool, or check its disabled, nodeSelector, allowedUses and assignmentMode fields"
}

// NotInPoolError says a requested address lies outside every enabled pool.
type NotInPoolError struct{ IP netip.Addr }

func (e *NotInPoolError) Error() string {
	return fmt.Sprintf("IP %s is not in any enabled IPPool; request an address inside a pool (`calicoctl get ippools`) or create a pool that covers it", e.IP)
}

// ReservedError says a requested address is held back by an IPReservation.
type ReservedError struct {
	IP          netip.Addr
	Reservation string
	CIDR        string
}

func (e *ReservedError) Error() string {
	return fmt.Sprintf("IP %s is reserved by ipreservation %q (%s); pick another address or remove it from spec.reservedCIDRs", e.IP, e.Reservation, e.CIDR)
}

// InUseError says a requested address is already allocated.
type InUseError struct {
	IP          netip.Addr
	Handle      string
	CoolingDown bool
}

func (e *InUseError) Error() string {
	if e.CoolingDown {
		return fmt.Sprintf("IP %s was released recently and is cooling down (ipCooldownSeconds); wait or pick another address", e.IP)
	}
	return fmt.Sprintf("IP %s is already in use (handle %q); pick another address or release it first (`calicoctl ipam release --ip %s`)", e.IP, e.Handle, e.IP)
}

// StaleReleaseError says a release carried a handle or sequence number that
// no longer matches the allocation: the address has been released and
// reassigned since the caller looked, so nothing was released.
type StaleReleaseError struct {
	IP                netip.Addr
	Field             string
	Requested, Stored string
}

func (e *StaleReleaseError) Error() string {
	return fmt.Sprintf("refusing to release IP %s: %s %s does not match the current allocation's %s; the address was reassigned since it was read, re-read it (`calicoctl ipam show --ip %s`)",
		e.IP, e.Field, e.Requested, e.Stored, e.IP)
}

// BlocksExistError says a pool cannot be deleted while blocks remain in it.
type BlocksExistError struct {
	Pool   string
	Blocks []string
}

func (e *BlocksExistError) Error() string {
	return fmt.Sprintf("ippool %q still has %d IPAM block(s): %s; release their addresses and node affinities first (`calicoctl ipam show --show-blocks`)",
		e.Pool, len(e.Blocks), strings.Join(e.Blocks, ", "))
}

// errBlockClaimConflict says another node won the race for a block.
var errBlockClaimConflict = errors.New("block was claimed by another node")

// errRetriesExhausted is wrapped when a CAS loop gives up.
var errRetriesExhausted = errors.New("gave up after repeated concurrent modifications")
