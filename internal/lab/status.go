package lab

import (
	"cmp"
	"context"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
)

// Status is what `calico-lab status` reports.
type Status struct {
	RunID     string
	Dir       string
	Created   time.Time
	Datastore string
	// DatastoreErr is why the datastore could not be read ("" when it
	// answered).
	DatastoreErr string
	Nodes        []NodeStatus
	// External are the external hosts (no Calico on them).
	External []ExternalHost
	Pods     int
}

// NodeStatus is one node's row.
type NodeStatus struct {
	Name    string
	Netns   string
	Subnet  string
	Address string
	PID     int
	Running bool
	// Registered is the Node resource's spec.bgp.ipv4Address, then its
	// ipv6Address in a dual-stack lab ("" when the Node is missing).
	Registered string
	Log        string
}

// Status reports processes and what the datastore holds about the nodes.
func (l *Lab) Status(ctx context.Context) (*Status, error) {
	l.Pods() // refresh the state
	s := &Status{RunID: l.st.RunID, Dir: l.st.Dir, Created: l.st.Created, Pods: len(l.st.Pods), External: l.st.Topology.ExternalHosts,
		Datastore: l.st.Topology.Datastore + " etcd at " + EtcdEndpoint() + " (in " + FabricNetns(l.st.RunID) + ")"}
	registered := map[string]string{}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if c, closeC, err := l.Client(cctx); err != nil {
		s.DatastoreErr = err.Error()
	} else {
		nodes, _, err := client.List[*v3.Node](cctx, c, "")
		if err != nil {
			s.DatastoreErr = err.Error()
		}
		for _, n := range nodes {
			addr := ""
			if n.Spec.BGP != nil {
				addr = strings.TrimSpace(n.Spec.BGP.IPv4Address + " " + n.Spec.BGP.IPv6Address)
			}
			registered[n.Name] = cmp.Or(addr, "(no address)")
		}
		closeC()
	}
	for _, n := range l.st.Topology.Nodes {
		ns := NodeStatus{Name: n.Name, Netns: NodeNetns(l.st.RunID, n.Name), Subnet: n.Subnet, Address: n.Address, Registered: registered[n.Name]}
		for _, p := range l.st.Processes {
			if p.Role == RoleNode && p.Name == n.Name {
				ns.PID, ns.Running, ns.Log = p.PID, p.alive(), p.Log
			}
		}
		s.Nodes = append(s.Nodes, ns)
	}
	return s, nil
}

// String renders the status for humans.
func (s *Status) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "lab %s (up since %s), state in %s\n", s.RunID, s.Created.Format(time.RFC3339), s.Dir)
	fmt.Fprintf(&b, "datastore: %s", s.Datastore)
	if s.DatastoreErr != "" {
		fmt.Fprintf(&b, " — NOT READABLE: %s", s.DatastoreErr)
	}
	b.WriteString("\n\n")
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tNAMESPACE\tSUBNET\tADDRESS\tCALICO-NODE\tNODE RESOURCE")
	for _, n := range s.Nodes {
		proc := fmt.Sprintf("running (pid %d)", n.PID)
		if !n.Running {
			proc = "NOT RUNNING (log " + n.Log + ")"
		}
		reg := n.Registered
		if reg == "" {
			reg = "missing"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", n.Name, n.Netns, n.Subnet, n.Address, proc, reg)
	}
	for _, h := range s.External {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", h.Name, NodeNetns(s.RunID, h.Name), h.Subnet, h.Address, "external host", "-")
	}
	tw.Flush()
	fmt.Fprintf(&b, "\n%d pod(s); `calico-lab pods` lists them\n", s.Pods)
	return b.String()
}

// PodTable renders pods as `calico-lab pods` prints them; an IPV6 column
// follows IP when a pod has an IPv6 address (a dual-stack lab).
func PodTable(pods []Pod) string {
	dual := false
	for _, p := range pods {
		dual = dual || p.IP6 != ""
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	ip6 := func(s string) string {
		if dual {
			return s + "\t"
		}
		return ""
	}
	fmt.Fprintln(tw, "NAMESPACE\tNAME\tNODE\tIP\t"+ip6("IPV6")+"INTERFACE\tLABELS")
	for _, p := range pods {
		var labels []string
		for k, v := range p.Labels {
			labels = append(labels, k+"="+v)
		}
		sortStrings(labels)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s%s\t%s\n", p.Namespace, p.Name, p.Node, p.IP, ip6(p.IP6), p.HostIface, strings.Join(labels, ","))
	}
	tw.Flush()
	return b.String()
}

func sortStrings(s []string) { sort.Strings(s) }
