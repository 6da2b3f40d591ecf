package cni

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
)

// WorkloadEndpoint builds the endpoint Calico writes for a networked pod.
func (w *Workload) WorkloadEndpoint(hostVeth string, podMAC net.HardwareAddr, addrs []netip.Addr) (*v3.WorkloadEndpoint, error) {
	wep := v3.NewWorkloadEndpoint()
	wep.Namespace = w.Namespace
	wep.Labels = map[string]string{}
	for k, v := range w.Labels {
		wep.Labels[k] = v
	}
	s := &wep.Spec
	s.Orchestrator, s.Node, s.ContainerID, s.Endpoint = w.Orchestrator, w.Node, w.ContainerID, w.IfName
	if w.Orchestrator == OrchestratorK8s {
		s.Pod = w.Pod
	} else {
		s.Workload = w.ContainerID
	}
	s.InterfaceName, s.MAC, s.Profiles = hostVeth, podMAC.String(), w.Profiles()
	for _, a := range addrs {
		s.IPNetworks = append(s.IPNetworks, netip.PrefixFrom(a, a.BitLen()).String())
	}
	name, nerr := s.ExpectedName()
	if nerr != nil {
		// Validate names the field that makes the name impossible.
		return nil, fmt.Errorf("workload endpoint for container %s: %w", w.ContainerID, wep.Validate())
	}
	wep.Name = name
	return wep, nil
}

// ensureNetworkProfile creates the profile a plain CNI network's endpoints
// use, as Calico does: egress allowed, ingress from the network's own
// endpoints, and the network's name applied as a label.
func ensureNetworkProfile(ctx context.Context, c *client.Client, network string) error {
	if _, err := c.Get(ctx, v3.KindProfile, "", network); err == nil {
		return nil
	} else if !client.IsNotFound(err) {
		return err
	}
	p := v3.NewProfile()
	p.Name = network
	p.Spec.Egress = []v3.Rule{{Action: v3.Allow}}
	p.Spec.Ingress = []v3.Rule{{Action: v3.Allow, Source: v3.EntityRule{Selector: fmt.Sprintf("has(%s)", network)}}}
	p.Spec.LabelsToApply = map[string]string{network: ""}
	if _, err := c.Create(ctx, p); err != nil && !client.IsAlreadyExists(err) {
		return fmt.Errorf("create profile %q for network %q: %w", network, network, err)
	}
	return nil
}

// deleteWEP removes the workload's endpoint if it belongs to this container
// (a newer container of the same pod may have replaced it).
func deleteWEP(ctx context.Context, c *client.Client, w *Workload) (deleted bool, err error) {
	probe, err := w.WorkloadEndpoint("cali0", nil, nil)
	if err != nil {
		return false, err
	}
	got, err := client.Get[*v3.WorkloadEndpoint](ctx, c, probe.Namespace, probe.Name)
	if client.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if got.Spec.ContainerID != "" && got.Spec.ContainerID != w.ContainerID {
		return false, nil
	}
	_, err = c.Delete(ctx, v3.KindWorkloadEndpoint, got.Namespace, got.Name, got.ResourceVersion)
	if client.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// checkWEP compares the stored endpoint with what ADD wrote.
func checkWEP(ctx context.Context, c *client.Client, want *v3.WorkloadEndpoint) []string {
	got, err := client.Get[*v3.WorkloadEndpoint](ctx, c, want.Namespace, want.Name)
	if err != nil {
		return []string{fmt.Sprintf("workload endpoint %s/%s: %v", want.Namespace, want.Name, err)}
	}
	var problems []string
	cmp := func(field, g, w string) {
		if g != w {
			problems = append(problems, fmt.Sprintf("workload endpoint %s/%s: %s is %q; want %q", want.Namespace, want.Name, field, g, w))
		}
	}
	cmp("spec.containerID", got.Spec.ContainerID, want.Spec.ContainerID)
	cmp("spec.interfaceName", got.Spec.InterfaceName, want.Spec.InterfaceName)
	cmp("spec.node", got.Spec.Node, want.Spec.Node)
	if want.Spec.MAC != "" {
		cmp("spec.mac", got.Spec.MAC, want.Spec.MAC)
	}
	g, wn := slices.Clone(got.Spec.IPNetworks), slices.Clone(want.Spec.IPNetworks)
	slices.Sort(g)
	slices.Sort(wn)
	cmp("spec.ipNetworks", fmt.Sprint(g), fmt.Sprint(wn))
	return problems
}
