package testutil

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
)

// writeKubeAPIServerSecrets writes what a test API server authenticates
// with into dir: a service-account RSA key pair (sa.key signs tokens,
// sa.pub verifies them) and a static token file giving kubeTestToken to a
// cluster-admin user (group system:masters). The serving certificate is
// left to the server (--cert-dir self-signs one for 127.0.0.1/localhost).
func writeKubeAPIServerSecrets(dir string) error {
	if err := os.MkdirAll(filepath.Join(dir, "certs"), 0o700); err != nil {
		return err
	}
	if err := WriteServiceAccountKeys(dir); err != nil {
		return err
	}
	tokens := []byte(kubeTestToken + `,tricolor-admin,tricolor-admin-uid,"system:masters"` + "\n")
	if err := os.WriteFile(filepath.Join(dir, "tokens.csv"), tokens, 0o600); err != nil {
		return fmt.Errorf("write tokens.csv: %w", err)
	}
	return nil
}

// WriteServiceAccountKeys writes a fresh service-account RSA key pair into
// dir: sa.key (PKCS#1, signs tokens) and sa.pub (PKIX, verifies them).
func WriteServiceAccountKeys(dir string) error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fmt.Errorf("generate service-account key: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"sa.key": pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
		"sa.pub": pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}
