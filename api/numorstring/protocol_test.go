package numorstring

import (
	"encoding/json"
	"testing"
)

func TestProtocol_RoundTripsNamesAndNumbers(t *testing.T) {
	for _, tc := range []struct {
		in, out string
		num     bool
		wantErr bool
	}{
		{`"TCP"`, `"TCP"`, false, false},
		{`"ICMPv6"`, `"ICMPv6"`, false, false},
		{`6`, `6`, true, false},
		{`"17"`, `17`, true, false},
		{`"tcp"`, `"tcp"`, false, false}, // kept verbatim; validation rejects it
		{`256`, ``, false, true},
		{`-1`, ``, false, true},
		{`true`, ``, false, true},
	} {
		var p Protocol
		err := json.Unmarshal([]byte(tc.in), &p)
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: err = %v, wantErr %v", tc.in, err, tc.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		if got := p.Type == NumOrStringNum; got != tc.num {
			t.Errorf("%s: numeric = %v, want %v", tc.in, got, tc.num)
		}
		out, err := json.Marshal(p)
		if err != nil || string(out) != tc.out {
			t.Errorf("%s: encodes as %s (%v), want %s", tc.in, out, err, tc.out)
		}
	}
}

func TestProtocol_SupportsPortsOnlyForTCPUDPSCTP(t *testing.T) {
	for _, tc := range []struct {
		p    Protocol
		want bool
	}{
		{ProtocolFromString("TCP"), true},
		{ProtocolFromString("udp"), true}, // folded to UDP
		{ProtocolFromString("SCTP"), true},
		{ProtocolFromInt(6), true},
		{ProtocolFromInt(17), true},
		{ProtocolFromInt(132), true},
		{ProtocolFromString("ICMP"), false},
		{ProtocolFromString("UDPLite"), false},
		{ProtocolFromInt(1), false},
		{Protocol{Type: NumOrStringString, StrVal: "6"}, true},
	} {
		if got := tc.p.SupportsPorts(); got != tc.want {
			t.Errorf("%v.SupportsPorts() = %v, want %v", tc.p, got, tc.want)
		}
	}
}

func TestProtocolFromString_FoldsCaseOntoCanonicalName(t *testing.T) {
	if p := ProtocolFromString("icmpv6"); !p.Is(ProtocolICMPv6) || !p.IsValidName() {
		t.Errorf("ProtocolFromString(icmpv6) = %+v, want canonical ICMPv6", p)
	}
	if p := ProtocolFromString("gre"); p.IsValidName() {
		t.Errorf("gre must not be a valid protocol name")
	}
}
