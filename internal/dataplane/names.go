package dataplane

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/tricolor-net/tricolor/internal/calc"
)

// TableName is the name of our nftables table (family inet: one table
// holds IPv4 and IPv6; sets come in an s4-/s6- pair per calc IP set).
const TableName = "calico"

// Names of the fixed chains, sets and maps. Per-object names are built by
// the functions below; every name is also the sweep rule: the whole table
// is ours, so anything in it that the desired state lacks is removed once
// the datastore is in sync.
const (
	chainPrerouting   = "filter-prerouting"
	chainForward      = "filter-forward"
	chainInput        = "filter-input"
	chainOutput       = "filter-output"
	chainRawPre       = "raw-prerouting"
	chainRawOut       = "raw-output"
	chainManglePre    = "mangle-prerouting"
	chainNATPost      = "nat-postrouting"
	chainFromWLDisp   = "from-wl-dispatch"
	chainToWLDisp     = "to-wl-dispatch"
	chainHostToWLDisp = "host-to-wl-dispatch"
	chainFromHEPDisp  = "from-hep-dispatch"
	chainToHEPDisp    = "to-hep-dispatch"
	chainFwdFromHEP   = "fwd-from-hep-dispatch"
	chainFwdToHEP     = "fwd-to-hep-dispatch"
	chainUntrackedIn  = "untracked-from-hep-dispatch"
	chainUntrackedOut = "untracked-to-hep-dispatch"
	chainPreDNATIn    = "prednat-from-hep-dispatch"

	mapFromWL     = "from-wl"
	mapToWL       = "to-wl"
	mapHostToWL   = "host-to-wl"
	mapFromHEP    = "from-hep"
	mapToHEP      = "to-hep"
	mapFromHEPFwd = "from-hep-fwd"
	mapToHEPFwd   = "to-hep-fwd"

	mapFromHEPUntracked = "from-hep-untracked"
	mapToHEPUntracked   = "to-hep-untracked"
	mapFromHEPPreDNAT   = "from-hep-prednat"

	setAllPools4  = "pools4"
	setAllPools6  = "pools6"
	setMasqPools4 = "masq-pools4"
	setMasqPools6 = "masq-pools6"
)

// maxNameLen keeps generated names well under nft's 256-byte limit; longer
// names are shortened with a hash suffix.
const maxNameLen = 200

// safeName makes prefix+s a valid nft identifier: k8s names (lowercase
// alphanumerics, '-', '.') and '/' pass through; anything else (':' in set
// IDs) becomes '.'.
func safeName(prefix, s string) string {
	clean := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.', r == '/':
			return r
		}
		return '.'
	}, s)
	name := prefix + clean
	if len(name) > maxNameLen || clean != s && strings.Contains(s, ".") {
		// Too long, or the substitution could collide with a name that
		// really has a '.': keep a readable head and make it unique.
		sum := sha256.Sum256([]byte(s))
		head := name
		if len(head) > maxNameLen-17 {
			head = head[:maxNameLen-17]
		}
		name = head + "-" + hex.EncodeToString(sum[:8])
	}
	return name
}

// policyKey renders "tier/name" or "tier/namespace/name".
func policyKey(id calc.PolicyID) string { return id.Tier + "/" + id.String() }

// policyChain is the chain of a policy's rules for one direction
// ("pi-" inbound, "po-" outbound, Calico's prefixes).
func policyChain(id calc.PolicyID, inbound bool) string {
	if inbound {
		return safeName("pi-", policyKey(id))
	}
	return safeName("po-", policyKey(id))
}

// profileChain is the chain of a profile's rules for one direction.
func profileChain(name string, inbound bool) string {
	if inbound {
		return safeName("pri-", name)
	}
	return safeName("pro-", name)
}

// fromWLChain / toWLChain are a workload interface's endpoint chains:
// egress policy (traffic from the workload) and ingress policy (to it).
func fromWLChain(iface string) string { return safeName("fw-", iface) }
func toWLChain(iface string) string   { return safeName("tw-", iface) }

// fromHEPChain / toHEPChain are a host interface's endpoint chains.
func fromHEPChain(iface string) string { return safeName("fh-", iface) }
func toHEPChain(iface string) string   { return safeName("th-", iface) }

// ipSetName is the nft set holding the family-4 or family-6 members of a
// calc IP set. Sets holding only single addresses are plain hash sets
// ("s4-"/"s6-"); sets holding a wider CIDR are interval sets ("n4-"/"n6-").
// The distinction matters to nft 1.0.x, which reads the elements of every
// interval set in the table before adding an element to any set: keeping
// endpoint selector sets out of that group keeps a membership change cheap.
func ipSetName(id string, family int, interval bool) string {
	prefix := "s"
	if interval {
		prefix = "n"
	}
	if family == 6 {
		return safeName(prefix+"6-", id)
	}
	return safeName(prefix+"4-", id)
}
