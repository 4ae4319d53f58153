package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// writeConfig writes a config beside copies of nothing: paths in it are
// made absolute to the repo's configs/.
func writeConfig(t *testing.T, body string) string {
	t.Helper()
	abs := func(p string) string {
		a, err := filepath.Abs(filepath.Join("../../configs", p))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	head := "replies: " + abs("replies.yaml") + "\nrouting: {dir: " + abs("routing") + "}\n"
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, []byte(head+body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestConfigReportsEveryProblemByField(t *testing.T) {
	t.Setenv("SMS1708_DATABASE_URL", "")
	path := writeConfig(t, `database: {url: "mysql://x"}
redis: {url: "redis://127.0.0.1:1/0"}
http: {listen: "nowhere"}
instance: "host\u0007a"
flood: {per_minute: -1}
operators:
  - name: Telkomsel
    host: ""
    port: 70000
    system_id: sms1708
    bind: sideways
    tls: {ca_file: /nonexistent/ca.pem}
`)
	_, err := loadConfig(path)
	if err == nil {
		t.Fatal("loadConfig accepted a bad file")
	}
	for _, want := range []string{"database.url", "http.listen", "instance", "flood.per_minute",
		"operators[0].name", "operators[0].host", "operators[0].port", "operators[0].bind", "operators[0].tls.ca_file"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %s:\n%v", want, err)
		}
	}
}

func TestConfigSecretsFromEnvironmentNeverPrinted(t *testing.T) {
	t.Setenv("SMS1708_DATABASE_URL", "")
	t.Setenv("TEST_SMPP_PASSWORD", "hunter2")
	path := writeConfig(t, `database: {url: "postgres://u:dbsecret@127.0.0.1/x"}
redis: {url: "redis://127.0.0.1:1/0"}
operators:
  - {name: telkomsel, host: 127.0.0.1, port: 2775, system_id: sms1708, password: "${TEST_SMPP_PASSWORD}"}
`)
	cfg, err := loadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Operators[0].Password != "hunter2" {
		t.Errorf("password = %q, want it from the environment", cfg.Operators[0].Password)
	}
	var out bytes.Buffer
	if err := checkConfig([]string{"--config", path}, &out); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"hunter2", "dbsecret"} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("check-config printed a secret:\n%s", out.String())
		}
	}
	if !strings.Contains(out.String(), "<secret>") {
		t.Errorf("check-config output lacks <secret>:\n%s", out.String())
	}
}

func TestConfigUnsetSecretNamesTheLine(t *testing.T) {
	path := writeConfig(t, `database: {url: "postgres://127.0.0.1/x"}
redis: {url: "redis://127.0.0.1:1/0"}
operators:
  - {name: telkomsel, host: 127.0.0.1, port: 2775, system_id: sms1708, password: "${SMS1708_TEST_UNSET_SECRET}"}
`)
	_, err := loadConfig(path)
	if err == nil || !strings.Contains(err.Error(), "line 6: ${SMS1708_TEST_UNSET_SECRET} is not set") {
		t.Fatalf("loadConfig = %v; want the unset variable named with its line", err)
	}
}

func TestConfigTLSOperator(t *testing.T) {
	t.Setenv("SMS1708_DATABASE_URL", "")
	path := writeConfig(t, `database: {url: "postgres://127.0.0.1/x"}
redis: {url: "redis://127.0.0.1:1/0"}
operators:
  - name: telkomsel
    host: 10.1.2.3
    port: 3550
    system_id: sms1708
    tls: {server_name: smsc.telkomsel.example, handshake_timeout: 5s}
`)
	cfg, err := loadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	sc := cfg.Operators[0].smppConfig()
	if sc.TLS == nil || sc.TLS.ServerName != "smsc.telkomsel.example" || sc.TLSHandshakeTimeout.Seconds() != 5 {
		t.Errorf("smpp config TLS = %+v, timeout %v", sc.TLS, sc.TLSHandshakeTimeout)
	}
}

// The configurations shipped in configs/ stay valid.
func TestShippedConfigsAreValid(t *testing.T) {
	for _, env := range []string{"TELKOMSEL_SMPP_PASSWORD", "INDOSAT_SMPP_PASSWORD", "THREE_SMPP_PASSWORD"} {
		t.Setenv(env, "x")
	}
	t.Setenv("SMS1708_DATABASE_URL", "postgres://127.0.0.1/sms1708")
	t.Setenv("SMS1708_REDIS_URL", "redis://127.0.0.1:6379/0")
	for _, name := range []string{"dev.yaml", "bench.yaml", "example.yaml"} {
		if _, err := loadConfig(filepath.Join("../../configs", name)); err != nil {
			t.Errorf("configs/%s: %v", name, err)
		}
	}
}

func TestConfigInstanceNameDefaultsToHostAndListenAddress(t *testing.T) {
	c := &Config{}
	c.HTTP.Listen = "127.0.0.1:8708"
	host, _ := os.Hostname()
	if got := c.instanceName(); got != host+"/127.0.0.1:8708" || host == "" {
		t.Errorf("default instance = %q, want %q", got, host+"/127.0.0.1:8708")
	}
	c.HTTP.Listen = "127.0.0.1:0"
	if got := c.instanceName(); !strings.HasSuffix(got, "/pid-"+strconv.Itoa(os.Getpid())) {
		t.Errorf("instance with an ephemeral port = %q, want the process id in it", got)
	}
	c.Instance = "jkt-1"
	if got := c.instanceName(); got != "jkt-1" {
		t.Errorf("instance = %q, want the configured jkt-1", got)
	}
}
