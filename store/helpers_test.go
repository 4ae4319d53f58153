package store_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sp4n-lapor/sms1708/router"
	"github.com/sp4n-lapor/sms1708/store"
	"github.com/sp4n-lapor/sms1708/store/storetest"
)

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// connect opens a connection of its own to db's schema, separate from
// db's pool.
func connect(t testing.TB, db *store.DB) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), db.Pool().Config().ConnString())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// mo returns a citizen's text as the SMPP layer would submit it.
func mo(seq uint32, text string) store.Inbound {
	return store.Inbound{
		Operator: "telkomsel", Bind: "telkomsel-1",
		Command: 0x00000005, Seq: seq,
		SourceAddr: "+6281234567890", SourceTON: 1, SourceNPI: 1,
		DestAddr: "1708", DataCoding: 0,
		Text: text, Alphabet: "gsm7",
		Raw:    []byte{0, 0, 0, 16, 0, 0, 0, 5, 0, 0, 0, 0, byte(seq >> 24), byte(seq >> 16), byte(seq >> 8), byte(seq)},
		MSISDN: "6281234567890",
	}
}

// result is one Done call.
type result struct {
	seq uint32
	err error
}

// collector gathers Done calls.
type collector struct {
	ch chan result
}

func newCollector(n int) *collector { return &collector{ch: make(chan result, n)} }

// with sets rec.Done to report to c, failing the test on a second call.
func (c *collector) with(t testing.TB, rec store.Inbound) store.Inbound {
	var once sync.Once
	seq := rec.Seq
	rec.Done = func(err error) {
		called := false
		once.Do(func() { called = true })
		if !called {
			t.Errorf("Done called twice for seq %d", seq)
			return
		}
		c.ch <- result{seq, err}
	}
	return rec
}

// wait returns the next n results, failing the test after timeout.
func (c *collector) wait(t testing.TB, n int, timeout time.Duration) map[uint32]error {
	t.Helper()
	got := make(map[uint32]error, n)
	deadline := time.After(timeout)
	for len(got) < n {
		select {
		case r := <-c.ch:
			got[r.seq] = r.err
		case <-deadline:
			t.Fatalf("got %d Done calls of %d within %v", len(got), n, timeout)
		}
	}
	return got
}

// none asserts that no Done arrives within d.
func (c *collector) none(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case r := <-c.ch:
		t.Fatalf("Done(%v) for seq %d arrived; want none yet", r.err, r.seq)
	case <-time.After(d):
	}
}

// runIngest starts in.Run and stops it when the test ends.
func runIngest(t testing.TB, in *store.Ingest) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- in.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-errc:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Errorf("Run did not return")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// storedSeqs returns the inbound rows' seq → kind.
func storedSeqs(t testing.TB, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}) map[uint32]string {
	t.Helper()
	rows, err := q.Query(t.Context(), "SELECT seq, kind FROM inbound")
	if err != nil {
		t.Fatal(err)
	}
	got := map[uint32]string{}
	for rows.Next() {
		var seq int64
		var kind string
		if err := rows.Scan(&seq, &kind); err != nil {
			t.Fatal(err)
		}
		got[uint32(seq)] = kind
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

// proxy is a TCP proxy in front of PostgreSQL that a test can cut, to
// play the database going away: established connections are closed and
// new ones refused.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	cut    bool
}

func newProxy(t testing.TB, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	go p.serve()
	t.Cleanup(p.Cut)
	return p
}

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			c.Close()
			s.Close()
			return
		}
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(s, c); s.Close(); c.Close() }()
		go func() { _, _ = io.Copy(c, s); s.Close(); c.Close() }()
	}
}

// Cut closes every proxied connection and refuses new ones.
func (p *proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	p.ln.Close()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// viaProxy returns a fresh migrated schema's URL and the same URL routed
// through a proxy.
func viaProxy(t testing.TB) (direct, proxied string, p *proxy) {
	direct = storetest.URL(t)
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	p = newProxy(t, u.Host)
	u.Host = p.ln.Addr().String()
	return direct, u.String(), p
}

// plain adapts a decide function that needs no lookups to Process.
func plain(f func([]router.Message) []router.Decision) func(router.Lookup, []router.Message) ([]router.Decision, error) {
	return func(_ router.Lookup, msgs []router.Message) ([]router.Decision, error) { return f(msgs), nil }
}
