package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// stopGrace is how long processes get between SIGTERM and SIGKILL on down.
const stopGrace = 3 * time.Second

// Down removes everything run runID made, whether or not its state file
// exists or its processes still run: the recorded processes, every process
// carrying CALICO_LAB_RUN=<runID> or living in one of the run's
// namespaces, every lab-<runID>-* namespace (their veths, bridges and
// routes go with them) and the run directory. It is idempotent: running it
// on a run that is gone succeeds.
func Down(ctx context.Context, root, runID string) error {
	if err := ValidateRunID(runID); err != nil {
		return err
	}
	root = ResolveRunRoot(root)
	dir := RunDir(root, runID)
	var errs []error
	// The state is a hint: it names processes whose namespaces might
	// already be gone. Its absence or corruption changes nothing below.
	var nodes, pids []int
	if st, err := LoadState(dir); err == nil {
		for _, p := range st.Processes {
			if p.alive() && p.Role == RoleNode {
				nodes = append(nodes, p.PID)
			} else if p.alive() {
				pids = append(pids, p.PID)
			}
		}
	}
	// calico-node first, then the datastore, so nodes do not log a storm
	// of connection errors while it goes.
	if err := stopPIDs(nodes, stopGrace); err != nil {
		errs = append(errs, err)
	}
	pids = append(pids, pidsWithRunID(runID)...)
	nss, err := listNetns(runPrefix(runID))
	if err != nil {
		errs = append(errs, err)
	}
	for _, n := range nss {
		pids = append(pids, pidsInNetns(n)...)
	}
	if err := stopPIDs(dedupe(pids), stopGrace); err != nil {
		errs = append(errs, err)
	}
	for _, n := range nss {
		// A process may have entered between the scan and now (a user's
		// `calico-lab exec`); sweep once more right before deleting.
		if rest := pidsInNetns(n); len(rest) > 0 {
			if err := stopPIDs(rest, time.Second); err != nil {
				errs = append(errs, err)
			}
		}
		if _, err := ipCmd(ctx, "netns", "del", n); err != nil && netnsExists(n) {
			errs = append(errs, err)
		}
	}
	if err := removeAllExisting(dir); err != nil {
		errs = append(errs, fmt.Errorf("remove run directory %s: %w", dir, err))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("down %s: %w", runID, err)
	}
	return nil
}

// Down removes this lab (see the package-level Down).
func (l *Lab) Down(ctx context.Context) error {
	return Down(ctx, l.opts.RunRoot, l.st.RunID)
}

// DownAll removes every run under root and every lab-*-* namespace whose
// run ID is valid, for `calico-lab down --all`.
func DownAll(ctx context.Context, root string) error {
	root = ResolveRunRoot(root)
	ids := map[string]bool{}
	runs, err := ListRuns(root)
	if err != nil {
		return err
	}
	for _, id := range runs {
		ids[id] = true
	}
	nss, _ := listNetns(NetnsPrefix)
	for _, n := range nss {
		rest := n[len(NetnsPrefix):]
		for i := 0; i < len(rest); i++ {
			if rest[i] == '-' {
				if ValidateRunID(rest[:i]) == nil {
					ids[rest[:i]] = true
				}
				break
			}
		}
	}
	var errs []error
	for id := range ids {
		if err := Down(ctx, root, id); err != nil {
			errs = append(errs, err)
		}
	}
	_ = os.Remove(root) // only when empty
	return errors.Join(errs...)
}

// dedupe removes repeated PIDs, keeping the first occurrence's order.
func dedupe(pids []int) []int {
	seen := map[int]bool{}
	var out []int
	for _, p := range pids {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}
