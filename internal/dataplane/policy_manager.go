package dataplane

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sort"
	"strings"
	"time"

	"sigs.k8s.io/knftables"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/calc"
	"github.com/tricolor-net/tricolor/internal/dataplane/nft"
)

// PolicyConfig configures a PolicyManager. Zero values take the defaults.
type PolicyConfig struct {
	// Log receives apply and drift reports; slog.Default() if nil.
	Log *slog.Logger
	// RefreshInterval is how often Apply re-reads the table from the kernel
	// to find and repair drift (Felix's IptablesRefreshInterval, default
	// 90s; a ConfigUpdate overrides it). Negative disables the refresh.
	RefreshInterval time.Duration
	// DefaultEndpointToHostAction is Drop (default), Accept or Return: what
	// happens to workload traffic to this host after its egress policy.
	DefaultEndpointToHostAction string
	// LogPrefix prefixes packet logs from Log rules (default
	// "calico-packet").
	LogPrefix string
	// FailsafeInbound / FailsafeOutbound are the host ports host-endpoint
	// policy never closes (nil: Calico's defaults; a ConfigUpdate
	// overrides them).
	FailsafeInbound, FailsafeOutbound *[]v3.ProtoPort
	// NoIPv6 leaves IPv6 out of the table, as FelixConfiguration
	// ipv6Support: false does (Calico's manifests set FELIX_IPV6SUPPORT
	// "false" for IPv4 clusters): no IPv6 sets, no IPv6 address, ICMPv6 or
	// natOutgoing rules, and IPv6 to and from workload interfaces dropped
	// before any policy (unpoliced, it must not flow; see render_ipv6.go).
	// Half the rules of a dual-stack render, and so half the kernel's
	// validation walk per policy change.
	NoIPv6 bool
	// Now is the clock (time.Now if nil).
	Now func() time.Time
}

// PolicyStats are the manager's counters (for metrics and tests).
type PolicyStats struct {
	// Applies counts Apply calls that did work; Transactions those that
	// changed the kernel.
	Applies, Transactions int
	// Resyncs counts kernel read-backs; DriftRepairs the objects they found
	// changed behind our back.
	Resyncs, DriftRepairs int
	// LastApply is the last apply's duration; LastResult what it changed.
	LastApply  time.Duration
	LastResult nft.Result
	// Sizes of the desired state after the last successful apply.
	ActivePolicy, ActiveProfile, Endpoints, IPSets int
}

// PolicyManager turns calc updates into the nftables table "inet calico".
// OnUpdate only records desired state; Apply renders the whole desired table
// and hands it to the nft Reconciler, which changes only what differs. It is
// not safe for concurrent use (felix calls it from one loop).
type PolicyManager struct {
	cfg PolicyConfig
	// base is the configuration given to NewPolicyManager: each
	// ConfigUpdate is overlaid on it, so a field the datastore no longer
	// sets returns to its base value.
	base PolicyConfig
	log  *slog.Logger
	rec  *nft.Reconciler

	ipsets    map[string]*ipSet
	policies  map[calc.PolicyID]*calc.Policy
	profiles  map[string]*calc.Profile
	workloads map[calc.WorkloadEndpointID]*calc.WorkloadEndpoint
	hosts     map[string]*calc.HostEndpoint
	pools     map[string]calc.Pool
	// hostIfaces are the host's interfaces and addresses
	// (SetHostInterfaces); hostRendered the interfaces each host
	// endpoint's cached fragment was rendered for; wildcardHost the
	// host endpoint whose "*" applies (resolveHosts).
	hostIfaces   map[string][]netip.Addr
	hostRendered map[string][]string
	wildcardHost string

	// cache holds rendered fragments per object key; chainNames the
	// policy and profile chains that exist.
	cache      map[string]*fragment
	chainNames map[string]bool
	// render is the incremental render state (render_incremental.go).
	render renderState
	// policyKeys and wepKeys map fragment keys back to their objects.
	policyKeys map[string]calc.PolicyID
	wepKeys    map[string]calc.WorkloadEndpointID

	inSync      bool
	dirty       bool
	forceReread bool
	lastRefresh time.Time
	stats       PolicyStats
}

