package autodetect

import (
	"net/netip"
	"testing"

	"github.com/tricolor-net/tricolor/internal/testutil"
)

// TestPrivilegedDetect_RealInterfacesInNamespace builds a host namespace
// with a veth to a peer namespace, a second NIC-like interface and an
// excluded docker0 (all veths to the peer), then runs every method through netlink and a real UDP
// connect inside it. Addresses are in 198.18.0.0/15 and exist only inside
// the test's namespaces.
func TestPrivilegedDetect_RealInterfacesInNamespace(t *testing.T) {
	testutil.RequireRoot(t)
	hostNS := testutil.NewNetns(t, "adhost")
	peer := testutil.NewNetns(t, "adpeer")
	testutil.Veth(t, hostNS, "eth0", peer, "peer0")
	hostNS.IP(t, "link", "set", "eth0", "mtu", "1400")
	hostNS.IP(t, "addr", "add", "198.18.5.2/24", "dev", "eth0")
	hostNS.IP(t, "addr", "add", "2001:db8:5::2/64", "dev", "eth0", "nodad")
	peer.IP(t, "addr", "add", "198.18.5.1/24", "dev", "peer0")
	// Dummy links need a kernel module the CI kernel may lack; veths
	// whose far ends sit in the peer namespace serve as extra NICs.
	testutil.Veth(t, hostNS, "ens9", peer, "peer9")
	hostNS.IP(t, "addr", "add", "198.19.7.2/24", "dev", "ens9")
	testutil.Veth(t, hostNS, "docker0", peer, "peerd")
	hostNS.IP(t, "addr", "add", "198.18.200.1/24", "dev", "docker0")
	hostNS.IP(t, "route", "add", "198.19.100.0/24", "via", "198.18.5.1")

	cases := []struct {
		method  string
		fam     Family
		wantIf  string
		wantPfx string
	}{
		{"first-found", V4, "ens9", "198.19.7.2/24"},
		{"first-found", V6, "eth0", "2001:db8:5::2/64"},
		{"interface=^eth0$", V4, "eth0", "198.18.5.2/24"},
		{"interface=docker0", V4, "docker0", "198.18.200.1/24"},
		{"skip-interface=ens.*", V4, "eth0", "198.18.5.2/24"},
		{"cidr=198.18.5.0/24", V4, "eth0", "198.18.5.2/24"},
		// Routed via the peer: the kernel picks eth0's address.
		{"can-reach=198.19.100.5", V4, "eth0", "198.18.5.2/24"},
		// On ens9's subnet: ens9's address.
		{"can-reach=198.19.7.9", V4, "ens9", "198.19.7.2/24"},
		{"can-reach=2001:db8:5::1", V6, "eth0", "2001:db8:5::2/64"},
	}
	for _, c := range cases {
		t.Run(c.method, func(t *testing.T) {
			m, err := ParseMethod(c.method)
			if err != nil {
				t.Fatal(err)
			}
			var got Result
			err = InNetns(hostNS.Name, func() error {
				var err error
				got, err = m.Detect(c.fam, Netlink, Reach)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if got.Interface != c.wantIf || got.Addr != netip.MustParsePrefix(c.wantPfx) {
				t.Fatalf("got %s on %s, want %s on %s", got.Addr, got.Interface, c.wantPfx, c.wantIf)
			}
		})
	}

	t.Run("netlink reports MTU", func(t *testing.T) {
		var ifaces []Interface
		if err := InNetns(hostNS.Name, func() error {
			var err error
			ifaces, err = Netlink()
			return err
		}); err != nil {
			t.Fatal(err)
		}
		itf, _, ok := FindAddr(ifaces, netip.MustParseAddr("198.18.5.2"))
		if !ok || itf.Name != "eth0" || itf.MTU != 1400 {
			t.Fatalf("eth0 = %+v (found %v), want MTU 1400", itf, ok)
		}
	})

	t.Run("unroutable can-reach fails clearly", func(t *testing.T) {
		m, _ := ParseMethod("can-reach=203.0.113.9")
		err := InNetns(hostNS.Name, func() error {
			_, err := m.Detect(V4, Netlink, Reach)
			return err
		})
		if err == nil {
			t.Fatal("want an error: the namespace has no route to 203.0.113.9")
		}
		t.Log(err)
	})
}
