package ipam

import (
	"bytes"
	"encoding/json"
	"testing"

	v3 "github.com/tricolor-net/tricolor/api/v3"
)

// TestCodec_DecodesAsAPIv3 checks that what IPAM writes decodes strictly
// into the api/v3 types calicoctl and the client use.
func TestCodec_DecodesAsAPIv3(t *testing.T) {
	e := newEnv(t)
	e.pool("p", "10.0.0.0/24", 26, nil)
	e.mustAssign("node-1", "k8s-pod-network.abc", 2)
	for _, c := range []struct {
		kind string
		into any
	}{{kindIPAMBlock, &v3.IPAMBlock{}}, {kindBlockAffinity, &v3.BlockAffinity{}}, {kindIPAMHandle, &v3.IPAMHandle{}}} {
		l, err := e.be.List(ctx, listOf(c.kind))
		if err != nil || len(l.Items) == 0 {
			t.Fatalf("list %s: %v (%d items)", c.kind, err, len(l.Items))
		}
		d := json.NewDecoder(bytes.NewReader(l.Items[0].Value))
		d.DisallowUnknownFields()
		if err := d.Decode(c.into); err != nil {
			t.Errorf("%s as written by ipam does not decode strictly into api/v3: %v\n%s", c.kind, err, l.Items[0].Value)
		}
	}
}
