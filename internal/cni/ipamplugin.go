package cni

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/tricolor-net/tricolor/internal/client"
)

// IPAMPlugin is calico-ipam run as its own binary (the calico plugin runs
// the same code in-process). The main plugin may be any CNI plugin, so
// only the ipam section is parsed strictly.
type IPAMPlugin struct {
	Plugin
}

// Funcs returns calico-ipam's commands for skel.PluginMainFuncs.
func (p *IPAMPlugin) Funcs() skel.CNIFuncs {
	p.ipamOnly = true
	return skel.CNIFuncs{
		Add: p.wrap(p.Add), Del: p.wrap(p.Del), Check: p.wrap(p.Check),
		Status: p.wrap(p.Plugin.Status), GC: p.wrap(p.Plugin.GC),
	}
}

// ParseIPAMNetConf reads a network config for calico-ipam: top-level
// fields of the main plugin are ignored; the ipam section must be valid.
func ParseIPAMNetConf(data []byte) (*NetConf, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("network config: not valid JSON: %w", err)
	}
	keep := map[string]json.RawMessage{}
	for _, k := range netConfFields {
		if v, ok := top[k]; ok {
			keep[k] = v
		}
	}
	b, _ := json.Marshal(keep)
	conf, err := ParseNetConf(b)
	if err != nil {
		return nil, err
	}
	if conf.IPAM.Type != IPAMTypeCalico {
		return nil, fmt.Errorf("network config %q: ipam.type is %q; calico-ipam serves only \"type\": %q", conf.Name, conf.IPAM.Type, IPAMTypeCalico)
	}
	return conf, nil
}

// Add assigns the container's addresses and prints them as /32 (/128).
func (p *IPAMPlugin) Add(a *skel.CmdArgs) error {
	return p.run(a, "ADD", func(ctx context.Context, s *session, c *client.Client) error {
		addrs, err := assignAddrs(ctx, newIPAM(c, s.log), s.conf, s.w, s.log)
		if err != nil {
			return cniError(ipamErrorCode(err), "IPAM could not assign an address", err)
		}
		r := &current.Result{CNIVersion: current.ImplementedSpecVersion}
		for _, ad := range addrs {
			r.IPs = append(r.IPs, &current.IPConfig{Address: *prefixNet(netip.PrefixFrom(ad, ad.BitLen()))})
		}
		return types.PrintResult(r, s.conf.CNIVersion)
	})
}

// Del releases the container's handle; nothing held is fine.
func (p *IPAMPlugin) Del(a *skel.CmdArgs) error {
	return p.run(a, "DEL", func(ctx context.Context, s *session, c *client.Client) error {
		if _, err := releaseHandle(ctx, newIPAM(c, s.log), s.w.HandleID()); err != nil {
			return cniError(types.ErrTryAgainLater, "releasing the container's addresses failed", err)
		}
		return nil
	})
}

// Check verifies the handle still holds the addresses of prevResult.
func (p *IPAMPlugin) Check(a *skel.CmdArgs) error {
	return p.run(a, "CHECK", func(ctx context.Context, s *session, c *client.Client) error {
		held, err := newIPAM(c, s.log).IPsByHandle(ctx, s.w.HandleID())
		if err != nil || len(held) == 0 {
			return &types.Error{Code: ErrCodeCheckFailed, Msg: "calico-ipam CHECK: no addresses allocated to handle " + s.w.HandleID(), Details: fmt.Sprint(err)}
		}
		return nil
	})
}

// run is the shape every calico-ipam command shares: parse the config and
// open the log (begin), bound the command's time, open the datastore; fn
// does the command's own work.
func (p *IPAMPlugin) run(a *skel.CmdArgs, command string, fn func(ctx context.Context, s *session, c *client.Client) error) error {
	s, err := p.begin(a, command)
	if err != nil {
		return err
	}
	defer s.closeL()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	c, closeC, err := p.open(ctx, s)
	if err != nil {
		return err
	}
	defer closeC()
	if command == "ADD" {
		if err := s.loadPod(ctx); err != nil {
			return err
		}
	}
	return fn(ctx, s, c)
}
