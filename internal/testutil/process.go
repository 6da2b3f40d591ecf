package testutil

import (
	"os/exec"
	"syscall"
	"time"
)

// terminate asks a server process to stop with SIGTERM and kills it if it
// has not exited within grace; done must close when the process has been
// waited for. It returns once the process is gone.
func terminate(cmd *exec.Cmd, done <-chan struct{}, grace time.Duration) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(grace):
		_ = cmd.Process.Kill()
		<-done
	}
}
