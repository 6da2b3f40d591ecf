package lab

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// startProcess starts bin inside netns with `ip netns exec`, detached from
// the caller (own session, output to logPath) so it outlives `calico-lab
// up`. `ip netns exec` execs the program in place, so the PID is the
// program's. env is the complete environment; EnvRunID is added.
func startProcess(runID, role, name, netns, logPath string, env []string, bin string, args ...string) (Process, error) {
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return Process{}, err
	}
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return Process{}, fmt.Errorf("open log for %s %s: %w", role, name, err)
	}
	defer logf.Close()
	cmd := exec.Command("ip", append([]string{"netns", "exec", netns, bin}, args...)...)
	cmd.Env = append(env, EnvRunID+"="+runID)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return Process{}, fmt.Errorf("start %s %s (%s) in %s: %w", role, name, bin, netns, err)
	}
	p := Process{Role: role, Name: name, Netns: netns, PID: cmd.Process.Pid, Log: logPath}
	p.StartTicks, _ = startTicks(p.PID)
	// Reap it if it exits while we are still running; after we exit, init
	// does.
	go func() { _ = cmd.Wait() }()
	return p, nil
}

// baseEnv is the minimal environment the lab gives its processes: PATH and
// HOME only, so a user's ETCD_ENDPOINTS or FELIX_* never leaks into a lab.
func baseEnv() []string {
	env := []string{"PATH=" + os.Getenv("PATH")}
	if env[0] == "PATH=" {
		env[0] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	}
	if h := os.Getenv("HOME"); h != "" {
		env = append(env, "HOME="+h)
	}
	return env
}

// startTicks reads the process start time (field 22 of /proc/<pid>/stat),
// which tells a process from a later one that reused its PID.
func startTicks(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; fields after ')' are plain.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	return strconv.ParseUint(f[19], 10, 64)
}

// alive reports whether the recorded process still runs (same PID, same
// start time, not a zombie).
func (p Process) alive() bool {
	t, err := startTicks(p.PID)
	if err != nil || (p.StartTicks != 0 && t != p.StartTicks) {
		return false
	}
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.PID))
	if i := bytes.LastIndexByte(b, ')'); i >= 0 && len(b) > i+2 && b[i+2] == 'Z' {
		return false
	}
	return true
}

// stopPIDs sends SIGTERM to every PID, waits up to grace for them to exit
// and SIGKILLs the rest. PIDs that are gone are fine.
func stopPIDs(pids []int, grace time.Duration) error {
	var live []int
	for _, pid := range pids {
		if pid > 1 && syscall.Kill(pid, syscall.SIGTERM) == nil {
			live = append(live, pid)
		}
	}
	deadline := time.Now().Add(grace)
	for len(live) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		live = stillRunning(live)
	}
	var errs []error
	for _, pid := range live {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, fmt.Errorf("kill %d: %w", pid, err))
		}
	}
	deadline = time.Now().Add(5 * time.Second)
	for len(live) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		live = stillRunning(live)
	}
	if len(live) > 0 {
		errs = append(errs, fmt.Errorf("processes %v still running after SIGKILL", live))
	}
	return errors.Join(errs...)
}

// stillRunning filters pids to those not yet exited (zombies count as
// exited: their namespace references are gone).
func stillRunning(pids []int) []int {
	var out []int
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		if i := bytes.LastIndexByte(b, ')'); i >= 0 && len(b) > i+2 && b[i+2] == 'Z' {
			continue
		}
		out = append(out, pid)
	}
	return out
}

// pidsWithRunID scans /proc for processes whose environment holds
// CALICO_LAB_RUN=<runID>: every process a run started, even one whose
// namespace is gone or whose state was never written.
func pidsWithRunID(runID string) []int {
	ents, _ := os.ReadDir("/proc")
	marker := []byte(EnvRunID + "=" + runID + "\x00")
	self := os.Getpid()
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil {
			continue
		}
		if bytes.Contains(append([]byte{0}, b...), append([]byte{0}, marker...)) {
			out = append(out, pid)
		}
	}
	return out
}

// pidsInNetns lists processes inside a named namespace (`ip netns pids`).
func pidsInNetns(name string) []int {
	out, err := exec.Command("ip", "netns", "pids", name).Output()
	if err != nil {
		return nil
	}
	var pids []int
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil && pid != os.Getpid() {
			pids = append(pids, pid)
		}
	}
	return pids
}

// tail returns the last n bytes of a file, for error messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
