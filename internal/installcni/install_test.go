package installcni

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
)

// template is the calico-config ConfigMap's cni_network_config, in short.
const template = `{
  "name": "k8s-pod-network",
  "cniVersion": "0.3.1",
  "plugins": [
    {
      "type": "calico",
      "log_level": "__LOG_LEVEL__",
      "datastore_type": "__DATASTORE_TYPE__",
      "nodename": "__KUBERNETES_NODE_NAME__",
      "mtu": __CNI_MTU__,
      "ipam": {"type": "calico-ipam"},
      "policy": {"type": "k8s"},
      "kubernetes": {"kubeconfig": "__KUBECONFIG_FILEPATH__"}
    },
    {"type": "portmap", "snat": true, "capabilities": {"portMappings": true}}
  ]
}`

// fakeTokens hands out a fixed token (or error) without an API server;
// kube_test.go drives the real TokenSource.
type fakeTokens struct {
	tok Token
	err error
}

var _ tokenGetter = fakeTokens{}

func (f fakeTokens) token(context.Context) (Token, error) { return f.tok, f.err }

// cniToken is what fakeTokens hands out in the unit tests.
var cniToken = fakeTokens{tok: Token{Value: "cni-tok-456", Account: "system:serviceaccount:kube-system:calico-cni-plugin"}}

