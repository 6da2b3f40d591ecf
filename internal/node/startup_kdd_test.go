package node

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/bgp"
	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/felix"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// TestStartup_KubernetesDatastore runs calico-node's startup with
// DATASTORE_TYPE=kubernetes + KUBECONFIG against a real API server, for
// Kubernetes Nodes the test registers as the kubelet would: the node's
// address, AS number and tunnel address land as annotations on the
// Kubernetes Node, pools and configuration as CRDs; kubernetes-internal-ip
// uses the Node's InternalIP; a node the kubelet never registered fails
// clearly; Felix's and BGP's syncers get the data from the same backend.
func TestStartup_KubernetesDatastore(t *testing.T) {
	rc := testutil.StartKubeAPIServer(t)
	cs := kubernetes.NewForConfigOrDie(rc)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	registerNode(t, cs, "node-1", "198.18.0.2")
	registerNode(t, cs, "node-k", "198.18.0.7")

	kubeEnv := []string{"DATASTORE_TYPE=kubernetes", "KUBECONFIG=" + testutil.WriteKubeconfig(t, rc)}
	c, closeDS, err := client.Open(ctx, testConfig(t, kubeEnv...).Datastore)
	if err != nil {
		t.Fatalf("open the kubernetes datastore: %v", err)
	}
	defer closeDS()

	checkFirstStartup(t, c)
	kn, err := cs.CoreV1().Nodes().Get(ctx, "node-1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"projectcalico.org/IPv4Address", "projectcalico.org/ASNumber", "projectcalico.org/IPv4VXLANTunnelAddr", "projectcalico.org/VXLANTunnelMACAddr"} {
		if kn.Annotations[k] == "" {
			t.Errorf("kubernetes node lacks annotation %s: %v", k, kn.Annotations)
		}
	}
	if kn.Annotations["projectcalico.org/IPv4Address"] != "198.18.0.2/24" || kn.Annotations["projectcalico.org/ASNumber"] != "64512" {
		t.Errorf("annotations = %v", kn.Annotations)
	}
	if kn.Labels["kubernetes.io/hostname"] != "node-1" {
		t.Errorf("the kubelet's labels were lost: %v", kn.Labels)
	}

	t.Run("KubernetesInternalIP", func(t *testing.T) {
		cfg := testConfig(t, append(kubeEnv, "NODENAME=node-k", "IP_AUTODETECTION_METHOD=kubernetes-internal-ip", "NO_DEFAULT_POOLS=true")...)
		res, err := Startup(ctx, c, cfg, testDeps(hostIfaces()))
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Node.Spec.BGP.IPv4Address; got != "198.18.0.7/32" {
			t.Errorf("address = %q; want the InternalIP 198.18.0.7/32 (no host interface holds it)", got)
		}
	})

	t.Run("UnregisteredNodeFailsClearly", func(t *testing.T) {
		cfg := testConfig(t, append(kubeEnv, "NODENAME=ghost", "IP=198.18.0.9")...)
		_, err := Startup(ctx, c, cfg, testDeps(hostIfaces()))
		if err == nil || !strings.Contains(err.Error(), "kubelet") {
			t.Fatalf("err = %v; want a refusal naming the kubelet", err)
		}
	})

	t.Run("FelixAndBGPSyncersSeeTheNode", func(t *testing.T) {
		kinds := append([]datastore.ListOptions(nil), bgp.SyncedKinds()...)
		for _, k := range felix.SyncKinds {
			kinds = append(kinds, datastore.ListOptions{Kind: k})
		}
		rec := &inSyncRecorder{insync: make(chan struct{})}
		s := datastore.NewSyncer(c.Backend(), kinds, rec)
		sctx, stop := context.WithCancel(ctx)
		defer stop()
		go s.Run(sctx)
		select {
		case <-rec.insync:
		case <-time.After(30 * time.Second):
			t.Fatal("syncer over the kubernetes datastore never reached InSync")
		}
		rec.mu.Lock()
		defer rec.mu.Unlock()
		if !strings.Contains(rec.values[datastore.Key{Kind: v3.KindNode, Name: "node-1"}], `"ipv4Address":"198.18.0.2/24"`) {
			t.Errorf("synced node-1 = %s", rec.values[datastore.Key{Kind: v3.KindNode, Name: "node-1"}])
		}
		blocks := 0
		for k := range rec.values {
			if k.Kind == v3.KindIPAMBlock {
				blocks++
			}
		}
		if blocks == 0 || rec.values[datastore.Key{Kind: v3.KindIPPool, Name: DefaultIPv4PoolName}] == "" || rec.values[datastore.Key{Kind: v3.KindProfile, Name: "kns.default"}] == "" {
			t.Errorf("synced %d blocks; pool %q; profile kns.default %q", blocks, rec.values[datastore.Key{Kind: v3.KindIPPool, Name: DefaultIPv4PoolName}], rec.values[datastore.Key{Kind: v3.KindProfile, Name: "kns.default"}])
		}
	})
}

// registerNode creates a Kubernetes Node with an InternalIP, as the kubelet
// does.
func registerNode(t *testing.T, cs kubernetes.Interface, name, internalIP string) {
	t.Helper()
	ctx := context.Background()
	n, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: internalIP}, {Type: corev1.NodeHostName, Address: name}}
	if _, err := cs.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// inSyncRecorder keeps the synced values and closes insync once.
type inSyncRecorder struct {
	mu     sync.Mutex
	values map[datastore.Key]string
	insync chan struct{}
	once   sync.Once
}

func (r *inSyncRecorder) OnStatusUpdated(s datastore.SyncStatus) {
	if s == datastore.InSync {
		r.once.Do(func() { close(r.insync) })
	}
}

func (r *inSyncRecorder) OnUpdates(us []datastore.Update) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.values == nil {
		r.values = map[datastore.Key]string{}
	}
	for _, u := range us {
		if u.UpdateType == datastore.UpdateTypeDeleted {
			delete(r.values, u.Key)
		} else {
			r.values[u.Key] = string(u.Value)
		}
	}
}
