package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/tricolor-net/tricolor/internal/installcni"
	"github.com/tricolor-net/tricolor/internal/node"
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
	fs.StringVar(&cfg.ServiceAccountDir, "service-account-dir", cfg.ServiceAccountDir, "Directory with the service account's token, ca.crt and namespace")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg.HostBinDirs = strings.Split(*hostBin, ",")
	res, err := installcni.Install(context.Background(), cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "install-cni:", err)
		return 1
	}
	fmt.Printf("install-cni: installed %d binaries (%s)\n", len(res.Binaries), strings.Join(res.Binaries, ", "))
	for _, w := range res.Warnings {
		fmt.Fprintln(os.Stderr, "install-cni: warning:", w)
	}
	if res.Kubeconfig != "" {
		fmt.Printf("install-cni: wrote kubeconfig %s (token of %s)\n", res.Kubeconfig, res.Account)
	}
	fmt.Printf("install-cni: wrote CNI config %s\n", res.Conflist)
	return 0
}

// cniTokenRefresher returns the component that keeps the CNI plugin's
// kubeconfig token fresh (Calico's CNI token monitor) at install-cni's
// container paths, or nil (see newCNITokenRefresher).
func cniTokenRefresher(getenv func(string) string) node.Component {
	cfg, err := installcni.FromEnv(getenv)
	if err != nil {
		slog.Warn("CNI kubeconfig token not refreshed", "err", err)
		return nil
	}
	return newCNITokenRefresher(cfg, getenv("CALICO_MANAGE_CNI"))
}

// newCNITokenRefresher returns the refresher for cfg, or nil, with the
// reason logged, when manageCNI (CALICO_MANAGE_CNI, default true) is false
// or calico-node does not run in a pod with the host's CNI config
// directory mounted.
func newCNITokenRefresher(cfg installcni.Config, manageCNI string) node.Component {
	if manageCNI != "" {
		manage, err := strconv.ParseBool(manageCNI)
		if err != nil {
			slog.Warn("CALICO_MANAGE_CNI is not a boolean; managing the CNI kubeconfig as by default (true)", "value", manageCNI)
		} else if !manage {
			slog.Info("CNI kubeconfig token not refreshed (CALICO_MANAGE_CNI=false)")
			return nil
		}
	}
	r, err := installcni.NewRefresher(cfg, slog.Default())
	if err != nil {
		slog.Info("CNI kubeconfig token not refreshed", "reason", err.Error())
		return nil
	}
	return r
}
