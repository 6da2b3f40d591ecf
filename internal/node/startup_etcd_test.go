package node

import (
	"testing"

	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/datastore/etcd"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// TestStartup_AgainstExternalEtcd runs the same first-and-second startup
// story against Debian's etcd, as a real cluster would.
func TestStartup_AgainstExternalEtcd(t *testing.T) {
	ep := testutil.StartEtcd(t)
	be, err := etcd.New(etcd.Config{Endpoints: []string{ep}})
	if err != nil {
		t.Fatal(err)
	}
	c := client.New(be)
	defer c.Close()
	checkFirstStartup(t, c)
}
