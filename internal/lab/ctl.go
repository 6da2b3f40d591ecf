package lab

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
)

// CalicoctlCommand returns calicoctl with args, ready to run inside the
// fabric namespace against the lab's datastore on the fabric's loopback.
// The root namespace never gets a route into the lab: calicoctl runs where
// the datastore is.
func (l *Lab) CalicoctlCommand(ctx context.Context, args ...string) (*exec.Cmd, error) {
	if l.st.Bins.Ctl == "" {
		return nil, errors.New("calicoctl not found when the lab came up; build it (`go build -o bin/ ./cmd/calicoctl`) and bring the lab up with --bin-dir")
	}
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", FabricNetns(l.st.RunID), l.st.Bins.Ctl}, args...)...)
	cmd.Env = append(baseEnv(),
		"DATASTORE_TYPE=etcdv3",
		fmt.Sprintf("ETCD_ENDPOINTS=http://127.0.0.1:%d", EtcdPort),
		EnvRunID+"="+l.st.RunID)
	return cmd, nil
}

// NodeStatusCommand returns `calicoctl node status` for one node: it reads
// that node's BGP status socket (a unix socket, so no namespace is needed).
func (l *Lab) NodeStatusCommand(ctx context.Context, node string) (*exec.Cmd, error) {
	if _, ok := l.nodeByName(node); !ok {
		return nil, fmt.Errorf("no node %q in lab %s", node, l.st.RunID)
	}
	if l.st.Bins.Ctl == "" {
		return nil, errors.New("calicoctl not found when the lab came up; build it (`go build -o bin/ ./cmd/calicoctl`) and bring the lab up with --bin-dir")
	}
	cmd := exec.CommandContext(ctx, l.st.Bins.Ctl, "node", "status")
	cmd.Env = append(baseEnv(), "TRICOLOR_RUN_DIR="+l.nodeRunDir(node))
	return cmd, nil
}
