// Command calico is the calico CNI plugin and, installed (or linked) under
// the name calico-ipam, Calico's IPAM plugin: the behaviour follows the
// name it was run by, as with Calico's own binary.
package main

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/containernetworking/cni/pkg/skel"

	"github.com/tricolor-net/tricolor/internal/cni"
)

func main() {
	name := filepath.Base(os.Args[0])
	if strings.HasPrefix(name, "calico-ipam") {
		p := &cni.IPAMPlugin{}
		skel.PluginMainFuncs(p.Funcs(), cni.SupportedVersions, "calico-ipam (Tricolor) CNI IPAM plugin")
		return
	}
	p := &cni.Plugin{}
	skel.PluginMainFuncs(p.Funcs(), cni.SupportedVersions, "calico (Tricolor) CNI plugin")
}
