package health

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Groups name which probe a component answers to: -felix-live/-felix-ready
// check GroupFelix, -bird-live/-bird-ready check GroupBGP. GroupNode is the
// node process itself (startup, hosting).
const (
	GroupFelix = "felix"
	GroupBGP   = "bgp"
	GroupNode  = "node"
)

// Aggregator collects the reports of registered components. It is safe for
// concurrent use.
type Aggregator struct {
	mu        sync.Mutex
	reporters map[string]*Reporter
	now       func() time.Time
}

// NewAggregator returns an empty aggregator using the wall clock.
func NewAggregator() *Aggregator {
	return &Aggregator{reporters: map[string]*Reporter{}, now: time.Now}
}

// Reporter is one component's handle for reporting its health.
type Reporter struct {
	agg     *Aggregator
	name    string
	group   string
	timeout time.Duration

	reported bool
	live     bool
	ready    bool
	detail   string
	at       time.Time
}

// Register adds a component. A component that has not reported yet counts
// as live but not ready (it is starting). With timeout > 0, a component
// whose last report is older than timeout counts as neither live nor ready:
// a hung loop fails its probe, as in Felix. Registering a name twice
// returns the existing reporter.
func (a *Aggregator) Register(name, group string, timeout time.Duration) *Reporter {
	a.mu.Lock()
	defer a.mu.Unlock()
	if r, ok := a.reporters[name]; ok {
		return r
	}
	r := &Reporter{agg: a, name: name, group: group, timeout: timeout, live: true}
	a.reporters[name] = r
	return r
}

// Report records the component's current state; detail explains a
// not-live or not-ready state and appears in the probe output.
func (r *Reporter) Report(live, ready bool, detail string) {
	a := r.agg
	a.mu.Lock()
	defer a.mu.Unlock()
	r.reported, r.live, r.ready, r.detail, r.at = true, live, ready, detail, a.now()
}

// ComponentStatus is one component's state as the probes see it.
type ComponentStatus struct {
	Name   string `json:"name"`
	Group  string `json:"group"`
	Live   bool   `json:"live"`
	Ready  bool   `json:"ready"`
	Detail string `json:"detail,omitempty"`
}

// Status is the aggregate over a group (or every component).
type Status struct {
	Live       bool              `json:"live"`
	Ready      bool              `json:"ready"`
	Components []ComponentStatus `json:"components"`
}

// Status aggregates the components of group ("" = all): live when every
// one is live, ready when every one is ready. A group with no components is
// neither: the probe is asking about something this process does not run.
func (a *Aggregator) Status(group string) Status {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	st := Status{Live: true, Ready: true}
	for _, r := range a.reporters {
		if group != "" && r.group != group {
			continue
		}
		c := ComponentStatus{Name: r.name, Group: r.group, Live: r.live, Ready: r.ready && r.reported, Detail: r.detail}
		if !r.reported && c.Detail == "" {
			c.Detail = "starting: no report yet"
		}
		if r.reported && r.timeout > 0 && now.Sub(r.at) > r.timeout {
			c.Live, c.Ready = false, false
			c.Detail = fmt.Sprintf("no report for %s (timeout %s)", now.Sub(r.at).Round(time.Millisecond), r.timeout)
		}
		st.Live = st.Live && c.Live
		st.Ready = st.Ready && c.Ready
		st.Components = append(st.Components, c)
	}
	slices.SortFunc(st.Components, func(x, y ComponentStatus) int { return strings.Compare(x.Name, y.Name) })
	if len(st.Components) == 0 {
		st.Live, st.Ready = false, false
	}
	return st
}

// Problem summarises why the status is not live (liveness) or not ready,
// e.g. `felix-route-manager: no report for 95s (timeout 90s)`.
func (s Status) Problem(liveness bool, group string) string {
	if len(s.Components) == 0 {
		if group == "" {
			return "no components are running"
		}
		return fmt.Sprintf("no %s component is running in this calico-node", group)
	}
	var bad []string
	for _, c := range s.Components {
		ok := c.Ready
		if liveness {
			ok = c.Live
		}
		if !ok {
			bad = append(bad, c.Name+": "+c.Detail)
		}
	}
	return strings.Join(bad, "; ")
}
