package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/datastore/k8s"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// The binary as the Deployment runs it, on the Kubernetes datastore of a
// real API server (KUBECONFIG): it becomes leader, -r and -l succeed, the
// metrics say it leads, it creates the KubeControllersConfiguration
// "default" with its status, and SIGTERM stops it cleanly; a bad
// ENABLED_CONTROLLERS fails at once with the reason.
func TestCalicoKubeControllers_RunsAgainstTheAPIServer(t *testing.T) {
	rc := testutil.StartKubeAPIServer(t)
	dir := t.TempDir()
	bin := testutil.BuildBinary(t, ".")
	kc := clientcmdapi.NewConfig()
	kc.Clusters["test"] = &clientcmdapi.Cluster{Server: rc.Host, CertificateAuthority: rc.TLSClientConfig.CAFile}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{Token: rc.BearerToken}
	kc.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "admin"}
	kc.CurrentContext = "test"
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, kubeconfig); err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(testutil.FreePort(t))
	env := append(os.Environ(), "KUBECONFIG="+kubeconfig, "DATASTORE_TYPE=kubernetes", "ENABLED_CONTROLLERS=node",
		"PROMETHEUS_METRICS_PORT="+port, "POD_NAME=kc-test", "POD_NAMESPACE=default", "LEAK_GRACE_PERIOD=1m")

	bad := exec.Command(bin)
	bad.Env = append(slices.Clone(env), "ENABLED_CONTROLLERS=node,flannel")
	if out, err := bad.CombinedOutput(); err == nil || !strings.Contains(string(out), `unknown controller "flannel"`) {
		t.Errorf("bad ENABLED_CONTROLLERS: %v %s", err, out)
	}

	cmd := exec.Command(bin)
	cmd.Env = env
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-exited
		}
	})

	probe := func(flag string) error {
		p := exec.Command(bin, flag)
		p.Env = env
		out, err := p.CombinedOutput()
		if err != nil {
			return &probeError{string(out)}
		}
		return nil
	}
	deadline := time.Now().Add(60 * time.Second)
	for probe("-r") != nil {
		if time.Now().After(deadline) {
			t.Fatalf("never ready: %v\nlogs:\n%s", probe("-r"), logs.String())
		}
		time.Sleep(300 * time.Millisecond)
	}
	if err := probe("-l"); err != nil {
		t.Errorf("-l: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		body := get(ctx, t, "http://127.0.0.1:"+port+"/metrics")
		if strings.Contains(body, "tricolor_kube_controllers_is_leader 1") {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("never leader; logs:\n%s", logs.String())
		}
		time.Sleep(300 * time.Millisecond)
	}

	// It created the KubeControllersConfiguration "default" and reports
	// there what runs and which variables overrode the resource.
	be, err := k8s.NewKDD(rc)
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	for {
		res, err := client.New(be).Get(ctx, v3.KindKubeControllersConfiguration, "", v3.KubeControllersConfigurationName)
		if err == nil {
			st := res.(*v3.KubeControllersConfiguration).Status
			if n := st.RunningConfig.Controllers.Node; n != nil {
				if n.LeakGracePeriod.Duration != time.Minute || st.EnvironmentVars["ENABLED_CONTROLLERS"] != "node" || st.EnvironmentVars["LEAK_GRACE_PERIOD"] != "1m" {
					t.Errorf("status %+v: want node.leakGracePeriod 1m and environmentVars ENABLED_CONTROLLERS=node, LEAK_GRACE_PERIOD=1m", st)
				}
				break
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("no KubeControllersConfiguration status (%v); logs:\n%s", err, logs.String())
		}
		time.Sleep(300 * time.Millisecond)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\nlogs:\n%s", err, logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("did not stop on SIGTERM")
	}
}

type probeError struct{ out string }

func (e *probeError) Error() string { return strings.TrimSpace(e.out) }

func get(ctx context.Context, t *testing.T, url string) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
