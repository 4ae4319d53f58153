package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // operators' time zones, also where the host has no zoneinfo
	"unicode"

	"gopkg.in/yaml.v3"

	"github.com/sp4n-lapor/sms1708/router"
	"github.com/sp4n-lapor/sms1708/smpp"
	"github.com/sp4n-lapor/sms1708/smpp/text"
	"github.com/sp4n-lapor/sms1708/store"
)

// Secret is a config string that never prints: passwords and URLs that may
// hold one. check-config and logs show "<secret>".
type Secret string

// String implements fmt.Stringer.
func (Secret) String() string { return "<secret>" }

// MarshalYAML prints the placeholder, never the value.
func (Secret) MarshalYAML() (any, error) { return "<secret>", nil }

// Duration is a time.Duration written as "30s", "1m" in YAML.
type Duration time.Duration

// UnmarshalYAML reads a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration (e.g. 30s, 2m)", n.Line, s)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration back as a string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// Config is the daemon's configuration file (DESIGN.md, "Contracts").
type Config struct {
	Database struct {
		URL Secret `yaml:"url"`
	} `yaml:"database"`
	Redis struct {
		URL Secret `yaml:"url"`
	} `yaml:"redis"`
	HTTP struct {
		Listen string `yaml:"listen"`
	} `yaml:"http"`
	// Instance names this daemon in the outbox leases it takes, so that
	// it can give back at once, when it starts again after a crash, the
	// replies it was sending (store.DB.ReleaseLeases). It must be unique
	// among the daemons sharing a database and stay the same across
	// restarts. Default: the host name and the HTTP listen address (two
	// daemons on one host cannot share that address).
	Instance  string           `yaml:"instance"`
	ShortCode string           `yaml:"short_code"`
	TriageID  string           `yaml:"triage_agency"`
	Replies   string           `yaml:"replies"` // path of the reply templates, relative to this file
	Ingest    IngestConfig     `yaml:"ingest"`
	Assembly  AssemblyConfig   `yaml:"assembly"`
	Operators []OperatorConfig `yaml:"operators"`
	Routing   RoutingConfig    `yaml:"routing"` // classifier files and threshold (route.go)
	Flood     struct {
		PerMinute int `yaml:"per_minute"`
		PerDay    int `yaml:"per_day"`
	} `yaml:"flood"`
	Shutdown struct {
		Grace Duration `yaml:"grace"`
	} `yaml:"shutdown"`

	// Filled by loadConfig.
	path       string
	templates  router.Templates
	classifier *router.Classifier
}

// IngestConfig tunes the group commit.
type IngestConfig struct {
	MaxBatch      int      `yaml:"max_batch"`
	MaxWait       Duration `yaml:"max_wait"`
	CommitTimeout Duration `yaml:"commit_timeout"`
	Queue         int      `yaml:"queue"`
	// Flushers is how many batches may wait for their commit at once
	// (default 2): more hide the disk's flush latency under load.
	Flushers int `yaml:"flushers"`
}

// AssemblyConfig tunes the reassembly of long MO.
type AssemblyConfig struct {
	// Timeout is how long a long message waits for its missing parts
	// before it is processed with gap markers (default 60s).
	Timeout Duration `yaml:"timeout"`
	// LateWindow is how long after its message was made a part may still
	// join it or be recognised as a redelivery (default 1h).
	LateWindow Duration `yaml:"late_window"`
}

// OperatorConfig is one SMSC account.
type OperatorConfig struct {
	Name            string   `yaml:"name"`
	Host            string   `yaml:"host"`
	Port            int      `yaml:"port"`
	SystemID        string   `yaml:"system_id"`
	Password        Secret   `yaml:"password"`
	SystemType      string   `yaml:"system_type"`
	Bind            string   `yaml:"bind"`
	Binds           int      `yaml:"binds"`
	Window          int      `yaml:"window"`
	TPS             int      `yaml:"tps"`
	EnquireLink     Duration `yaml:"enquire_link"`
	ResponseTimeout Duration `yaml:"response_timeout"`
	SourceTON       *uint8   `yaml:"source_ton"`
	SourceNPI       *uint8   `yaml:"source_npi"`
	DestTON         *uint8   `yaml:"dest_ton"`
	DestNPI         *uint8   `yaml:"dest_npi"`
	DefaultAlphabet string   `yaml:"default_alphabet"` // meaning of data_coding 0: gsm7 (default), ascii, latin1
	// Timezone is the SMSC's local time, in which its receipts write their
	// dates (an IANA name; default Asia/Jakarta).
	Timezone string `yaml:"timezone"`
	// SubmitIDBase and ReceiptIDBase say how the SMSC writes message ids
	// in submit_sm_resp and in receipts: auto (default), hex or decimal.
	// Both sides are normalised with their own base before receipts are
	// matched to what we sent (SMPP.md).
	SubmitIDBase  smpp.IDBase `yaml:"submit_id_base"`
	ReceiptIDBase smpp.IDBase `yaml:"receipt_id_base"`
	// TLS, when present, wraps the SMPP connection (some operators offer
	// SMPP only over TLS or a VPN).
	TLS *OperatorTLS `yaml:"tls"`
}

