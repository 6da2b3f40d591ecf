package numorstring

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// NumOrStringType says which member of a number-or-string value is set.
type NumOrStringType int

// The two kinds of number-or-string value.
const (
	// NumOrStringNum means the value is a number (NumVal).
	NumOrStringNum NumOrStringType = iota
	// NumOrStringString means the value is a string (StrVal).
	NumOrStringString
)

// Protocol names, spelled as Calico spells them in projectcalico.org/v3.
const (
	ProtocolTCP     = "TCP"
	ProtocolUDP     = "UDP"
	ProtocolICMP    = "ICMP"
	ProtocolICMPv6  = "ICMPv6"
	ProtocolSCTP    = "SCTP"
	ProtocolUDPLite = "UDPLite"
)

// ProtocolNames lists every protocol name Calico accepts, canonical spelling.
var ProtocolNames = []string{ProtocolTCP, ProtocolUDP, ProtocolICMP, ProtocolICMPv6, ProtocolSCTP, ProtocolUDPLite}

// Protocol is an IP protocol given by name ("TCP") or number (6). In YAML/JSON
// it is a bare string or number; a quoted number ("6") reads as the number.
// The Go shape (Type/NumVal/StrVal) is Calico's.
//
// +kubebuilder:validation:XIntOrString
// +kubebuilder:validation:Pattern=`^.*`
type Protocol struct {
	// Type says whether NumVal or StrVal holds the value.
	Type NumOrStringType `json:"type"`
	// NumVal is the protocol number when Type is NumOrStringNum.
	NumVal uint8 `json:"numVal"`
	// StrVal is the protocol name when Type is NumOrStringString.
	StrVal string `json:"strVal"`
}

// ProtocolFromInt returns the protocol with number p.
func ProtocolFromInt(p uint8) Protocol { return Protocol{Type: NumOrStringNum, NumVal: p} }

// ProtocolFromString returns the named protocol, folding case onto Calico's
// canonical spelling ("tcp" becomes "TCP"). An unknown name is kept as given
// so that validation can report it.
func ProtocolFromString(s string) Protocol {
	for _, n := range ProtocolNames {
		if strings.EqualFold(n, s) {
			return Protocol{Type: NumOrStringString, StrVal: n}
		}
	}
	return Protocol{Type: NumOrStringString, StrVal: s}
}

// UnmarshalJSON reads a bare number or a string. A string of decimal digits
// that fits in 0-255 reads as a number; any other string is kept verbatim
// (not case-folded, as Calico keeps it) for validation to judge.
func (p *Protocol) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if n, err := strconv.ParseUint(s, 10, 8); err == nil {
			*p = ProtocolFromInt(uint8(n))
			return nil
		}
		*p = Protocol{Type: NumOrStringString, StrVal: s}
		return nil
	}
	var n uint8
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("protocol %s is not valid; use a name (TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite) or a number 1-255", b)
	}
	*p = ProtocolFromInt(n)
	return nil
}

// MarshalJSON writes a number when the value is numeric, else the name.
func (p Protocol) MarshalJSON() ([]byte, error) {
	if n, err := p.NumValue(); err == nil {
		return json.Marshal(n)
	}
	return json.Marshal(p.StrVal)
}

// String returns the name, or the number in decimal.
func (p Protocol) String() string {
	if p.Type == NumOrStringString {
		return p.StrVal
	}
	return strconv.FormatUint(uint64(p.NumVal), 10)
}

// NumValue returns the protocol number; for a string value it succeeds only
// when the string is a decimal number.
func (p Protocol) NumValue() (uint8, error) {
	if p.Type == NumOrStringString {
		n, err := strconv.ParseUint(p.StrVal, 10, 8)
		return uint8(n), err
	}
	return p.NumVal, nil
}

// SupportsPorts reports whether the protocol carries ports: TCP (6), UDP (17)
// or SCTP (132), by number or by name (Calico also accepts the lower-case v1
// spellings here).
func (p Protocol) SupportsPorts() bool {
	if n, err := p.NumValue(); err == nil {
		return n == 6 || n == 17 || n == 132
	}
	switch p.StrVal {
	case ProtocolTCP, ProtocolUDP, ProtocolSCTP, "tcp", "udp", "sctp":
		return true
	}
	return false
}

// Is reports whether p is the named protocol in its canonical spelling
// (Calico compares protocol values exactly).
func (p Protocol) Is(name string) bool {
	return p.Type == NumOrStringString && p.StrVal == name
}

// IsValidName reports whether the string value is one of ProtocolNames,
// spelled exactly.
func (p Protocol) IsValidName() bool {
	for _, n := range ProtocolNames {
		if p.StrVal == n {
			return true
		}
	}
	return false
}