// NewPolicyManager returns a manager driving the table through nft, which
// must be a knftables.Interface for family inet and table TableName (the
// real one from knftables.New, or knftables.NewFake in tests).
func NewPolicyManager(nftIface knftables.Interface, cfg PolicyConfig) *PolicyManager {
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	log = log.With("component", "dataplane-nft", "table", "inet "+TableName)
	if cfg.RefreshInterval == 0 {
		cfg.RefreshInterval = 90 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &PolicyManager{
		cfg: cfg, base: cfg, log: log,
		rec:        nft.NewReconciler(nftIface, knftables.InetFamily, TableName, log),
		ipsets:     map[string]*ipSet{},
		policies:   map[calc.PolicyID]*calc.Policy{},
		profiles:   map[string]*calc.Profile{},
		workloads:  map[calc.WorkloadEndpointID]*calc.WorkloadEndpoint{},
		hosts:      map[string]*calc.HostEndpoint{},
		pools:      map[string]calc.Pool{},
		cache:      map[string]*fragment{},
		chainNames: map[string]bool{},
		render:     renderState{stale: map[string]bool{}},
		policyKeys: map[string]calc.PolicyID{},
		wepKeys:    map[string]calc.WorkloadEndpointID{},
		dirty:      true,
	}
}

// NewNFTables opens the real inet calico table through the nft binary. The
// result also lists the whole table in one run (nft.TableLister) for fast
// read-back.
func NewNFTables() (knftables.Interface, error) {
	nftIface, err := knftables.New(knftables.InetFamily, TableName)
	if err != nil {
		return nil, fmt.Errorf("nftables: cannot use the nft binary (install Debian package nftables; needs CAP_NET_ADMIN): %w", err)
	}
	return listingNFT{Interface: nftIface, ExecLister: nft.ExecLister{Family: knftables.InetFamily, Table: TableName}}, nil
}

// listingNFT is knftables plus one-shot table listing.
type listingNFT struct {
	knftables.Interface
	nft.ExecLister
}

// OnUpdate records one calc update; nothing touches the kernel until Apply.
// Updates the policy dataplane does not use (routes, VTEPs) are ignored.
func (m *PolicyManager) OnUpdate(u calc.Update) {
	switch u := u.(type) {
	case calc.IPSetUpdate:
		old := m.ipsets[u.ID]
		s := &ipSet{typ: u.Type, members: make(map[string]struct{}, len(u.Members))}
		for _, mem := range u.Members {
			s.add(mem)
		}
		m.ipsets[u.ID] = s
		m.noteShape(old, s)
	case calc.IPSetDelta:
		s := m.ipsets[u.ID]
		if s == nil {
			m.log.Warn("IP set delta for a set never sent; ignoring it (calc graph ordering bug)", "ipset", u.ID)
			return
		}
		before := *s
		for _, mem := range u.Removed {
			s.remove(mem)
		}
		for _, mem := range u.Added {
			s.add(mem)
		}
		m.noteShape(&before, s)
	case calc.IPSetRemove:
		if old := m.ipsets[u.ID]; old != nil && (old.interval(4) || old.interval(6)) {
			// Rules still naming it (calc removes a set after the last
			// rule using it) would name the n4-/n6- set that goes.
			m.invalidatePrefix("policy/", "profile/")
		}
		delete(m.ipsets, u.ID)
	case calc.ActivePolicyUpdate:
		m.policies[u.ID] = u.Policy
		m.policyKeys[u.Key()] = u.ID
		m.setChainsKnown(true, policyChain(u.ID, true), policyChain(u.ID, false))
	case calc.ActivePolicyRemove:
		delete(m.policies, u.ID)
		delete(m.policyKeys, u.Key())
		m.setChainsKnown(false, policyChain(u.ID, true), policyChain(u.ID, false))
	case calc.ActiveProfileUpdate:
		m.profiles[u.Name] = u.Profile
		m.setChainsKnown(true, profileChain(u.Name, true), profileChain(u.Name, false))
	case calc.ActiveProfileRemove:
		delete(m.profiles, u.Name)
		m.setChainsKnown(false, profileChain(u.Name, true), profileChain(u.Name, false))
	case calc.WorkloadEndpointUpdate:
		m.workloads[u.ID] = u.Endpoint
		m.wepKeys[u.Key()] = u.ID
		m.render.usedStale = true
	case calc.WorkloadEndpointRemove:
		delete(m.workloads, u.ID)
		delete(m.wepKeys, u.Key())
		m.render.usedStale = true
	case calc.HostEndpointUpdate:
		m.hosts[u.Name] = u.Endpoint
		m.render.usedStale = true
	case calc.HostEndpointRemove:
		delete(m.hosts, u.Name)
		m.render.usedStale = true
	case calc.IPPoolUpdate:
		m.pools[u.Name] = u.Pool
	case calc.IPPoolRemove:
		delete(m.pools, u.Name)
	case calc.ConfigUpdate:
		m.applyConfig(u.Config)
		m.invalidateAll() // the log prefix is in every policy chain
	case calc.InSync:
		m.inSync = true
	default:
		return
	}
	// Fragment cache keys are the calc update keys (see Render).
	m.invalidate(u.Key())
	m.dirty = true
}

// noteShape drops the rendered policies and profiles when a set switches
// between plain and interval in a family (its nft name changes, and rules
// name it). That happens only when a wider CIDR joins or leaves a set.
func (m *PolicyManager) noteShape(old, cur *ipSet) {
	for _, fam := range []int{4, 6} {
		if old != nil && old.interval(fam) == cur.interval(fam) {
			continue
		}
		if old == nil && !cur.interval(fam) {
			continue
		}
		m.invalidatePrefix("policy/", "profile/")
		return
	}
}

// setInterval tells the rule renderer which sets are interval sets.
func (m *PolicyManager) setInterval(id string, fam int) bool {
	s := m.ipsets[id]
	return s != nil && s.interval(fam)
}

// setChainsKnown records that policy/profile chains appear or disappear;
// endpoint fragments depend on that (fail-closed stand-ins), so a change
// drops them all.
func (m *PolicyManager) setChainsKnown(known bool, names ...string) {
	changed := false
	for _, n := range names {
		if m.chainNames[n] != known {
			changed = true
		}
		if known {
			m.chainNames[n] = true
		} else {
			delete(m.chainNames, n)
		}
	}
	if changed {
		m.invalidatePrefix("wep/", "hep/")
	}
}

// OnUpdates records a batch in order.
func (m *PolicyManager) OnUpdates(us []calc.Update) {
	for _, u := range us {
		m.OnUpdate(u)
	}
}

// applyConfig takes the Felix settings this manager uses from the
// effective FelixConfiguration; unset fields keep the constructor's values.
func (m *PolicyManager) applyConfig(c *v3.FelixConfigurationSpec) {
	if c == nil {
		return
	}
	m.cfg = m.base
	if c.LogPrefix != "" {
		m.cfg.LogPrefix = c.LogPrefix
	}
	if c.DefaultEndpointToHostAction != "" {
		m.cfg.DefaultEndpointToHostAction = c.DefaultEndpointToHostAction
	}
	if c.FailsafeInboundHostPorts != nil {
		m.cfg.FailsafeInbound = c.FailsafeInboundHostPorts
	}
	if c.FailsafeOutboundHostPorts != nil {
		m.cfg.FailsafeOutbound = c.FailsafeOutboundHostPorts
	}
	if c.IPv6Support != nil {
		m.cfg.NoIPv6 = !*c.IPv6Support
	}
	if c.IptablesRefreshInterval != nil {
		m.cfg.RefreshInterval = c.IptablesRefreshInterval.Duration
		if m.cfg.RefreshInterval == 0 {
			m.cfg.RefreshInterval = -1 // 0 disables, as in Felix
		}
	}
}

// Resync makes the next Apply re-read the kernel's table (repairing drift).
func (m *PolicyManager) Resync() {
	m.forceReread = true
}

// InSync reports whether the calc graph has said InSync (pruning enabled).
func (m *PolicyManager) InSync() bool { return m.inSync }

// Stats returns the manager's counters.
func (m *PolicyManager) Stats() PolicyStats { return m.stats }

// Apply brings the kernel table to the desired state: it re-reads the
// table when the refresh interval has passed (logging drift), renders the
// desired table and runs one transaction with the differences. Nothing is
// removed before the calc graph reported InSync.
//
// The periodic re-read runs in the background when the nft interface can
// list the table in one call (the real one can): a slow listing then
// delays no policy change, and the Apply after it finishes adopts it and
// repairs any drift (objects written while it read keep the cache's view;
// see nft.Reconciler.StartReadBack). Resync still reads synchronously.
func (m *PolicyManager) Apply(ctx context.Context) error {
	now := m.cfg.Now()
	adopted := m.collectReadBack()
	due := m.cfg.RefreshInterval > 0 && !m.lastRefresh.IsZero() && now.Sub(m.lastRefresh) >= m.cfg.RefreshInterval
	background := due && !m.forceReread && m.rec.CanReadBackInBackground()
	if background {
		// Started after this Apply's own transaction, which would
		// otherwise make the read stale at once.
		defer func() {
			m.rec.StartReadBack(ctx)
			m.lastRefresh = now
		}()
	}
	refresh := m.forceReread || due && !background
	if !m.dirty && !refresh && !adopted {
		return nil
	}
	start := time.Now()
	m.stats.Applies++
	if refresh {
		drift, err := m.rec.ReadBack(ctx)
		if err != nil {
			return err
		}
		m.forceReread = false
		m.countResync(drift)
	}
	t := m.Render()
	res, err := m.rec.Sync(ctx, t, m.inSync)
	m.synced()
	m.stats.LastApply = time.Since(start)
	m.stats.LastResult = res
	if err != nil {
		return err
	}
	if res.Operations > 0 {
		m.stats.Transactions++
		m.log.Debug("nftables applied", "operations", res.Operations, "chainsWritten", res.ChainsWritten,
			"chainsDeleted", res.ChainsDeleted, "elementsAdded", res.ElementsAdded, "elementsRemoved", res.ElementsRemoved,
			"duration", m.stats.LastApply)
	}
	m.dirty = false
	if m.lastRefresh.IsZero() || refresh {
		// The first apply read the table back (Sync does on first use);
		// the next periodic read is one interval later.
		m.lastRefresh = now
	}
	m.stats.ActivePolicy, m.stats.ActiveProfile = len(m.policies), len(m.profiles)
	m.stats.Endpoints, m.stats.IPSets = len(m.workloads), len(m.ipsets)
	return nil
}

// collectReadBack adopts a finished background read-back: adopted is true
// when the cache was replaced (Apply must then sync, to repair drift). A
// failed or stale read is retried at the next interval.
func (m *PolicyManager) collectReadBack() (adopted bool) {
	outcome, drift, err := m.rec.CollectReadBack()
	switch outcome {
	case nft.ReadBackAdopted:
		m.countResync(drift)
		return true
	case nft.ReadBackFailed:
		m.log.Warn("nftables background read-back failed; retrying at the next refresh", "err", err)
	}
	return false
}

// countResync records one read-back and the drift it found.
func (m *PolicyManager) countResync(drift int) {
	m.stats.Resyncs++
	if drift > 0 {
		m.stats.DriftRepairs += drift
		m.log.Warn("nftables drift: the kernel table differs from what we programmed; repairing", "objects", drift)
	}
}

// families are the IP families the table covers: 4 and 6, or 4 alone
// with NoIPv6.
func (m *PolicyManager) families() []int {
	if m.cfg.NoIPv6 {
		return []int{4}
	}
	return []int{4, 6}
}

// knownChain reports whether a policy or profile chain will exist (its
// object was received), for endpoint chains that must not jump nowhere.
func (m *PolicyManager) knownChain(name string) bool { return m.chainNames[name] }

// logPrefix is the configured prefix made safe for a quoted nft string
// (no quotes or backslashes; the kernel keeps 127 bytes of a prefix).
func (m *PolicyManager) logPrefix() string {
	p := m.cfg.LogPrefix
	if p == "" {
		p = "calico-packet"
	}
	p = strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < 0x20 || r > 0x7e {
			return '_'
		}
		return r
	}, p)
	if len(p) > 100 {
		p = p[:100]
	}
	return p
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