func defaultConfig() Config {
	var c Config
	c.HTTP.Listen = "127.0.0.1:8708"
	c.ShortCode = "1708"
	c.TriageID = "lapor-nasional"
	c.Replies = "replies.yaml"
	c.Shutdown.Grace = Duration(10 * time.Second)
	// A citizen rarely sends more than a few SMS a minute; a phone stuck in
	// a loop or a script sends hundreds. Replies stop past these.
	c.Flood.PerMinute = 10
	c.Flood.PerDay = 100
	return c
}

// envRef is a secret written as ${NAME} in the file.
var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandEnv replaces ${NAME} with the environment's value; a name that is
// not set is an error naming the line, never an empty password.
func expandEnv(b []byte) ([]byte, error) {
	var errs []error
	out := envRef.ReplaceAllFunc(b, func(m []byte) []byte {
		name := string(envRef.FindSubmatch(m)[1])
		v, ok := os.LookupEnv(name)
		if !ok {
			line := 1 + bytes.Count(b[:bytes.Index(b, m)], []byte("\n"))
			errs = append(errs, fmt.Errorf("line %d: ${%s} is not set in the environment", line, name))
		}
		return []byte(v)
	})
	return out, errors.Join(errs...)
}

// loadConfig reads, expands and strictly decodes a config file, applies the
// environment overrides, loads the files it names and validates the whole.
// Every problem is reported at once.
func loadConfig(path string) (*Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	raw, err = expandEnv(raw)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	c := defaultConfig()
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	c.path = path
	for env, dst := range map[string]*Secret{"SMS1708_DATABASE_URL": &c.Database.URL, "SMS1708_REDIS_URL": &c.Redis.URL} {
		if v, ok := os.LookupEnv(env); ok && v != "" {
			*dst = Secret(v)
		}
	}
	if v, ok := os.LookupEnv("SMS1708_HTTP_LISTEN"); ok && v != "" {
		c.HTTP.Listen = v
	}
	var errs []error
	if c.Replies != "" {
		t, err := loadTemplates(c.resolve(c.Replies))
		if err != nil {
			errs = append(errs, err)
		}
		c.templates = t
	}
	// The routing files are part of the configuration: check-config
	// reports their problems too, and a reload with a bad file keeps the
	// running classifier.
	errs = append(errs, c.loadTLS()...)
	cls, err := router.LoadClassifier(c.classifierConfig())
	if err != nil {
		errs = append(errs, err)
	}
	c.classifier = cls
	if err := c.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("config %s:\n%w", path, err)
	}
	return &c, nil
}

// resolve makes a path in the config relative to the config file.
func (c *Config) resolve(p string) string {
	if filepath.IsAbs(p) || c.path == "" {
		return p
	}
	return filepath.Join(filepath.Dir(c.path), p)
}

func loadTemplates(path string) (router.Templates, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("replies: %w", err)
	}
	var t router.Templates
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("replies %s: %w", path, err)
	}
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("replies %s: %w", path, err)
	}
	return t, nil
}

