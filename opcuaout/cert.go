package opcuaout

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"steelinspect/audit"
	"steelinspect/internal/files"
)

// The server's certificate and key, in the folder of the trail.
const (
	certFile = "opcua-server.der"
	keyFile  = "opcua-server.key"
	// certYears is how long a new certificate is valid.
	certYears = 10
)

// trailDir is the folder of store's database.
func trailDir(store *audit.Store) string { return filepath.Dir(store.Path()) }

// thumbprint is a certificate's SHA-1 thumbprint, as OPC UA names it.
func thumbprint(der []byte) string {
	sum := sha1.Sum(der)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// loadOrCreateCert reads the server's certificate and key from dir, or
// makes them there on first use (a self-signed RSA 2048 certificate for
// Basic256Sha256, the key readable by its owner only). It refuses a key
// others can read, a half pair, a pair that does not match and an
// expired certificate, each saying what to do.
func loadOrCreateCert(dir, station, host string) (cert []byte, key *rsa.PrivateKey, certPath string, err error) {
	certPath, keyPath := filepath.Join(dir, certFile), filepath.Join(dir, keyFile)
	_, certErr := os.Stat(certPath)
	_, keyErr := os.Stat(keyPath)
	switch {
	case errors.Is(certErr, fs.ErrNotExist) && errors.Is(keyErr, fs.ErrNotExist):
		cert, key, err = createCert(certPath, keyPath, station, host)
		return cert, key, certPath, err
	case errors.Is(certErr, fs.ErrNotExist) || errors.Is(keyErr, fs.ErrNotExist):
		return nil, nil, "", fmt.Errorf("opcua: only one of %s and %s is there: restore the other, or remove it to make a new certificate (the PLC must then trust the new one)", certPath, keyPath)
	}
	cert, key, err = readCert(certPath, keyPath)
	return cert, key, certPath, err
}

// readCert reads a certificate and its key and checks them.
func readCert(certPath, keyPath string) ([]byte, *rsa.PrivateKey, error) {
	redo := fmt.Sprintf("remove %s and %s to make a new certificate (the PLC must then trust the new one)", certPath, keyPath)
	st, err := os.Stat(keyPath)
	if err != nil {
		return nil, nil, fmt.Errorf("opcua: %v", err)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, nil, fmt.Errorf("opcua: the server's private key %s can be read by others than its owner (mode %04o): chmod 600 it, or %s", keyPath, perm, redo)
	}
	der, err := os.ReadFile(certPath)
	if err != nil {
		return nil, nil, fmt.Errorf("opcua: %v", err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("opcua: %s is not a DER certificate: %v; %s", certPath, err, redo)
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, nil, fmt.Errorf("opcua: %v", err)
	}
	key, err := parseKey(keyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("opcua: %s: %v; %s", keyPath, err, redo)
	}
	if pub, ok := c.PublicKey.(*rsa.PublicKey); !ok || !pub.Equal(&key.PublicKey) {
		return nil, nil, fmt.Errorf("opcua: %s is not the certificate of the key %s; %s", certPath, keyPath, redo)
	}
	if time.Now().After(c.NotAfter) {
		return nil, nil, fmt.Errorf("opcua: the server certificate %s expired on %s; %s", certPath, c.NotAfter.Format("2006-01-02"), redo)
	}
	return der, key, nil
}

func parseKey(keyPEM []byte) (*rsa.PrivateKey, error) {
	b, _ := pem.Decode(keyPEM)
	if b == nil || b.Type != "PRIVATE KEY" {
		return nil, errors.New("not a PEM \"PRIVATE KEY\"")
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, err
	}
	key, ok := k.(*rsa.PrivateKey)
	if !ok || key.Size() < 256 || key.Size() > 512 {
		return nil, errors.New("Basic256Sha256 needs an RSA key of 2048 to 4096 bits")
	}
	return key, nil
}

// createCert makes a self-signed certificate and its key and writes
// them, the key first (0600).
func createCert(certPath, keyPath, station, host string) ([]byte, *rsa.PrivateKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, fmt.Errorf("opcua: making the server's key: %v", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("opcua: %v", err)
	}
	hostname, _ := os.Hostname()
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "Steel Inspector " + station, Organization: []string{"Steel Inspector"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(certYears, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment | x509.KeyUsageKeyEncipherment |
			x509.KeyUsageDataEncipherment | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		URIs:                  []*url.URL{ApplicationURI(station)},
		DNSNames:              []string{"localhost"},
	}
	if hostname != "" && hostname != "localhost" {
		tmpl.DNSNames = append(tmpl.DNSNames, hostname)
	}
	if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
		tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("opcua: making the server's certificate: %v", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("opcua: %v", err)
	}
	var keyPEM bytes.Buffer
	pem.Encode(&keyPEM, &pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
	// files.WriteAtomic writes through a temporary file made 0600
	if err := files.WriteAtomic(keyPath, keyPEM.Bytes()); err != nil {
		return nil, nil, fmt.Errorf("opcua: writing the server's key: %v", err)
	}
	if err := files.WriteAtomic(certPath, der); err != nil {
		os.Remove(keyPath)
		return nil, nil, fmt.Errorf("opcua: writing the server's certificate: %v", err)
	}
	os.Chmod(certPath, 0o644) // a certificate is public; 0600 would do too
	return der, key, nil
}

// ApplicationURI is the server's application URI, in its certificate.
func ApplicationURI(station string) *url.URL {
	return &url.URL{Scheme: "urn", Opaque: "steelinspect:" + url.PathEscape(station)}
}
