package client

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadConfig_FollowsCalicoPrecedence(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "calicoctl.cfg")
	os.WriteFile(cfgFile, []byte("apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata: {}\nspec:\n  datastoreType: etcdv3\n  etcdEndpoints: http://127.0.0.1:1111,http://127.0.0.1:2222\n  etcdCACertFile: /ca.pem\n"), 0o644)
	badFile := filepath.Join(dir, "bad.cfg")
	os.WriteFile(badFile, []byte("apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec: {etcdEndpoint: x}\n"), 0o644)
	cases := []struct {
		name      string
		path      string
		env       map[string]string
		wantType  string
		wantEP    string
		wantDir   string
		wantError string
	}{
		{name: "nothing configured is embedded", wantType: DatastoreEmbedded, wantDir: DefaultEmbeddedDir},
		{name: "embedded dir from env", env: map[string]string{EnvEmbeddedDir: "/tmp/x"}, wantType: DatastoreEmbedded, wantDir: "/tmp/x"},
		{name: "ETCD_ENDPOINTS alone selects etcdv3", env: map[string]string{"ETCD_ENDPOINTS": "http://127.0.0.1:9"}, wantType: DatastoreEtcdV3, wantEP: "http://127.0.0.1:9"},
		{name: "etcdv3 without endpoints uses Calico's default", env: map[string]string{"DATASTORE_TYPE": "etcdv3"}, wantType: DatastoreEtcdV3, wantEP: DefaultEtcdEndpoint},
		{name: "CALICO_ prefix wins", env: map[string]string{"ETCD_ENDPOINTS": "http://a:1", "CALICO_ETCD_ENDPOINTS": "http://b:2"}, wantType: DatastoreEtcdV3, wantEP: "http://b:2"},
		{name: "kubernetes type is accepted by config", env: map[string]string{"DATASTORE_TYPE": "kubernetes", "KUBECONFIG": "/k"}, wantType: DatastoreKubernetes},
		{name: "file beats environment", path: cfgFile, env: map[string]string{"ETCD_ENDPOINTS": "http://env:1"}, wantType: DatastoreEtcdV3, wantEP: "http://127.0.0.1:1111,http://127.0.0.1:2222"},
		{name: "explicit missing file is an error", path: filepath.Join(dir, "nope.cfg"), wantError: "nope.cfg"},
		{name: "unknown field in file", path: badFile, wantError: "etcdEndpoint"},
		{name: "bad datastore type", env: map[string]string{"DATASTORE_TYPE": "consul"}, wantError: `datastore type "consul"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path
			if path == "" {
				// The default path, which does not exist in tests' environments
				// unless someone installed calicoctl.cfg; skip then.
				if _, err := os.Stat(DefaultConfigPath); err == nil {
					t.Skipf("%s exists on this machine", DefaultConfigPath)
				}
			}
			cfg, err := LoadConfig(path, func(k string) string { return tc.env[k] })
			if tc.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantError) {
					t.Fatalf("got %v, want error containing %q", err, tc.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.DatastoreType != tc.wantType || (tc.wantEP != "" && cfg.EtcdEndpoints != tc.wantEP) || (tc.wantDir != "" && cfg.EmbeddedDir != tc.wantDir) {
				t.Errorf("got type %q endpoints %q dir %q", cfg.DatastoreType, cfg.EtcdEndpoints, cfg.EmbeddedDir)
			}
		})
	}
	cfg, _ := LoadConfig(cfgFile, func(string) string { return "" })
	if eps := cfg.Endpoints(); len(eps) != 2 || cfg.EtcdCACertFile != "/ca.pem" {
		t.Errorf("endpoints %v, CA %q", eps, cfg.EtcdCACertFile)
	}
}