var operatorName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// Validate checks the whole configuration and returns every problem, each
// naming its field.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, a...)))
	}
	checkURL := func(field string, s Secret, schemes ...string) {
		if s == "" {
			bad(field, "missing")
			return
		}
		u, err := url.Parse(string(s))
		if err != nil {
			bad(field, "not a URL")
			return
		}
		for _, sc := range schemes {
			if u.Scheme == sc {
				return
			}
		}
		bad(field, "scheme %q, want one of %v", u.Scheme, schemes)
	}
	checkURL("database.url", c.Database.URL, "postgres", "postgresql")
	checkURL("redis.url", c.Redis.URL, "redis", "rediss", "unix")
	if _, _, err := net.SplitHostPort(c.HTTP.Listen); err != nil {
		bad("http.listen", "%q is not host:port", c.HTTP.Listen)
	}
	if c.ShortCode == "" {
		bad("short_code", "missing")
	}
	if len(c.Instance) > 200 || strings.ContainsFunc(c.Instance, unicode.IsControl) {
		bad("instance", "%q: want at most 200 printable characters", c.Instance)
	}
	if m := c.Routing.MinConfidence; m < 0 || m >= 1 {
		bad("routing.min_confidence", "%v: want 0 ≤ x < 1 (0 = default)", m)
	}
	if t := time.Duration(c.Assembly.Timeout); t != 0 && (t < 100*time.Millisecond || t > 24*time.Hour) {
		bad("assembly.timeout", "%s: want 100ms to 24h (60s to 5m is usual)", t)
	}
	if w := time.Duration(c.Assembly.LateWindow); w != 0 && (w < time.Second || w > 7*24*time.Hour) {
		bad("assembly.late_window", "%s: want 1s to 168h", w)
	}
	if c.Ingest.Flushers < 0 || c.Ingest.Flushers > 32 {
		bad("ingest.flushers", "%d: want 1 to 32 (0 = default 2)", c.Ingest.Flushers)
	}
	if c.Flood.PerMinute < 0 {
		bad("flood.per_minute", "%d: negative (0 means no limit)", c.Flood.PerMinute)
	}
	if c.Flood.PerDay < 0 {
		bad("flood.per_day", "%d: negative (0 means no limit)", c.Flood.PerDay)
	}
	if len(c.Operators) == 0 {
		bad("operators", "at least one operator is needed")
	}
	seen := map[string]bool{}
	for i, o := range c.Operators {
		f := "operators[" + strconv.Itoa(i) + "]"
		if !operatorName.MatchString(o.Name) {
			bad(f+".name", "%q: lowercase letters, digits and _ (it is a metric label)", o.Name)
		} else if seen[o.Name] {
			bad(f+".name", "%q appears twice", o.Name)
		}
		seen[o.Name] = true
		if o.Host == "" {
			bad(f+".host", "missing")
		}
		if o.Port <= 0 || o.Port > 65535 {
			bad(f+".port", "%d is not a TCP port", o.Port)
		}
		if o.SystemID == "" || len(o.SystemID) > 15 {
			bad(f+".system_id", "1 to 15 characters (SMPP 3.4 §5.2.1)")
		}
		switch o.Bind {
		case "", string(smpp.BindTransceiver), string(smpp.BindTransmitterReceiver):
		default:
			bad(f+".bind", "%q: want %q or %q", o.Bind, smpp.BindTransceiver, smpp.BindTransmitterReceiver)
		}
		if o.Binds < 0 || o.Binds > 64 {
			bad(f+".binds", "%d: want 1 to 64", o.Binds)
		}
		if o.Window < 0 || o.Window > 1000 {
			bad(f+".window", "%d: want 1 to 1000", o.Window)
		}
		if o.TPS < 0 {
			bad(f+".tps", "%d: negative", o.TPS)
		}
		if o.ResponseTimeout != 0 && (time.Duration(o.ResponseTimeout) < time.Second || time.Duration(o.ResponseTimeout) > 5*time.Minute) {
			bad(f+".response_timeout", "%s: want 1s to 5m (30s to 60s is usual)", time.Duration(o.ResponseTimeout))
		}
		if _, err := o.location(); err != nil {
			bad(f+".timezone", "%q: not a time zone (e.g. Asia/Jakarta, Asia/Makassar)", o.Timezone)
		}
		if o.DefaultAlphabet != "" {
			if a, err := text.ParseAlphabet(o.DefaultAlphabet); err != nil || (a != text.GSM7 && a != text.ASCII && a != text.Latin1) {
				bad(f+".default_alphabet", "%q: want gsm7, ascii or latin1", o.DefaultAlphabet)
			}
		}
	}
	return errors.Join(errs...)
}

// OperatorTLS is an operator's TLS settings.
type OperatorTLS struct {
	// ServerName is the name the SMSC's certificate must carry; default
	// the host.
	ServerName string `yaml:"server_name"`
	// CAFile is a PEM bundle of the CAs that may sign the SMSC's
	// certificate (relative to the config file); default the system's.
	CAFile string `yaml:"ca_file"`
	// HandshakeTimeout bounds the TLS handshake; default 10s.
	HandshakeTimeout Duration `yaml:"handshake_timeout"`

	roots *x509.CertPool // loaded by loadConfig
}

// loadTLS reads the CA files of every operator that uses TLS.
func (c *Config) loadTLS() []error {
	var errs []error
	for i := range c.Operators {
		t := c.Operators[i].TLS
		if t == nil || t.CAFile == "" {
			continue
		}
		f := "operators[" + strconv.Itoa(i) + "].tls.ca_file"
		pem, err := os.ReadFile(c.resolve(t.CAFile))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f, err))
			continue
		}
		t.roots = x509.NewCertPool()
		if !t.roots.AppendCertsFromPEM(pem) {
			errs = append(errs, fmt.Errorf("%s: no PEM certificate in %s", f, t.CAFile))
		}
	}
	return errs
}

