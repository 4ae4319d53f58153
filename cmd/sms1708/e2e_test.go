package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sp4n-lapor/sms1708/router"
	"github.com/sp4n-lapor/sms1708/smpp"
	"github.com/sp4n-lapor/sms1708/smpp/smsctest"
	"github.com/sp4n-lapor/sms1708/store/storetest"
)

// testDaemon is the real daemon started in-process against a fake SMSC
// over TCP, a private schema of the real PostgreSQL and the real Redis.
type testDaemon struct {
	d      *daemon
	smsc   *smsctest.Server
	dbURL  string // what the test itself uses (direct)
	cancel context.CancelFunc
	done   chan error
}

type daemonOpts struct {
	redisURL      string // what the daemon uses; default: the test Redis
	dbURL         string // what the daemon uses; default: a fresh schema
	commitTimeout time.Duration
	smsc          smsctest.Config // the fake SMSC's settings; name and credentials are set here
	extra         string          // more top-level YAML
	binds         int             // the operator's binds; default 1
	opExtra       string          // more YAML for the operator, indented four spaces
}

func startDaemon(t *testing.T, o daemonOpts) *testDaemon {
	t.Helper()
	// The daemon's own overrides would point it away from the test's schema.
	for _, env := range []string{"SMS1708_DATABASE_URL", "SMS1708_REDIS_URL", "SMS1708_HTTP_LISTEN"} {
		t.Setenv(env, "")
	}
	redisURL := o.redisURL
	if redisURL == "" {
		redisURL = os.Getenv(storetest.RedisEnv)
	}
	if redisURL == "" {
		t.Fatalf("%s is not set: run the tests with `make test`", storetest.RedisEnv)
	}
	direct := o.dbURL
	if direct == "" {
		direct = storetest.URL(t)
		o.dbURL = direct
	}
	if o.commitTimeout == 0 {
		o.commitTimeout = 5 * time.Second
	}
	if o.binds == 0 {
		o.binds = 1
	}
	o.smsc.Name, o.smsc.SystemID, o.smsc.Password = "telkomsel", "sms1708", "secret"
	o.smsc.Logger = slog.New(slog.DiscardHandler)
	smsc, err := smsctest.NewServer(o.smsc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = smsc.Close() })

	replies, err := filepath.Abs("../../configs/replies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	routing, err := filepath.Abs("../../configs/routing")
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(t.TempDir(), "sms1708.yaml")
	cfgText := fmt.Sprintf(`database: {url: %q}
redis: {url: %q}
http: {listen: "127.0.0.1:0"}
replies: %q
routing: {dir: %q}
ingest: {commit_timeout: %s}
shutdown: {grace: 5s}
%s
operators:
  - name: telkomsel
    host: 127.0.0.1
    port: %d
    system_id: sms1708
    password: secret
    bind: transceiver
    binds: %d
    window: 10
    response_timeout: 5s
%s`, o.dbURL, redisURL, replies, routing, o.commitTimeout, o.extra, smsc.Port(), o.binds, o.opExtra)
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	td := &testDaemon{
		d:      &daemon{cfg: cfg, logger: slog.New(slog.NewJSONHandler(testWriter{t}, nil)), ready: make(chan struct{})},
		smsc:   smsc,
		dbURL:  direct,
		cancel: cancel,
		done:   make(chan error, 1),
	}
	go func() { td.done <- td.d.run(ctx, nil) }()
	t.Cleanup(td.stop)
	select {
	case <-td.d.ready:
	case err := <-td.done:
		t.Fatalf("daemon exited at start: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("daemon did not start within 30s")
	}
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := smsc.WaitBound(wctx, o.binds); err != nil {
		t.Fatalf("daemon did not bind: %v", err)
	}
	return td
}

func (td *testDaemon) stop() {
	td.cancel()
	select {
	case <-td.done:
	case <-time.After(30 * time.Second):
	}
}

// testWriter sends the daemon's log to the test's log, shown on failure.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func connect(t *testing.T, dbURL string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.WithoutCancel(t.Context())) })
	return conn
}

