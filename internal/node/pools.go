package node

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/node/autodetect"
)

// ensureDefaultPools creates default-ipv4-ippool / default-ipv6-ippool, with
// Calico's rules: nothing when NO_DEFAULT_POOLS is true; per family, only
// when no pool of that family exists at all (so deleting or replacing the
// default pool is never undone by a restart); a family whose CIDR is "none"
// is skipped; IPv6 only when the kernel supports it and FELIX_IPV6SUPPORT
// is not false. It returns the names of the pools it created.
func ensureDefaultPools(ctx context.Context, c *client.Client, cfg *Config, ifaces []autodetect.Interface, ipv6Supported func() bool, log *slog.Logger) ([]string, error) {
	if cfg.NoDefaultPools {
		log.Info("NO_DEFAULT_POOLS is set; skipping IP pool configuration")
		return nil, nil
	}
	pools, _, err := client.List[*v3.IPPool](ctx, c, "")
	if err != nil {
		return nil, fmt.Errorf("list IP pools: %w", err)
	}
	have := map[bool]bool{}
	for _, p := range pools {
		if pf, err := netip.ParsePrefix(p.Spec.CIDR); err == nil {
			have[pf.Addr().Is4()] = true
		}
	}
	var created []string
	if cfg.Pool4.Enabled && !have[true] {
		cidr := cfg.Pool4.CIDR
		if !cidr.IsValid() {
			cidr = defaultIPv4Pool(ifaces)
		}
		ok, err := createPool(ctx, c, DefaultIPv4PoolName, cidr, cfg.Pool4, log)
		if err != nil {
			return created, err
		}
		if ok {
			created = append(created, DefaultIPv4PoolName)
		}
	}
	v6 := cfg.Pool6.Enabled && !have[false] && ipv6Supported()
	if s := cfg.Felix.Get("IPv6Support"); s != "" {
		if b, err := parseFelixBool(s); err == nil && !b {
			v6 = false
		}
	}
	if v6 {
		cidr := cfg.Pool6.CIDR
		if !cidr.IsValid() {
			if cidr, err = randomULA(); err != nil {
				return created, err
			}
		}
		ok, err := createPool(ctx, c, DefaultIPv6PoolName, cidr, cfg.Pool6, log)
		if err != nil {
			return created, err
		}
		if ok {
			created = append(created, DefaultIPv6PoolName)
		}
	}
	return created, nil
}

// createPool creates one default pool; another node winning the race is
// fine. A validation error (e.g. an overlap) is returned with the variables
// that produced the pool.
func createPool(ctx context.Context, c *client.Client, name string, cidr netip.Prefix, pc PoolConfig, log *slog.Logger) (bool, error) {
	p := v3.NewIPPool()
	p.Name = name
	p.Spec = v3.IPPoolSpec{
		CIDR: cidr.String(), IPIPMode: pc.IPIPMode, VXLANMode: pc.VXLANMode, NATOutgoing: pc.NATOutgoing,
		BlockSize: pc.BlockSize, NodeSelector: pc.NodeSelector, DisableBGPExport: pc.DisableBGPExport,
	}
	if _, err := c.Create(ctx, p); err != nil {
		if errors.Is(err, datastore.ErrAlreadyExists) {
			return false, nil
		}
		fam := map[bool]string{true: "IPV4", false: "IPV6"}[cidr.Addr().Is4()]
		return false, fmt.Errorf("create default IP pool %q from CALICO_%sPOOL_* variables: %w", name, fam, err)
	}
	log.Info("created default IP pool", "pool", name, "cidr", cidr, "ipipMode", pc.IPIPMode, "vxlanMode", pc.VXLANMode,
		"natOutgoing", pc.NATOutgoing, "blockSize", pc.BlockSize, "disableBGPExport", pc.DisableBGPExport)
	return true, nil
}

// defaultIPv4Pool is 192.168.0.0/16 unless a host address is inside it;
// then the first of 172.16.0.0/16 … 172.31.0.0/16 holding no host address
// (Calico's choice, so the default pool never shadows the host's network).
func defaultIPv4Pool(ifaces []autodetect.Interface) netip.Prefix {
	preferred := netip.MustParsePrefix(DefaultIPv4PoolCIDR)
	free := func(p netip.Prefix) bool {
		for _, itf := range ifaces {
			for _, a := range itf.Addrs {
				if p.Contains(a.Addr()) {
					return false
				}
			}
		}
		return true
	}
	if free(preferred) {
		return preferred
	}
	for i := 16; i <= 31; i++ {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{172, byte(i), 0, 0}), 16)
		if free(p) {
			return p
		}
	}
	return preferred
}

// randomULA returns a random RFC 4193 unique local /48, Calico's default
// IPv6 pool.
func randomULA() (netip.Prefix, error) {
	var b [16]byte
	b[0] = 0xfd
	if _, err := rand.Read(b[1:6]); err != nil {
		return netip.Prefix{}, fmt.Errorf("generate the default IPv6 pool: %w", err)
	}
	return netip.PrefixFrom(netip.AddrFrom16(b), 48), nil
}

// parseFelixBool reads a Felix boolean.
func parseFelixBool(s string) (bool, error) {
	e := &env{get: func(string) string { return s }}
	b := e.boolean("", false)
	if len(e.errs) > 0 {
		return false, fmt.Errorf("%q is not a boolean", s)
	}
	return b, nil
}