// smppConfig maps an operator's settings onto the session layer's.
func (o OperatorConfig) smppConfig() smpp.OperatorConfig {
	c := smpp.OperatorConfig{
		TLS:             o.tlsConfig(),
		Name:            o.Name,
		Host:            o.Host,
		Port:            o.Port,
		SystemID:        o.SystemID,
		Password:        string(o.Password),
		SystemType:      o.SystemType,
		Bind:            smpp.BindMode(o.Bind),
		Binds:           o.Binds,
		Window:          o.Window,
		TPS:             o.TPS,
		EnquireLink:     time.Duration(o.EnquireLink),
		ResponseTimeout: time.Duration(o.ResponseTimeout),
		DefaultAlphabet: o.alphabet(),
	}
	if o.TLS != nil {
		c.TLSHandshakeTimeout = time.Duration(o.TLS.HandshakeTimeout)
	}
	if c.Bind == "" {
		c.Bind = smpp.BindTransceiver
	}
	if c.Binds == 0 {
		c.Binds = 1
	}
	if c.Window == 0 {
		c.Window = 10
	}
	// The short code's TON/NPI differ per operator (often 3/0 or 0/1); a
	// citizen's number goes out international/ISDN unless configured.
	c.SourceTON, c.SourceNPI, c.DestTON, c.DestNPI = 0, 1, 1, 1
	for _, p := range []struct {
		src *uint8
		dst *uint8
	}{{o.SourceTON, &c.SourceTON}, {o.SourceNPI, &c.SourceNPI}, {o.DestTON, &c.DestTON}, {o.DestNPI, &c.DestNPI}} {
		if p.src != nil {
			*p.dst = *p.src
		}
	}
	return c
}

// defaultTimezone is where all three SMSCs of 1708 keep their clocks.
const defaultTimezone = "Asia/Jakarta"

// location is the operator's time zone; the zone database is embedded
// (time/tzdata), so a host without one still finds it.
func (o OperatorConfig) location() (*time.Location, error) {
	tz := o.Timezone
	if tz == "" {
		tz = defaultTimezone
	}
	return time.LoadLocation(tz)
}

// submitIDNormalizer normalises each operator's submit_sm_resp ids with
// its submit base, for the store to match receipts by.
func (c *Config) submitIDNormalizer() store.IDNormalizer {
	bases := make(map[string]smpp.IDBase, len(c.Operators))
	for _, o := range c.Operators {
		bases[o.Name] = o.SubmitIDBase
	}
	return func(operator, id string) string { return smpp.NormalizeMessageID(id, bases[operator]) }
}

func (o OperatorConfig) tlsConfig() *tls.Config {
	if o.TLS == nil {
		return nil
	}
	return &tls.Config{ServerName: o.TLS.ServerName, RootCAs: o.TLS.roots, MinVersion: tls.VersionTLS12}
}

func (o OperatorConfig) alphabet() text.Alphabet {
	if a, err := text.ParseAlphabet(o.DefaultAlphabet); err == nil {
		return a
	}
	return text.GSM7
}

func (c *Config) ingestConfig() store.IngestConfig {
	return store.IngestConfig{
		MaxBatch:      c.Ingest.MaxBatch,
		MaxWait:       time.Duration(c.Ingest.MaxWait),
		CommitTimeout: time.Duration(c.Ingest.CommitTimeout),
		Queue:         c.Ingest.Queue,
		Flushers:      c.Ingest.Flushers,
	}
}

func (c *Config) assemblerConfig() store.AssemblerConfig {
	return store.AssemblerConfig{
		Timeout:    time.Duration(c.Assembly.Timeout),
		LateWindow: time.Duration(c.Assembly.LateWindow),
	}
}

// instanceName is Instance, or the host name and the HTTP listen address.
// With an ephemeral port (":0", tests) the address names no one instance:
// the process id is added, so that no other daemon's leases are ever given
// back (and a restart gives back nothing, as before leases had names).
func (c *Config) instanceName() string {
	if c.Instance != "" {
		return c.Instance
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	name := host + "/" + c.HTTP.Listen
	if _, port, err := net.SplitHostPort(c.HTTP.Listen); err != nil || port == "0" || port == "" {
		name += "/pid-" + strconv.Itoa(os.Getpid())
	}
	return name
}
