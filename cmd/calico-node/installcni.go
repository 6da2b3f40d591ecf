package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/tricolor-net/tricolor/internal/installcni"
)

// installCNI is `calico-node install-cni`: put the CNI plugin, its
// kubeconfig and the conflist on the host (the DaemonSet's init
// container). Environment: Calico's install-cni variables; flags: where
// the host's directories are mounted.
func installCNI(args []string) int {
	cfg, err := installcni.FromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "install-cni:", err)
		return 1
	}
	fs := flag.NewFlagSet("calico-node install-cni", flag.ContinueOnError)
	fs.StringVar(&cfg.SourceBinDir, "source-bin-dir", cfg.SourceBinDir, "Directory holding the CNI binaries to install")
	hostBin := fs.String("host-bin-dir", strings.Join(cfg.HostBinDirs, ","), "Comma-separated host CNI bin directories (mounted); the first must exist")
	fs.StringVar(&cfg.HostNetDir, "host-net-dir", cfg.HostNetDir, "Host CNI config directory (mounted), i.e. CNI_NET_DIR as the container sees it")
	fs.StringVar(&cfg.ServiceAccountDir, "service-account-dir", cfg.ServiceAccountDir, "Directory with the service account's token and ca.crt")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg.HostBinDirs = strings.Split(*hostBin, ",")
	res, err := installcni.Install(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "install-cni:", err)
		return 1
	}
	fmt.Printf("install-cni: installed %d binaries (%s)\n", len(res.Binaries), strings.Join(res.Binaries, ", "))
	if res.Kubeconfig != "" {
		fmt.Printf("install-cni: wrote kubeconfig %s\n", res.Kubeconfig)
	}
	fmt.Printf("install-cni: wrote CNI config %s\n", res.Conflist)
	return 0
}
