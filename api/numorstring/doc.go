// Package numorstring holds the small value types of the projectcalico.org/v3
// API that accept either a number or a string in YAML/JSON: AS numbers
// (plain "64512" or dotted "1.10") and ports (80, "8080:8090" or a named port
// "http").
//
// Their encodings match Calico's byte for byte: an ASNumber always encodes as
// a plain number; a Port encodes as a number when it is a single port, as
// "min:max" for a range and as the name for a named port.
//
// Imports: the standard library only.
//
// +kubebuilder:object:generate=false
package numorstring
