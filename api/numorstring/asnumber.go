package numorstring

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// ASNumber is a 32-bit BGP autonomous-system number. In YAML/JSON it may be
// written as a plain number (64512), a quoted number ("64512") or in
// "asdot" notation ("1.10" = 1<<16 + 10); it always encodes as a number.
//
// +kubebuilder:validation:Type=integer
// +kubebuilder:validation:Format=int32
type ASNumber uint32

// ParseASNumber parses plain or dotted AS number notation.
func ParseASNumber(s string) (ASNumber, error) {
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		return ASNumber(n), nil
	}
	hi, lo, ok := strings.Cut(s, ".")
	if ok {
		h, err1 := strconv.ParseUint(hi, 10, 16)
		l, err2 := strconv.ParseUint(lo, 10, 16)
		if err1 == nil && err2 == nil {
			return ASNumber(h<<16 | l), nil
		}
	}
	return 0, fmt.Errorf("%q is not a valid AS number; use a number 0-4294967295 or dotted notation such as 1.10", s)
}

// UnmarshalJSON accepts a number or a string in plain or dotted notation.
func (a *ASNumber) UnmarshalJSON(b []byte) error {
	var n uint32
	if err := json.Unmarshal(b, &n); err == nil {
		*a = ASNumber(n)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("AS number must be a number or a string such as \"64512\" or \"1.10\", got %s", b)
	}
	v, err := ParseASNumber(s)
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// String renders the number in plain notation.
func (a ASNumber) String() string { return strconv.FormatUint(uint64(a), 10) }
