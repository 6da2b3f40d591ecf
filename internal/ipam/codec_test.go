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

// TestCodec_NewerCalicoFieldsSurviveAPIv3 checks that the fields IPAM uses
// beyond the pinned Calico API (autoAllocateBlocks, ipCooldownSeconds,
// releasedAt) decode strictly into api/v3 and survive its re-encoding, so a
// round trip through the client keeps them.
func TestCodec_NewerCalicoFieldsSurviveAPIv3(t *testing.T) {
	e := newEnv(t)
	e.pool("p", "10.0.0.0/24", 26, nil)
	if err := e.m.SetIPAMConfig(ctx, Config{AutoAllocateBlocks: false, IPCooldown: 30 * second}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.AssignIP(ctx, AssignIPArgs{IP: mustAddr("10.0.0.5"), HandleID: "h1", Hostname: "node-1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.ReleaseByHandle(ctx, "h1"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		kind string
		into any
		want []string
	}{
		{kindIPAMConfig, &v3.IPAMConfiguration{}, []string{`"autoAllocateBlocks":false`, `"ipCooldownSeconds":30`}},
		{kindIPAMBlock, &v3.IPAMBlock{}, []string{`"releasedAt":`}},
	} {
		l, err := e.be.List(ctx, listOf(c.kind))
		if err != nil || len(l.Items) != 1 {
			t.Fatalf("list %s: %v (%d items)", c.kind, err, len(l.Items))
		}
		d := json.NewDecoder(bytes.NewReader(l.Items[0].Value))
		d.DisallowUnknownFields()
		if err := d.Decode(c.into); err != nil {
			t.Fatalf("%s does not decode strictly into api/v3: %v\n%s", c.kind, err, l.Items[0].Value)
		}
		out, err := json.Marshal(c.into)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range c.want {
			if !bytes.Contains(out, []byte(w)) {
				t.Errorf("%s lost %s in an api/v3 round trip:\n%s", c.kind, w, out)
			}
		}
	}
}
