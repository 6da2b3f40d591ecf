package numorstring

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
)

// Port is a single port, an inclusive range of ports or a named port.
// In YAML/JSON it is written as 80, "80", "8000:8080" or "http".
//
// +kubebuilder:validation:XIntOrString
// +kubebuilder:validation:Pattern=`^.*`
type Port struct {
	// MinPort is the first port of the range (equal to MaxPort for one port).
	MinPort uint16 `json:"minPort,omitempty"`
	// MaxPort is the last port of the range.
	MaxPort uint16 `json:"maxPort,omitempty"`
	// PortName is set for a named port; MinPort and MaxPort are then zero.
	PortName string `json:"portName"`
}

// SinglePort returns the Port for one port number.
func SinglePort(p uint16) Port { return Port{MinPort: p, MaxPort: p} }

// NamedPort returns the Port for a named port.
func NamedPort(name string) Port { return Port{PortName: name} }

// PortRange returns the Port for min..max, or an error if min > max.
func PortRange(minPort, maxPort uint16) (Port, error) {
	if minPort > maxPort {
		return Port{}, fmt.Errorf("port range %d:%d is reversed; write the lower port first (%d:%d)", minPort, maxPort, maxPort, minPort)
	}
	return Port{MinPort: minPort, MaxPort: maxPort}, nil
}

var (
	digitsRE   = regexp.MustCompile(`^[0-9]+$`)
	rangeRE    = regexp.MustCompile(`^([0-9]+):([0-9]+)$`)
	portNameRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,128}$`)
)

// ParsePort parses "80", "8000:8080" or a port name.
func ParsePort(s string) (Port, error) {
	if digitsRE.MatchString(s) {
		n, err := strconv.ParseUint(s, 10, 16)
		if err != nil {
			return Port{}, fmt.Errorf("port %q is out of range; use 0-65535", s)
		}
		return SinglePort(uint16(n)), nil
	}
	if m := rangeRE.FindStringSubmatch(s); m != nil {
		lo, err1 := strconv.ParseUint(m[1], 10, 16)
		hi, err2 := strconv.ParseUint(m[2], 10, 16)
		if err1 != nil || err2 != nil {
			return Port{}, fmt.Errorf("port range %q is out of range; both ends must be 0-65535", s)
		}
		return PortRange(uint16(lo), uint16(hi))
	}
	if !portNameRE.MatchString(s) {
		return Port{}, fmt.Errorf("%q is not a port, port range (min:max) or port name (letters, digits, '_', '.', '-', at most 128)", s)
	}
	return NamedPort(s), nil
}

// UnmarshalJSON accepts a number or a string (see ParsePort).
func (p *Port) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := ParsePort(s)
		if err != nil {
			return err
		}
		*p = v
		return nil
	}
	var n uint16
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("port must be 0-65535 or a string such as \"8000:8080\", got %s", b)
	}
	*p = SinglePort(n)
	return nil
}

// MarshalJSON encodes a single port as a number, otherwise as String().
func (p Port) MarshalJSON() ([]byte, error) {
	if p.PortName == "" && p.MinPort == p.MaxPort {
		return json.Marshal(p.MinPort)
	}
	return json.Marshal(p.String())
}

// String renders the port as it is written in YAML.
func (p Port) String() string {
	switch {
	case p.PortName != "":
		return p.PortName
	case p.MinPort == p.MaxPort:
		return strconv.FormatUint(uint64(p.MinPort), 10)
	default:
		return fmt.Sprintf("%d:%d", p.MinPort, p.MaxPort)
	}
}