func count(t *testing.T, conn *pgx.Conn, q string, args ...any) int {
	t.Helper()
	var n int
	if err := conn.QueryRow(t.Context(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

var ticketRE = regexp.MustCompile(`\b\d{10}\b`)

// Must show 2: fake SMSC → daemon → PostgreSQL → reply submit_sm back at
// the fake SMSC carrying the ticket number, with a valid check digit.
func TestEndToEndComplaintGetsTicketNumberBack(t *testing.T) {
	td := startDaemon(t, daemonOpts{})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	const from = "6281234567890"
	st, err := td.smsc.SendMO(ctx, smsctest.MO{From: from, To: "1708", Text: "jalan rusak di desa kami, mohon diperbaiki"})
	if err != nil || st != smpp.StatusOK {
		t.Fatalf("deliver_sm answered %v, %v; want ESME_ROK", st, err)
	}
	sub, err := td.smsc.WaitSubmit(ctx, func(s smsctest.Submit) bool { return s.To == from })
	if err != nil {
		t.Fatalf("no reply reached the SMSC: %v", err)
	}
	if sub.From != "1708" {
		t.Errorf("reply from %q, want 1708", sub.From)
	}
	if !strings.HasPrefix(sub.Text, "Laporan Anda diterima. No tiket ") {
		t.Errorf("reply text %q", sub.Text)
	}
	num := ticketRE.FindString(sub.Text)
	n, err := router.ParseTicketNumber(num)
	if err != nil {
		t.Fatalf("reply %q: ticket number %q: %v", sub.Text, num, err)
	}
	if sub.DataCoding != 0 || sub.ESMClass&0x40 != 0 {
		t.Errorf("reply data_coding %#x esm_class %#x: want one GSM-7 segment", sub.DataCoding, sub.ESMClass)
	}

	conn := connect(t, td.dbURL)
	var msisdn, agency, state, text string
	err = conn.QueryRow(ctx, `select msisdn, agency_id, state, text from tickets where number = $1`, string(n)).Scan(&msisdn, &agency, &state, &text)
	if err != nil {
		t.Fatalf("ticket %s not in the database: %v", n, err)
	}
	if msisdn != from || agency != "lapor-nasional" || state != string(router.StateDiterima) || text != "jalan rusak di desa kami, mohon diperbaiki" {
		t.Errorf("ticket row: %q %q %q %q", msisdn, agency, state, text)
	}
	// The outbox row ends sent, with the SMSC's message id.
	deadline := time.Now().Add(10 * time.Second)
	for count(t, conn, `select count(*) from outbox where state = 'sent' and $1 = any(smsc_ids)`, sub.MessageID) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("outbox row for %s not marked sent", sub.MessageID)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Must show 3: a receipt sent by the fake SMSC creates no ticket and no
// reply; it is stored and acked.
func TestEndToEndReceiptMakesNoTicket(t *testing.T) {
	td := startDaemon(t, daemonOpts{})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	st, err := td.smsc.SendReceipt(ctx, "1708", "6281234567891", "0a1b2c", "DELIVRD")
	if err != nil || st != smpp.StatusOK {
		t.Fatalf("receipt answered %v, %v; want ESME_ROK", st, err)
	}
	// A complaint after the receipt: once its reply is out, everything
	// before it has been processed too.
	const from = "6281234567892"
	if st, err := td.smsc.SendMO(ctx, smsctest.MO{From: from, To: "1708", Text: "lampu jalan mati"}); err != nil || st != smpp.StatusOK {
		t.Fatalf("deliver_sm answered %v, %v", st, err)
	}
	if _, err := td.smsc.WaitSubmit(ctx, func(s smsctest.Submit) bool { return s.To == from }); err != nil {
		t.Fatal(err)
	}
	conn := connect(t, td.dbURL)
	if n := count(t, conn, `select count(*) from inbound where kind = 'receipt'`); n != 1 {
		t.Errorf("receipts stored = %d, want 1", n)
	}
	if n := count(t, conn, `select count(*) from tickets`); n != 1 {
		t.Errorf("tickets = %d, want 1 (the complaint only)", n)
	}
	for _, s := range td.smsc.Submits() {
		if s.To == "6281234567891" {
			t.Errorf("a reply went to the receipt's address: %+v", s)
		}
	}
}

// Must show 3: while another connection holds an exclusive lock on the
// ingest table, no deliver_sm_resp arrives; after release, every ESME_ROK
// has its row.
func TestEndToEndNoAckBeforeCommit(t *testing.T) {
	td := startDaemon(t, daemonOpts{commitTimeout: time.Minute})
	conn := connect(t, td.dbURL)
	tx, err := conn.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(t.Context(), `lock table inbound in access exclusive mode`); err != nil {
		t.Fatal(err)
	}
	const n = 20
	results := make([]<-chan smsctest.Result, n)
	for i := range n {
		results[i] = td.smsc.SendMOAsync(smsctest.MO{From: fmt.Sprintf("62812000000%02d", i), To: "1708", Text: fmt.Sprintf("aduan nomor %d", i)})
	}
	// Nothing may be acked while the row cannot be written. A negative
	// check needs some time to pass; 500ms is many ingest cycles.
	time.Sleep(500 * time.Millisecond)
	for i, ch := range results {
		select {
		case r := <-ch:
			t.Fatalf("MO %d: deliver_sm_resp %+v arrived while the table was locked", i, r)
		default:
		}
	}
	if err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	for i, ch := range results {
		select {
		case r := <-ch:
			if r.Err != nil || r.Status != smpp.StatusOK {
				t.Fatalf("MO %d: %v %v; want ESME_ROK after the lock is released", i, r.Status, r.Err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("MO %d: no deliver_sm_resp after the lock was released", i)
		}
		from := fmt.Sprintf("62812000000%02d", i)
		if c := count(t, conn, `select count(*) from inbound where source_addr = $1`, from); c != 1 {
			t.Errorf("MO %d acked ESME_ROK but %d rows stored", i, c)
		}
	}
}

// pgProxy forwards TCP to PostgreSQL until cut: the database "goes away"
// for one daemon without touching the server other tests share.
type pgProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	cut    bool
}

func newPGProxy(t *testing.T, target string) *pgProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pgProxy{ln: ln, target: target}
	go p.serve()
	t.Cleanup(func() { _ = ln.Close(); p.Cut() })
	return p
}

func (p *pgProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(up, c); _ = up.Close() }()
		go func() { _, _ = io.Copy(c, up); _ = c.Close() }()
	}
}

// Cut closes every connection and refuses new ones.
func (p *pgProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}

// Must show 3: with the database gone, the SMSC gets 0x64, and every
// message that was acked is in the database.
func TestEndToEndDatabaseGoneAnswersTemporaryError(t *testing.T) {
	direct := storetest.URL(t)
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newPGProxy(t, u.Host)
	viaProxy := *u
	viaProxy.Host = proxy.ln.Addr().String()
	td := startDaemon(t, daemonOpts{dbURL: viaProxy.String(), commitTimeout: 2 * time.Second})
	td.dbURL = direct
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()

	acked := map[string]bool{}
	send := func(i int) smpp.Status {
		from := fmt.Sprintf("62813000000%02d", i)
		st, err := td.smsc.SendMO(ctx, smsctest.MO{From: from, To: "1708", Text: fmt.Sprintf("aduan %d", i)})
		if err != nil {
			t.Fatalf("MO %d: %v", i, err)
		}
		if st == smpp.StatusOK {
			acked[from] = true
		}
		return st
	}
	for i := range 5 {
		if st := send(i); st != smpp.StatusOK {
			t.Fatalf("MO %d before the cut: %v", i, st)
		}
	}
	proxy.Cut()
	for i := 5; i < 10; i++ {
		if st := send(i); st != smpp.StatusXTAppn {
			t.Errorf("MO %d with the database gone: %v, want ESME_RX_T_APPN (0x64)", i, st)
		}
	}
	conn := connect(t, direct)
	for from := range acked {
		if c := count(t, conn, `select count(*) from inbound where source_addr = $1`, from); c != 1 {
			t.Errorf("%s was acked ESME_ROK but has %d rows", from, c)
		}
	}
	if len(acked) != 5 {
		t.Errorf("%d MOs acked, want the 5 sent before the cut", len(acked))
	}
	// The bind stays up while the database is gone.
	if up := td.d.operators[0].BindsUp(); up != 1 {
		t.Errorf("binds up = %d with the database gone, want 1", up)
	}
}

// The HTTP endpoints operators use.
func TestEndToEndHTTP(t *testing.T) {
	td := startDaemon(t, daemonOpts{})
	base := "http://" + td.d.httpAddr.String()
	for _, c := range []struct {
		path string
		want string
	}{
		{"/healthz", "ok"},
		{"/readyz", `"ready":true`},
		{"/metrics", "sms1708_smpp_binds_up"},
		{"/metrics", "sms1708_ingest_commit_seconds"},
		{"/metrics", "sms1708_router_tickets_created_total"},
		{"/metrics", "sms1708_router_mt_total"},
	} {
		resp, err := http.Get(base + c.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), c.want) {
			t.Errorf("GET %s: %d, body lacks %q:\n%.500s", c.path, resp.StatusCode, c.want, body)
		}
	}
}

// A citizen resending the same complaint is told the first ticket's number
// again and no second ticket is made (issue 4, dedup layer 2); CEK tells the
// state of the sender's own ticket and nobody else's.
func TestEndToEndResendAndStatus(t *testing.T) {
	td := startDaemon(t, daemonOpts{})
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	const from, other = "6281234500001", "6281234500002"
	ask := func(who, text string) string {
		t.Helper()
		seen := map[string]bool{}
		for _, s := range td.smsc.Submits() {
			seen[s.MessageID] = true
		}
		if st, err := td.smsc.SendMO(ctx, smsctest.MO{From: who, To: "1708", Text: text}); err != nil || st != smpp.StatusOK {
			t.Fatalf("%q: %v %v", text, st, err)
		}
		sub, err := td.smsc.WaitSubmit(ctx, func(s smsctest.Submit) bool {
			return s.To == who && !seen[s.MessageID]
		})
		if err != nil {
			t.Fatalf("no reply to %q: %v", text, err)
		}
		return sub.Text
	}
	first := ask(from, "Jalan desa Sukamaju kab bandung rusak parah, mohon diperbaiki")
	n := ticketRE.FindString(first)
	if _, err := router.ParseTicketNumber(n); err != nil {
		t.Fatalf("first reply %q: %v", first, err)
	}
	again := ask(from, "jalan desa sukamaju KAB BANDUNG rusak parah,, mohon diperbaiki!")
	if ticketRE.FindString(again) != n || !strings.Contains(again, "sudah kami terima") {
		t.Errorf("resend reply %q; want the first ticket %s again", again, n)
	}
	conn := connect(t, td.dbURL)
	if c := count(t, conn, `select count(*) from tickets where msisdn = $1`, from); c != 1 {
		t.Errorf("tickets for the resending number = %d, want 1", c)
	}
	if c := count(t, conn, `select count(*) from ticket_events e join tickets k on k.id = e.ticket_id where k.number = $1`, n); c != 2 {
		t.Errorf("events on the ticket = %d, want 2 (created, resent)", c)
	}
	status := ask(from, "cek "+n)
	if !strings.Contains(status, n) || strings.Contains(status, "tidak ditemukan") {
		t.Errorf("CEK of own ticket: %q", status)
	}
	if stranger := ask(other, "CEK "+n); !strings.Contains(stranger, "tidak ditemukan") {
		t.Errorf("CEK of another number's ticket: %q; want tidak ditemukan", stranger)
	}
}

// A deliver_sm the SMSC sends again because our ack was lost (same body,
// new sequence number) makes no second ticket and no second reply (issue 4,
// dedup layer 1).
func TestEndToEndRedeliveredPDUIsIgnored(t *testing.T) {
	td := startDaemon(t, daemonOpts{})
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	const from = "6281234500003"
	mo := smsctest.MO{From: from, To: "1708", Text: "Sampah tidak diangkut 2 minggu di kel. Sukajadi kota bandung"}
	for i := range 2 {
		if st, err := td.smsc.SendMO(ctx, mo); err != nil || st != smpp.StatusOK {
			t.Fatalf("copy %d: %v %v", i, st, err)
		}
	}
	// A different complaint after both: once its reply is out, both
	// copies have been processed.
	if st, err := td.smsc.SendMO(ctx, smsctest.MO{From: from, To: "1708", Text: "lampu jalan mati di jl merdeka"}); err != nil || st != smpp.StatusOK {
		t.Fatalf("third MO: %v %v", st, err)
	}
	if _, err := td.smsc.WaitSubmit(ctx, func(s smsctest.Submit) bool { return s.To == from && strings.Contains(s.Text, "No tiket") }); err != nil {
		t.Fatal(err)
	}
	conn := connect(t, td.dbURL)
	deadline := time.Now().Add(20 * time.Second)
	for count(t, conn, `select count(*) from messages where state = 'processed'`) < 3 {
		if time.Now().After(deadline) {
			t.Fatal("messages not processed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if c := count(t, conn, `select count(*) from tickets where msisdn = $1`, from); c != 2 {
		t.Errorf("tickets = %d, want 2 (the complaint once, the other complaint)", c)
	}
	if c := count(t, conn, `select count(*) from messages where outcome = 'redelivery'`); c != 1 {
		t.Errorf("messages marked redelivery = %d, want 1", c)
	}
	if c := count(t, conn, `select count(*) from inbound where source_addr = $1`, from); c != 3 {
		t.Errorf("inbound rows = %d, want 3: the redelivered PDU is kept for the audit", c)
	}
	if c := count(t, conn, `select count(*) from outbox where dest_addr = $1`, from); c != 2 {
		t.Errorf("replies queued = %d, want 2 (one per complaint, none for the redelivery)", c)
	}
}

// Redis down (here: never reachable) is a degraded mode, not an outage:
// the daemon starts, takes messages, makes tickets and replies, counts
// flood limits locally, and /readyz and the metrics say so (issue 4).
func TestEndToEndRedisDownKeepsTakingMessages(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "redis://" + ln.Addr().String() + "/0"
	_ = ln.Close() // nothing listens there now
	td := startDaemon(t, daemonOpts{redisURL: dead})
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	const from = "6281234500004"
	if st, err := td.smsc.SendMO(ctx, smsctest.MO{From: from, To: "1708", Text: "air PDAM mati 3 hari di kota bogor"}); err != nil || st != smpp.StatusOK {
		t.Fatalf("MO with Redis down: %v %v", st, err)
	}
	sub, err := td.smsc.WaitSubmit(ctx, func(s smsctest.Submit) bool { return s.To == from })
	if err != nil {
		t.Fatalf("no reply with Redis down: %v", err)
	}
	if _, err := router.ParseTicketNumber(ticketRE.FindString(sub.Text)); err != nil {
		t.Errorf("reply %q: %v", sub.Text, err)
	}
	base := "http://" + td.d.httpAddr.String()
	for _, c := range []struct{ path, want string }{
		{"/readyz", `"redis":{"ok":false,"detail":"unreachable: degraded"}`},
		{"/readyz", `"ready":true`},
		{"/metrics", "sms1708_flood_shared_up 0"},
	} {
		resp, err := http.Get(base + c.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), c.want) {
			t.Errorf("GET %s: %d, body lacks %q:\n%.800s", c.path, resp.StatusCode, c.want, body)
		}
	}
}

// Broken encodings are kept, not refused: the text is stored with U+FFFD,
// the raw bytes stay in inbound, the citizen still gets a ticket, and the
// undecodable characters are counted.
func TestEndToEndBrokenUCS2IsKeptAndCounted(t *testing.T) {
	td := startDaemon(t, daemonOpts{})
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	const from = "6281234500005"
	// "jalan" in UTF-16BE, then a lone high surrogate and an odd trailing byte.
	sm := []byte{0, 'j', 0, 'a', 0, 'l', 0, 'a', 0, 'n', 0xD8, 0x3D, 0x41}
	if st, err := td.smsc.SendMO(ctx, smsctest.MO{From: from, To: "1708", DataCoding: 8, ShortMessage: sm}); err != nil || st != smpp.StatusOK {
		t.Fatalf("MO: %v %v", st, err)
	}
	if _, err := td.smsc.WaitSubmit(ctx, func(s smsctest.Submit) bool { return s.To == from }); err != nil {
		t.Fatal(err)
	}
	conn := connect(t, td.dbURL)
	var text string
	var raw []byte
	if err := conn.QueryRow(ctx, `select text, raw from inbound where source_addr = $1`, from).Scan(&text, &raw); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(text, "jalan") || !strings.Contains(text, "\uFFFD") || !bytes.Contains(raw, sm) {
		t.Errorf("stored text %q, raw %x; want the decodable part, U+FFFD and the original bytes", text, raw)
	}
	resp, err := http.Get("http://" + td.d.httpAddr.String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if !strings.Contains(string(body), "sms1708_ingest_undecodable_chars_total 2") {
		t.Errorf("metrics lack sms1708_ingest_undecodable_chars_total 2:\n%s", grepLines(string(body), "undecodable"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// scrape returns /metrics of the running daemon, as Prometheus reads it.
func (td *testDaemon) scrape(t *testing.T) string {
	t.Helper()
	resp, err := http.Get("http://" + td.d.httpAddr.String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %s", resp.Status)
	}
	return string(body)
}

// Every metric an alert rule names is one the daemon exports, so that a
// renamed metric cannot silently disable an alert.
func TestAlertRulesNameRealMetrics(t *testing.T) {
	rules, err := os.ReadFile("../../configs/prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	td := startDaemon(t, daemonOpts{})
	exported := td.scrape(t)
	names := regexp.MustCompile(`sms1708_[a-z0-9_]+`).FindAllString(string(rules), -1)
	if len(names) < 10 {
		t.Fatalf("only %d metric names found in the rules", len(names))
	}
	for _, n := range names {
		base := strings.TrimSuffix(n, "_bucket")
		if !strings.Contains(exported, "# TYPE "+base+" ") {
			t.Errorf("alert rule names %s, which the daemon does not export", n)
		}
	}
}
