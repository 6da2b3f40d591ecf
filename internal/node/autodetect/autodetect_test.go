package autodetect

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }

// host is a typical node: loopback, docker bridge, a veth, a Calico
// interface and tunnel, two real NICs, in kernel index order.
func host() []Interface {
	return []Interface{
		{Name: "lo", Index: 1, MTU: 65536, Addrs: []netip.Prefix{pfx("127.0.0.1/8"), pfx("::1/128")}},
		{Name: "eth0", Index: 2, MTU: 1500, Addrs: []netip.Prefix{pfx("198.18.0.2/24"), pfx("fe80::1/64"), pfx("2001:db8::2/64")}},
		{Name: "ens5", Index: 3, MTU: 9001, Addrs: []netip.Prefix{pfx("198.19.1.7/16")}},
		{Name: "docker0", Index: 4, MTU: 1500, Addrs: []netip.Prefix{pfx("172.17.0.1/16")}},
		{Name: "vxlan.calico", Index: 5, MTU: 1450, Addrs: []netip.Prefix{pfx("10.244.0.1/32")}},
		{Name: "cali1234567890a", Index: 6, MTU: 1500, Addrs: []netip.Prefix{pfx("169.254.1.1/32")}},
		{Name: "veth9", Index: 7, MTU: 1500, Addrs: []netip.Prefix{pfx("10.9.9.9/24")}},
	}
}

func list(ifaces []Interface) ListFunc { return func() ([]Interface, error) { return ifaces, nil } }

func noReach(string, Family) (netip.Addr, error) { return netip.Addr{}, errors.New("unexpected reach") }

func TestDetect_EachMethodPicksCalicosAnswer(t *testing.T) {
	reachTo := func(src string) ReachFunc {
		return func(string, Family) (netip.Addr, error) { return netip.MustParseAddr(src), nil }
	}
	cases := []struct {
		method, wantIf, wantAddr string
		fam                      Family
		reach                    ReachFunc
	}{
		// Highest index first (Calico's reverse walk), skipping excluded names.
		{"first-found", "ens5", "198.19.1.7/16", V4, noReach},
		{"", "ens5", "198.19.1.7/16", V4, noReach},
		// IPv6: link-local and loopback are not global unicast.
		{"first-found", "eth0", "2001:db8::2/64", V6, noReach},
		{"interface=^eth.*", "eth0", "198.18.0.2/24", V4, noReach},
		// Calico's regexes are unanchored: eth.* also matches veth9, which
		// has the higher index.
		{"interface=eth.*", "veth9", "10.9.9.9/24", V4, noReach},
		{"interface=nomatch, eth0", "eth0", "198.18.0.2/24", V4, noReach},
		// interface= does not apply the default exclusions.
		{"interface=docker0", "docker0", "172.17.0.1/16", V4, noReach},
		{"skip-interface=ens.*", "eth0", "198.18.0.2/24", V4, noReach},
		{"cidr=198.18.0.0/16", "eth0", "198.18.0.2/24", V4, noReach},
		{"cidr=203.0.113.0/24, 198.19.0.0/16", "ens5", "198.19.1.7/16", V4, noReach},
		// cidr= applies no name exclusions, as in Calico.
		{"cidr=10.244.0.0/16", "vxlan.calico", "10.244.0.1/32", V4, noReach},
		{"cidr=2001:db8::/32", "eth0", "2001:db8::2/64", V6, noReach},
		{"can-reach=198.18.0.1", "eth0", "198.18.0.2/24", V4, reachTo("198.18.0.2")},
		{"can-reach=2001:db8::1", "eth0", "2001:db8::2/64", V6, reachTo("2001:db8::2")},
	}
	for _, c := range cases {
		t.Run(c.method, func(t *testing.T) {
			m, err := ParseMethod(c.method)
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Detect(c.fam, list(host()), c.reach)
			if err != nil {
				t.Fatal(err)
			}
			if got.Interface != c.wantIf || got.Addr != pfx(c.wantAddr) {
				t.Fatalf("got %s on %s, want %s on %s", got.Addr, got.Interface, c.wantAddr, c.wantIf)
			}
		})
	}
}

func TestDetect_FailsWithMessageNamingWhatWasSearched(t *testing.T) {
	cases := []struct {
		method string
		fam    Family
		reach  ReachFunc
		want   string
	}{
		{"interface=wlan.*", V4, noReach, "no interface qualifies"},
		{"cidr=203.0.113.0/24", V4, noReach, "no global unicast IPv4 address on"},
		{"skip-interface=eth0,ens5", V6, noReach, "no interface qualifies"},
		{"interface=docker0", V6, noReach, "no global unicast IPv6 address on docker0"},
		{"can-reach=198.18.0.1", V4, func(string, Family) (netip.Addr, error) { return netip.MustParseAddr("203.0.113.9"), nil }, "does not match any address"},
		{"can-reach=198.18.0.1", V4, func(string, Family) (netip.Addr, error) { return netip.Addr{}, errors.New("network is unreachable") }, "network is unreachable"},
	}
	for _, c := range cases {
		t.Run(c.method, func(t *testing.T) {
			m, err := ParseMethod(c.method)
			if err != nil {
				t.Fatal(err)
			}
			_, err = m.Detect(c.fam, list(host()), c.reach)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestDetect_KubernetesInternalIPNeedsKubernetes(t *testing.T) {
	m, err := ParseMethod("kubernetes-internal-ip")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Detect(V4, list(host()), noReach); !errors.Is(err, ErrNeedsKubernetes) {
		t.Fatalf("err = %v, want ErrNeedsKubernetes", err)
	}
}

func TestParseMethod_RejectsBadValues(t *testing.T) {
	cases := map[string]string{
		"first-found=eth0":         "takes no argument",
		"can-reach=":               "needs a destination",
		"interface=":               "at least one interface name regex",
		"interface=eth[":           "not a valid regular expression",
		"skip-interface=(":         "not a valid regular expression",
		"cidr=10.0.0.0":            "is not a CIDR",
		"cidr=":                    "at least one network",
		"closest":                  "is not an autodetection method",
		"kubernetes-internal-ip=x": "takes no argument",
	}
	for in, want := range cases {
		if _, err := ParseMethod(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseMethod(%q) = %v, want error containing %q", in, err, want)
		}
	}
}

func TestDefaultExcludes_CoverCalicosInterfaces(t *testing.T) {
	re := mustCompile(DefaultExcludes)
	for _, name := range []string{"docker0", "cbr0", "dummy0", "virbr0", "lxcbr0", "veth1", "lo", "cali0123", "tunl0", "flannel.1",
		"kube-ipvs0", "cni0", "vxlan.calico", "vxlan-v6.calico", "wireguard.cali", "wg-v6.cali", "nodelocaldns"} {
		if !re.MatchString(name) {
			t.Errorf("%s is not excluded", name)
		}
	}
	for _, name := range []string{"eth0", "ens5", "enp0s3", "bond0", "wlan0", "br0"} {
		if re.MatchString(name) {
			t.Errorf("%s is excluded but should be a candidate", name)
		}
	}
}
