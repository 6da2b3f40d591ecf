package cni

import (
	"errors"

	"github.com/containernetworking/cni/pkg/types"
	"github.com/tricolor-net/tricolor/internal/ipam"
)

// Plugin-specific CNI error codes (the spec reserves 0-99 for its own).
const (
	// ErrCodeCheckFailed: CHECK found the pod's networking differs from
	// what ADD built; the details list every difference.
	ErrCodeCheckFailed uint = 100
	// ErrCodeNoAddresses: IPAM could not find a free address.
	ErrCodeNoAddresses uint = 101
	// ErrCodeDataplane: the kernel refused part of the pod's networking.
	ErrCodeDataplane uint = 102
	// ErrCodeStatusUnavailable is the spec's STATUS code 50: the plugin
	// cannot serve ADD (here: the datastore does not answer).
	ErrCodeStatusUnavailable uint = 50
)

// cniError turns err into the CNI error the runtime sees: msg says what
// failed, details carry the cause with its fix.
func cniError(code uint, msg string, err error) *types.Error {
	var te *types.Error
	if errors.As(err, &te) {
		return te
	}
	details := ""
	if err != nil {
		details = err.Error()
	}
	return &types.Error{Code: code, Msg: msg, Details: details}
}

// ipamErrorCode picks the code for an IPAM failure.
func ipamErrorCode(err error) uint {
	var ex *ipam.ExhaustedError
	var np *ipam.NoPoolsError
	if errors.As(err, &ex) || errors.As(err, &np) {
		return ErrCodeNoAddresses
	}
	return types.ErrTryAgainLater
}
