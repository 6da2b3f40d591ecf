// Command pause is the cluster harness's sandbox ("pause") container: it
// holds the pod's namespaces and does nothing until it is told to stop, like
// Kubernetes' registry.k8s.io/pause (which is C). As PID 1 of the pod it
// reaps children reparented to it. It is built statically and packed into a
// local OCI image by the harness.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for s := range sig {
		if s != syscall.SIGCHLD {
			return
		}
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
