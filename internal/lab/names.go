package lab

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
)

// Markers: how the lab recognises what it made, after a crash too.
const (
	// NetnsPrefix starts every namespace a lab creates: lab-<runID>-….
	NetnsPrefix = "lab-"
	// EnvRunID is set to the run ID in the environment of every process a
	// lab starts; the process sweep in Down finds them by it.
	EnvRunID = "CALICO_LAB_RUN"
	// DefaultRunRoot holds one directory per run (state, logs, datastore).
	DefaultRunRoot = "/run/calico-lab"
	// EnvRunRoot overrides DefaultRunRoot.
	EnvRunRoot = "CALICO_LAB_RUN_ROOT"
)

var runIDRE = regexp.MustCompile(`^[a-z0-9]{1,8}$`)

// NewRunID returns a random 6-character run ID.
func NewRunID() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ValidateRunID checks a user-chosen run ID: 1–8 lower-case letters or
// digits (it goes into namespace names and must not contain '-').
func ValidateRunID(id string) error {
	if !runIDRE.MatchString(id) {
		return fmt.Errorf("run ID %q: use 1 to 8 lower-case letters or digits", id)
	}
	return nil
}

// runPrefix is the namespace prefix of one run.
func runPrefix(runID string) string { return NetnsPrefix + runID + "-" }

// FabricNetns is the fabric namespace's name.
func FabricNetns(runID string) string { return runPrefix(runID) + "fabric" }

// NodeNetns is a node namespace's name.
func NodeNetns(runID, node string) string { return runPrefix(runID) + node }

// PodNetns is a pod namespace's name: lab-<runID>-pod-<namespace>.<pod>
// (the dot cannot occur in either name, so no two pods share one).
func PodNetns(runID, namespace, pod string) string {
	return runPrefix(runID) + "pod-" + namespace + "." + pod
}

// NetnsPath is where iproute2 keeps a named namespace.
func NetnsPath(name string) string { return "/run/netns/" + name }
