package client

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

func TestOpen_EmbeddedStartsThenReusesLiveServerAndKeepsData(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "etcd")
	cfg := &Config{CalicoAPIConfigSpec: CalicoAPIConfigSpec{DatastoreType: DatastoreEmbedded}, EmbeddedDir: dir}

	first, closeFirst, err := Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open (start embedded): %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "endpoint")); err != nil {
		t.Fatalf("embedded server wrote no endpoint file: %v", err)
	}
	p := v3.NewIPPool()
	p.Name, p.Spec.CIDR = "p1", "10.0.0.0/16"
	if _, err := first.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	// While the first server runs, a second Open must connect to it rather
	// than start another server on the same directory.
	second, closeSecond, err := Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open (reuse live server): %v", err)
	}
	if _, err := second.Get(ctx, "ippool", "", "p1"); err != nil {
		t.Errorf("second client does not see the first's write: %v", err)
	}
	closeSecond()
	closeFirst()
	// After both are closed the data is still on disk for the next command.
	third, closeThird, err := Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open (restart embedded): %v", err)
	}
	defer closeThird()
	if _, err := third.Get(ctx, "ippool", "", "p1"); err != nil {
		t.Errorf("data lost across embedded restarts: %v", err)
	}
}

func TestOpen_EtcdV3ExternalAndErrors(t *testing.T) {
	ctx := context.Background()
	ep := testutil.StartEtcd(t)
	c, closer, err := Open(ctx, &Config{CalicoAPIConfigSpec: CalicoAPIConfigSpec{DatastoreType: DatastoreEtcdV3, EtcdConfig: EtcdConfig{EtcdEndpoints: ep}}, Source: "test"})
	if err != nil {
		t.Fatalf("open external etcd: %v", err)
	}
	if _, _, err := c.List(ctx, "ippools", ""); err != nil {
		t.Errorf("list: %v", err)
	}
	closer()
	_, _, err = Open(ctx, &Config{CalicoAPIConfigSpec: CalicoAPIConfigSpec{DatastoreType: DatastoreEtcdV3, EtcdConfig: EtcdConfig{EtcdEndpoints: ep, EtcdUsername: "u"}}})
	if err == nil || !strings.Contains(err.Error(), "ETCD_USERNAME") {
		t.Errorf("username: got %v", err)
	}
}