// selfSignedCA returns a PEM CA certificate client-go can load.
func selfSignedCA(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// layout builds the container's view in a temporary directory: an image
// bin dir with two binaries, a host bin dir, a host net dir and a mounted
// service account.
func layout(t *testing.T) Config {
	t.Helper()
	root := t.TempDir()
	mk := func(p string) string {
		p = filepath.Join(root, p)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	src, sa := mk("opt/cni/bin"), mk("sa")
	for name, body := range map[string]string{"calico": "#!calico", "calico-ipam": "#!ipam"} {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(sa, "token"), []byte("tok-123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sa, "ca.crt"), selfSignedCA(t), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sa, "namespace"), []byte("kube-system"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"CNI_NETWORK_CONFIG":      template,
		"CNI_MTU":                 "1440",
		"KUBERNETES_NODE_NAME":    "node-1",
		"KUBERNETES_SERVICE_HOST": "10.96.0.1",
		"KUBERNETES_SERVICE_PORT": "443",
	}
	cfg, err := FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	cfg.SourceBinDir = src
	cfg.HostBinDirs = []string{mk("host/opt/cni/bin"), filepath.Join(root, "host/secondary-bin-dir")}
	cfg.HostNetDir = mk("host/etc/cni/net.d")
	cfg.ServiceAccountDir = sa
	return cfg
}

func TestInstall_WritesBinariesKubeconfigAndConflist(t *testing.T) {
	cfg := layout(t)
	res, err := install(context.Background(), cfg, cniToken)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"calico", "calico-ipam"} {
		p := filepath.Join(cfg.HostBinDirs[0], name)
		st, err := os.Stat(p)
		if err != nil {
			t.Fatalf("binary %s not installed: %v", name, err)
		}
		if st.Mode().Perm() != 0o755 {
			t.Errorf("%s mode %v, want 0755", name, st.Mode().Perm())
		}
	}
	if len(res.Binaries) != 2 {
		t.Errorf("binaries %v: the missing secondary dir must be skipped", res.Binaries)
	}

	kc, err := clientcmd.LoadFromFile(res.Kubeconfig)
	if err != nil {
		t.Fatalf("kubeconfig does not load: %v", err)
	}
	ctx := kc.Contexts[kc.CurrentContext]
	if got := kc.Clusters[ctx.Cluster].Server; got != "https://10.96.0.1:443" {
		t.Errorf("server %q", got)
	}
	if got := kc.AuthInfos[ctx.AuthInfo].Token; got != "cni-tok-456" {
		t.Errorf("token %q, want the CNI service account's (not the pod's tok-123)", got)
	}
	if res.Account != cniToken.tok.Account || len(res.Warnings) != 0 {
		t.Errorf("account %q, warnings %q", res.Account, res.Warnings)
	}
	if len(kc.Clusters[ctx.Cluster].CertificateAuthorityData) == 0 {
		t.Error("CA not embedded")
	}
	if st, _ := os.Stat(res.Kubeconfig); st.Mode().Perm() != 0o600 {
		t.Errorf("kubeconfig mode %v, want 0600 (it holds a token)", st.Mode().Perm())
	}

	if res.Conflist != filepath.Join(cfg.HostNetDir, "10-calico.conflist") {
		t.Errorf("conflist at %s", res.Conflist)
	}
	raw, err := os.ReadFile(res.Conflist)
	if err != nil {
		t.Fatal(err)
	}
	var conf struct {
		Plugins []struct {
			Type       string `json:"type"`
			Nodename   string `json:"nodename"`
			MTU        int    `json:"mtu"`
			Datastore  string `json:"datastore_type"`
			Kubernetes struct {
				Kubeconfig string `json:"kubeconfig"`
			} `json:"kubernetes"`
		} `json:"plugins"`
	}
	if err := json.Unmarshal(raw, &conf); err != nil {
		t.Fatal(err)
	}
	p := conf.Plugins[0]
	if p.Nodename != "node-1" || p.MTU != 1440 || p.Datastore != "kubernetes" ||
		p.Kubernetes.Kubeconfig != "/etc/cni/net.d/calico-kubeconfig" {
		t.Errorf("calico plugin config %+v", p)
	}
	leftovers, _ := filepath.Glob(filepath.Join(cfg.HostNetDir, ".*tmp*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func TestInstall_SecondaryBinDirAndSkipAndNoUpdate(t *testing.T) {
	cfg := layout(t)
	if err := os.MkdirAll(cfg.HostBinDirs[1], 0o755); err != nil {
		t.Fatal(err)
	}
	existing := filepath.Join(cfg.HostBinDirs[0], "calico")
	if err := os.WriteFile(existing, []byte("old"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg.UpdateBinaries = false
	cfg.SkipBinaries = []string{"calico-ipam"}
	if _, err := install(context.Background(), cfg, cniToken); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(existing); string(b) != "old" {
		t.Errorf("UPDATE_CNI_BINARIES=false overwrote calico: %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(cfg.HostBinDirs[1], "calico")); string(b) != "#!calico" {
		t.Errorf("secondary bin dir calico = %q", b)
	}
	for _, d := range cfg.HostBinDirs {
		if _, err := os.Stat(filepath.Join(d, "calico-ipam")); err == nil {
			t.Errorf("SKIP_CNI_BINARIES=calico-ipam installed it in %s", d)
		}
	}
}

func TestInstall_NoServiceHostWritesNoKubeconfig(t *testing.T) {
	cfg := layout(t)
	cfg.ServiceHost = ""
	cfg.NetworkConfig = strings.ReplaceAll(template, "__KUBECONFIG_FILEPATH__", "")
	res, err := Install(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Kubeconfig != "" {
		t.Errorf("kubeconfig written without an API server: %s", res.Kubeconfig)
	}
	if _, err := os.Stat(filepath.Join(cfg.HostNetDir, DefaultKubeconfigName)); err == nil {
		t.Error("kubeconfig file exists")
	}
}

// A fallback token (the CNI service account does not exist) is written,
// and the install reports the warning.
func TestInstall_FallbackTokenIsWrittenWithAWarning(t *testing.T) {
	cfg := layout(t)
	fb := fakeTokens{tok: Token{Value: "tok-123", Fallback: "service account kube-system/calico-cni-plugin does not exist"}}
	res, err := install(context.Background(), cfg, fb)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "does not exist") {
		t.Errorf("warnings %q", res.Warnings)
	}
	kc, err := clientcmd.LoadFromFile(res.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if got := kc.AuthInfos["calico"].Token; got != "tok-123" {
		t.Errorf("token %q, want the pod's own", got)
	}
}

func TestInstall_ErrorsNameTheSettingAndWriteNothing(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Config)
		tokens tokenGetter // nil: the real TokenSource (fails before any request)
		want   string
	}{
		{"no template", func(c *Config) { c.NetworkConfig = "" }, cniToken, "CNI_NETWORK_CONFIG is not set"},
		{"unknown placeholder", func(c *Config) { c.NetworkConfig = strings.Replace(template, "__LOG_LEVEL__", "__LOGLEVEL__", 1) }, cniToken, "__LOGLEVEL__"},
		{"not JSON", func(c *Config) { c.NetworkConfig = strings.Replace(template, "__CNI_MTU__", `"__CNI_MTU__`, 1) }, cniToken, "not valid JSON"},
		{"no plugins in a conflist", func(c *Config) { c.NetworkConfig = `{"name":"n","type":"calico"}` }, cniToken, `no "plugins" list`},
		{"no name", func(c *Config) { c.NetworkConfig = `{"plugins":[{"type":"calico"}]}` }, cniToken, `no "name"`},
		{"conf name with a path", func(c *Config) { c.ConfName = "../10-calico.conflist" }, cniToken, "not a file name"},
		{"conf name kubelet ignores", func(c *Config) { c.ConfName = "10-calico.yaml" }, cniToken, "only loads"},
		{"no host bin dir", func(c *Config) { c.HostBinDirs = []string{filepath.Join(t.TempDir(), "missing")} }, cniToken, "mount the host's /opt/cni/bin"},
		{"no token", func(c *Config) { os.Remove(filepath.Join(c.ServiceAccountDir, "token")) }, nil, "service account token"},
		{"no CA", func(c *Config) { os.Remove(filepath.Join(c.ServiceAccountDir, "ca.crt")) }, nil, "ca.crt is missing"},
		{"no namespace", func(c *Config) { os.Remove(filepath.Join(c.ServiceAccountDir, "namespace")) }, nil, "the pod's namespace"},
		{"token request refused", func(*Config) {}, fakeTokens{err: errors.New("serviceaccounts \"calico-cni-plugin\" is forbidden")}, "is forbidden"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := layout(t)
			tc.change(&cfg)
			_, err := install(context.Background(), cfg, tc.tokens)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to mention %q", err, tc.want)
			}
			if _, err := os.Stat(filepath.Join(cfg.HostNetDir, cfg.ConfName)); err == nil {
				t.Error("a conflist was written although the install failed")
			}
			if _, err := os.Stat(filepath.Join(cfg.HostNetDir, DefaultKubeconfigName)); err == nil {
				t.Error("a kubeconfig was written although the install failed")
			}
		})
	}
	// Bad input is refused before anything reaches the host.
	cfg := layout(t)
	cfg.NetworkConfig = strings.Replace(template, "__LOG_LEVEL__", "__LOGLEVEL__", 1)
	if _, err := install(context.Background(), cfg, cniToken); err == nil {
		t.Fatal("bad template accepted")
	}
	if _, err := os.Stat(filepath.Join(cfg.HostBinDirs[0], "calico")); err == nil {
		t.Error("binaries were installed although the template is bad")
	}
}

func TestFromEnv_DefaultsAndBadValues(t *testing.T) {
	cfg, err := FromEnv(func(k string) string {
		return map[string]string{"KUBERNETES_NODE_NAME": "n"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	if auto, err := FromEnv(func(k string) string { return map[string]string{"KUBERNETES_NODE_NAME": "n", "CNI_MTU": "0"}[k] }); err != nil || auto.MTU != 0 {
		t.Errorf("CNI_MTU=0 (auto, Calico's veth_mtu default): %v %d", err, auto.MTU)
	}
	if cfg.ConfName != "10-calico.conflist" || cfg.CNINetDir != "/etc/cni/net.d" || cfg.MTU != 1500 ||
		!cfg.UpdateBinaries || cfg.ServiceProtocol != "https" || cfg.HostBinDirs[0] != "/host/opt/cni/bin" ||
		cfg.CNIServiceAccount != "calico-cni-plugin" || cfg.TokenRefreshInterval != 0 {
		t.Errorf("defaults %+v", cfg)
	}
	set, err := FromEnv(func(k string) string {
		return map[string]string{"KUBERNETES_NODE_NAME": "n", "CALICO_CNI_SERVICE_ACCOUNT": "canal", "CNI_TOKEN_REFRESH_INTERVAL": "90m"}[k]
	})
	if err != nil || set.CNIServiceAccount != "canal" || set.TokenRefreshInterval != 90*time.Minute {
		t.Errorf("CALICO_CNI_SERVICE_ACCOUNT/CNI_TOKEN_REFRESH_INTERVAL: %v %q %v", err, set.CNIServiceAccount, set.TokenRefreshInterval)
	}
	for _, tc := range []struct{ k, v, want string }{
		{"CNI_MTU", "big", "CNI_MTU"},
		{"CNI_MTU", "20", "CNI_MTU"},
		{"CNI_MTU", "-1", "CNI_MTU"},
		{"UPDATE_CNI_BINARIES", "maybe", "UPDATE_CNI_BINARIES"},
		{"CNI_TOKEN_REFRESH_INTERVAL", "6", "CNI_TOKEN_REFRESH_INTERVAL"},
		{"CNI_TOKEN_REFRESH_INTERVAL", "-1h", "CNI_TOKEN_REFRESH_INTERVAL"},
		{"CNI_NETWORK_CONFIG_FILE", "/nonexistent/x", "CNI_NETWORK_CONFIG_FILE"},
	} {
		_, err := FromEnv(func(k string) string {
			return map[string]string{"KUBERNETES_NODE_NAME": "n", tc.k: tc.v}[k]
		})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%s: error %v", tc.k, tc.v, err)
		}
	}
}

func TestServerURL_BracketsIPv6(t *testing.T) {
	for _, tc := range []struct{ host, port, want string }{
		{"10.96.0.1", "443", "https://10.96.0.1:443"},
		{"fd00::1", "443", "https://[fd00::1]:443"},
		{"fd00::1", "", "https://[fd00::1]"},
		{"api.example", "", "https://api.example"},
	} {
		if got := serverURL(Config{ServiceHost: tc.host, ServicePort: tc.port, ServiceProtocol: "https"}); got != tc.want {
			t.Errorf("%s %s: %s, want %s", tc.host, tc.port, got, tc.want)
		}
	}
}
