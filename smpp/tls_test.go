package smpp_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/sp4n-lapor/sms1708/smpp"
	"github.com/sp4n-lapor/sms1708/smpp/smsctest"
)

// selfSigned makes a certificate for smsc.test and 127.0.0.1, returning the server's TLS
// config and a pool that trusts it.
func selfSigned(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1708),
		Subject:               pkix.Name{CommonName: "smsc.test"},
		DNSNames:              []string{"smsc.test"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}},
		MinVersion: tls.VersionTLS12}, pool
}

func TestTLSBind(t *testing.T) {
	server, pool := selfSigned(t)
	tests := []struct {
		name       string
		serverName string // "" = Host (127.0.0.1, the certificate's IP SAN)
		ok         bool
	}{
		{"server name from the config", "smsc.test", true},
		{"host as server name", "", true},
		{"wrong server name", "other.test", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client := &tls.Config{RootCAs: pool, ServerName: tc.serverName, MinVersion: tls.VersionTLS12}
			sc := newScenario(t, smsctest.Config{TLS: server}, func(c *smpp.OperatorConfig) {
				c.TLS, c.TLSHandshakeTimeout = client, 5*time.Second
				c.BindTimeout = 5 * time.Second
			})
			if client.ServerName != tc.serverName {
				t.Error("NewOperator modified the caller's tls.Config")
			}
			if !tc.ok {
				sc.atLeast(2, mBindFailures, "reason", "tls")
				sc.wantMetric(0, mBindsUp)
				if n := len(sc.srv.BindAttempts()); n != 0 {
					t.Errorf("%d binds reached the SMSC over an unverified connection", n)
				}
				return
			}
			sc.bound(1)
			st, err := sc.srv.SendMO(sc.ctx, smsctest.MO{From: "6281234567890", To: "1708", Text: "LAPOR lewat TLS"})
			if err != nil || st != smpp.StatusOK {
				t.Fatalf("SendMO over TLS = %s, %v", st.Name(), err)
			}
			if in := sc.rec.wait(t, 1)[0]; string(in.PDU.ShortMessage) != "LAPOR lewat TLS" {
				t.Errorf("inbound %q", in.PDU.ShortMessage)
			}
			ids, err := sc.op.Send(sc.ctx, "1708", "6281234567890", "diterima")
			if err != nil || len(ids) != 1 {
				t.Fatalf("Send over TLS = %v, %v", ids, err)
			}
			sc.wantMetric(0, mBindFailures, "reason", "tls")
		})
	}
}

// A peer that accepts TCP but never answers the ClientHello: each attempt ends at the
// handshake deadline, and the operator retries with backoff.
func TestTLSHandshakeTimeoutRetries(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	type conn struct {
		at     time.Time
		closed chan time.Duration // how long the operator kept it open
	}
	conns := make(chan conn, 64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			cn := conn{at: time.Now(), closed: make(chan time.Duration, 1)}
			conns <- cn
			go func() {
				defer c.Close()
				c.SetReadDeadline(time.Now().Add(scenarioLimit))
				_, err := io.Copy(io.Discard, c) // read the ClientHello, answer nothing
				if err == nil || !errors.Is(err, net.ErrClosed) {
					cn.closed <- time.Since(cn.at)
				}
			}()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	const handshake = 50 * time.Millisecond
	cfg := baseConfig(ln.Addr().(*net.TCPAddr).Port)
	cfg.TLS = &tls.Config{ServerName: "smsc.test", MinVersion: tls.VersionTLS12}
	cfg.TLSHandshakeTimeout = handshake
	cfg.BindTimeout = 5 * time.Second // the handshake deadline, not the bind's, must end it
	r := runOperator(t, cfg)
	for i := range 3 {
		var c conn
		select {
		case c = <-conns:
		case <-time.After(scenarioLimit):
			t.Fatalf("attempt %d never came", i+1)
		}
		select {
		case d := <-c.closed:
			// The deadline started before the accept; the peer itself gives up only after
			// scenarioLimit.
			if d < handshake/2 || d > handshake+boundSlack {
				t.Errorf("attempt %d closed after %v, want about %v", i+1, d, handshake)
			}
		case <-time.After(scenarioLimit):
			t.Fatalf("attempt %d never closed", i+1)
		}
	}
	r.atLeast(3, mBindFailures, "reason", "tls")
	r.atLeast(2, mReconnects)
	r.atLeast(3, mStates, "state", "failed")
	r.wantMetric(0, mBindsUp)
	r.wantMetric(0, mPDUs, "command", "bind_transceiver", "direction", "out")
}
