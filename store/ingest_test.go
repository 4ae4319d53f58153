package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sp4n-lapor/sms1708/store"
	"github.com/sp4n-lapor/sms1708/store/storetest"
)

func TestIngestAcksOnlyWhatAnotherConnectionSees(t *testing.T) {
	db := storetest.DB(t)
	other := connect(t, db)
	var mu sync.Mutex // other is one connection; Done runs on one goroutine, but be explicit
	c := newCollector(100)
	in := store.NewIngest(db, store.IngestConfig{}, nil, testLogger(t), nil)
	runIngest(t, in)

	for i := range 50 {
		rec := mo(uint32(i+1), "jalan rusak")
		inner := c.with(t, rec)
		seq := rec.Seq
		rec.Done = func(err error) {
			if err == nil {
				mu.Lock()
				var n int
				qerr := other.QueryRow(context.Background(), "SELECT count(*) FROM inbound WHERE seq = $1", int64(seq)).Scan(&n)
				mu.Unlock()
				if qerr != nil || n != 1 {
					t.Errorf("seq %d acked but another connection sees %d rows (%v)", seq, n, qerr)
				}
			}
			inner.Done(err)
		}
		in.Submit(rec)
	}
	for seq, err := range c.wait(t, 50, 10*time.Second) {
		if err != nil {
			t.Errorf("seq %d: Done(%v), want nil", seq, err)
		}
	}
}

// DESIGN.md, "Promises" 1: no ESME_ROK before the commit. While another
// session holds an exclusive lock on inbound no statement can commit, so
// no Done may arrive; once it is released, every acked record is stored.
func TestIngestHoldsEveryAckWhileInboundIsLocked(t *testing.T) {
	db := storetest.DB(t)
	locker := connect(t, db)
	tx, err := locker.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(t.Context(), "LOCK TABLE inbound IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}

	c := newCollector(100)
	in := store.NewIngest(db, store.IngestConfig{MaxBatch: 8}, nil, testLogger(t), nil)
	runIngest(t, in)
	for i := range 40 {
		in.Submit(c.with(t, mo(uint32(i+1), "lampu jalan mati")))
	}
	c.none(t, 300*time.Millisecond)

	if err := tx.Rollback(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := c.wait(t, 40, 10*time.Second)
	stored := storedSeqs(t, db.Pool())
	for seq, err := range got {
		if err != nil {
			t.Errorf("seq %d: Done(%v), want nil", seq, err)
		}
		if stored[seq] != "mo" {
			t.Errorf("seq %d acked but not stored", seq)
		}
	}
}

func TestIngestAnswersNotCommittedWhenTheCommitTakesTooLong(t *testing.T) {
	db := storetest.DB(t)
	locker := connect(t, db)
	tx, err := locker.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(t.Context(), "LOCK TABLE inbound IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	m := store.NewMetrics(reg)
	c := newCollector(10)
	in := store.NewIngest(db, store.IngestConfig{CommitTimeout: time.Second}, m, testLogger(t), nil)
	runIngest(t, in)
	in.Submit(c.with(t, mo(1, "a")))
	got := c.wait(t, 1, 5*time.Second)
	if !errors.Is(got[1], store.ErrNotCommitted) {
		t.Fatalf("Done(%v), want ErrNotCommitted", got[1])
	}
	if err := tx.Rollback(t.Context()); err != nil {
		t.Fatal(err)
	}
	// The ingest recovers by itself once the database is back.
	in.Submit(c.with(t, mo(2, "b")))
	if got := c.wait(t, 1, 10*time.Second); got[2] != nil {
		t.Fatalf("after the lock: Done(%v), want nil", got[2])
	}
	if v := counter(t, reg, "sms1708_ingest_records_total", "failed"); v != 1 {
		t.Errorf("records_total{outcome=failed} = %v, want 1", v)
	}
}

// The database going away — established connections dropped mid-commit,
// new ones refused — gets every record an error, and nothing acked is
// missing once it is back.
func TestIngestLosesNothingAckedWhenTheDatabaseGoes(t *testing.T) {
	direct, proxied, p := viaProxy(t)
	db, err := store.Open(t.Context(), proxied, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	check, err := store.Open(t.Context(), direct, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(check.Close)

	c := newCollector(1000)
	in := store.NewIngest(db, store.IngestConfig{MaxBatch: 16}, nil, testLogger(t), nil)
	runIngest(t, in)
	for i := range 100 {
		in.Submit(c.with(t, mo(uint32(i+1), "sampah menumpuk")))
	}
	results := c.wait(t, 100, 10*time.Second)

	// Hold the next commit on a lock, so that the cut happens while a
	// statement is in flight and its outcome is unknown to the ingest.
	locker := connect(t, check)
	tx, err := locker.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(t.Context(), "LOCK TABLE inbound IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	for i := 100; i < 200; i++ {
		in.Submit(c.with(t, mo(uint32(i+1), "sampah menumpuk")))
	}
	c.none(t, 100*time.Millisecond)
	p.Cut()
	for i := 200; i < 300; i++ {
		in.Submit(c.with(t, mo(uint32(i+1), "sampah menumpuk")))
	}
	for seq, err := range c.wait(t, 200, 10*time.Second) {
		if err == nil {
			t.Errorf("seq %d: Done(nil) with the database gone", seq)
		} else if !errors.Is(err, store.ErrNotCommitted) {
			t.Errorf("seq %d: Done(%v), want ErrNotCommitted", seq, err)
		}
		results[seq] = err
	}
	if err := tx.Rollback(t.Context()); err != nil {
		t.Fatal(err)
	}

	stored := storedSeqs(t, check.Pool())
	for seq, err := range results {
		if err == nil && stored[seq] == "" {
			t.Errorf("seq %d acked but not stored", seq)
		}
	}
}

// One record the schema refuses must not keep its batch-mates from
// committing: they are stored and acked, it becomes a dead letter.
func TestIngestStoresAPoisonRecordAsDeadLetterAndItsBatchMates(t *testing.T) {
	db := storetest.DB(t)
	reg := prometheus.NewRegistry()
	m := store.NewMetrics(reg)
	c := newCollector(20)
	var committed []int64
	var mu sync.Mutex
	in := store.NewIngest(db, store.IngestConfig{}, m, testLogger(t), func(ids []int64) {
		mu.Lock()
		committed = append(committed, ids...)
		mu.Unlock()
	})
	// Queue everything before Run starts, so that it is one batch.
	for i := range 9 {
		rec := mo(uint32(i+1), "banjir")
		if i == 4 {
			rec.MSISDN = "62812abc" // breaks messages_source_digits
		}
		in.Submit(c.with(t, rec))
	}
	runIngest(t, in)
	got := c.wait(t, 9, 10*time.Second)
	for seq, err := range got {
		if seq == 5 {
			if !errors.Is(err, store.ErrDeadLetter) {
				t.Errorf("poison: Done(%v), want ErrDeadLetter", err)
			}
			continue
		}
		if err != nil {
			t.Errorf("seq %d: Done(%v), want nil", seq, err)
		}
	}
	var kind, reason string
	var raw []byte
	if err := db.Pool().QueryRow(t.Context(), "SELECT kind, dead_reason, raw FROM inbound WHERE seq = 5").Scan(&kind, &reason, &raw); err != nil {
		t.Fatal(err)
	}
	if kind != "dead" || !strings.Contains(reason, "messages_source_digits") || len(raw) != 16 {
		t.Errorf("poison stored as kind %q reason %q raw %d bytes; want dead, the constraint, 16 bytes", kind, reason, len(raw))
	}
	var msgs []int64
	rows, _ := db.Pool().Query(t.Context(), "SELECT id FROM messages ORDER BY id")
	msgs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 8 {
		t.Errorf("%d messages rows, want 8", len(msgs))
	}
	mu.Lock()
	slices.Sort(committed)
	if diff := cmp.Diff(msgs, committed); diff != "" {
		t.Errorf("onCommitted ids (-messages +committed):\n%s", diff)
	}
	mu.Unlock()
	if v := counter(t, reg, "sms1708_ingest_records_total", "dead"); v != 1 {
		t.Errorf("records_total{outcome=dead} = %v, want 1", v)
	}
	if v := counter(t, reg, "sms1708_ingest_records_total", "committed"); v != 8 {
		t.Errorf("records_total{outcome=committed} = %v, want 8", v)
	}
}

func TestIngestStoresEachKind(t *testing.T) {
	type stored struct {
		Kind       string
		Text       *string
		DeadReason *string
		RawLen     int
		Message    bool
		MsgText    string
	}
	str := func(s string) *string { return &s }
	tests := []struct {
		name    string
		edit    func(*store.Inbound)
		wantErr error
		want    stored
	}{
		{"citizen text becomes a message", func(r *store.Inbound) {},
			nil, stored{Kind: "mo", Text: str("halo"), RawLen: 16, Message: true, MsgText: "halo"}},
		{"receipt flag is stored, never a message", func(r *store.Inbound) {
			r.Receipt, r.ESMClass, r.Text = true, 0x04, "id:1 stat:DELIVRD"
		}, nil, stored{Kind: "receipt", Text: str("id:1 stat:DELIVRD"), RawLen: 16}},
		{"esm_class alone marks a receipt", func(r *store.Inbound) { r.ESMClass = 0x20 },
			nil, stored{Kind: "receipt", Text: str("halo"), RawLen: 16}},
		{"undecodable is a dead letter", func(r *store.Inbound) { r.DeadReason, r.Text = "bad udh", "" },
			store.ErrDeadLetter, stored{Kind: "dead", DeadReason: str("bad udh"), RawLen: 16}},
		{"alphanumeric sender is audited, never a message", func(r *store.Inbound) { r.SourceAddr, r.SourceTON, r.MSISDN = "PROMO", 5, "" },
			nil, stored{Kind: "mo", Text: str("halo"), RawLen: 16}},
		{"invalid UTF-8 and NUL are replaced", func(r *store.Inbound) { r.Text = "a\x00b\xffc" },
			nil, stored{Kind: "mo", Text: str("a\uFFFDb\uFFFDc"), RawLen: 16, Message: true, MsgText: "a\uFFFDb\uFFFDc"}},
		{"empty text is still a message", func(r *store.Inbound) { r.Text = "" },
			nil, stored{Kind: "mo", RawLen: 16, Message: true}},
		{"nil raw is stored empty", func(r *store.Inbound) { r.Raw = nil },
			nil, stored{Kind: "mo", Text: str("halo"), Message: true, MsgText: "halo"}},
		{"bad bytes in addresses are replaced, not fatal", func(r *store.Inbound) { r.SourceAddr = "\xff\x00" },
			nil, stored{Kind: "mo", Text: str("halo"), RawLen: 16, Message: true, MsgText: "halo"}},
	}
	db := storetest.DB(t)
	in := store.NewIngest(db, store.IngestConfig{}, nil, testLogger(t), nil)
	runIngest(t, in)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seq := uint32(1000 + i)
			rec := mo(seq, "halo")
			tt.edit(&rec)
			c := newCollector(1)
			in.Submit(c.with(t, rec))
			err := c.wait(t, 1, 10*time.Second)[seq]
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Done(%v), want %v", err, tt.wantErr)
			}
			var got stored
			var msgText *string
			err = db.Pool().QueryRow(t.Context(), `
				SELECT i.kind, i.text, i.dead_reason, length(i.raw), m.id IS NOT NULL, m.text
				FROM inbound i LEFT JOIN messages m ON m.inbound_id = i.id
				WHERE i.seq = $1`, int64(seq)).Scan(&got.Kind, &got.Text, &got.DeadReason, &got.RawLen, &got.Message, &msgText)
			if err != nil {
				t.Fatal(err)
			}
			if msgText != nil {
				got.MsgText = *msgText
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("stored (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIngestRefusesWhenFullAndAfterStop(t *testing.T) {
	db := storetest.DB(t)
	c := newCollector(10)
	in := store.NewIngest(db, store.IngestConfig{Queue: 2}, nil, testLogger(t), nil)
	in.Submit(c.with(t, mo(1, "a")))
	in.Submit(c.with(t, mo(2, "b")))
	in.Submit(c.with(t, mo(3, "c")))
	if got := c.wait(t, 1, time.Second); !errors.Is(got[3], store.ErrOverloaded) {
		t.Fatalf("third Submit on a queue of 2: Done(%v) for %v, want ErrOverloaded", got[3], got)
	}

	// Run with a context already done still stores what was queued.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := in.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if got := c.wait(t, 2, time.Second); got[1] != nil || got[2] != nil {
		t.Fatalf("queued before stop: %v, want both nil", got)
	}
	in.Submit(c.with(t, mo(4, "d")))
	if got := c.wait(t, 1, time.Second); !errors.Is(got[4], store.ErrClosed) {
		t.Fatalf("after stop: Done(%v), want ErrClosed", got[4])
	}
	if diff := cmp.Diff(map[uint32]string{1: "mo", 2: "mo"}, storedSeqs(t, db.Pool())); diff != "" {
		t.Errorf("stored (-want +got):\n%s", diff)
	}
}

// Records submitted from many goroutines while Run stops are each
// answered exactly once, and every acked one is stored.
func TestIngestAnswersEveryRecordOnceAcrossStop(t *testing.T) {
	db := storetest.DB(t)
	const n = 2000
	c := newCollector(n)
	in := store.NewIngest(db, store.IngestConfig{}, nil, testLogger(t), nil)
	stop := runIngest(t, in)
	var wg sync.WaitGroup
	var next atomic.Uint32
	for range 8 {
		wg.Go(func() {
			for {
				seq := next.Add(1)
				if seq > n {
					return
				}
				in.Submit(c.with(t, mo(seq, "x")))
			}
		})
	}
	time.AfterFunc(5*time.Millisecond, stop)
	wg.Wait()
	got := c.wait(t, n, 30*time.Second)
	stored := storedSeqs(t, db.Pool())
	for seq, err := range got {
		switch {
		case err == nil && stored[seq] != "mo":
			t.Errorf("seq %d acked but not stored", seq)
		case err != nil && !errors.Is(err, store.ErrClosed) && !errors.Is(err, store.ErrOverloaded):
			t.Errorf("seq %d: Done(%v)", seq, err)
		}
	}
}

// counter returns the value of the counter name{outcome=outcome} in reg.
func counter(t testing.TB, reg *prometheus.Registry, name, outcome string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" && l.GetValue() == outcome {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no %s{outcome=%q}", name, outcome)
	return 0
}

// BenchmarkIngest measures durable throughput: records per second from
// many concurrent submitters, each acked after its commit, by MaxBatch.
func BenchmarkIngest(b *testing.B) {
	for _, flushers := range []int{1, 2, 4} {
		for _, maxBatch := range []int{16, 256, 1024} {
			b.Run(fmt.Sprintf("Flushers=%d/MaxBatch=%d", flushers, maxBatch), func(b *testing.B) {
				benchmarkIngest(b, store.IngestConfig{MaxBatch: maxBatch, Flushers: flushers, Queue: 1 << 16})
			})
		}
	}
}

func benchmarkIngest(b *testing.B, cfg store.IngestConfig) {
	db := storetest.DB(b)
	reg := prometheus.NewRegistry()
	in := store.NewIngest(db, cfg, store.NewMetrics(reg), testLogger(b), nil)
	runIngest(b, in)
	var wg sync.WaitGroup
	var failed atomic.Int64
	// Keep at most this many records in flight, as the SMSCs' windows do.
	inflight := make(chan struct{}, 1<<14)
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		wg.Add(1)
		inflight <- struct{}{}
		rec := mo(uint32(i+1), "jalan berlubang di depan pasar, mohon diperbaiki")
		rec.Done = func(err error) {
			if err != nil {
				failed.Add(1)
			}
			<-inflight
			wg.Done()
		}
		in.Submit(rec)
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "records/s")
	mfs, err := reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "sms1708_ingest_batch_records" {
			h := mf.GetMetric()[0].GetHistogram()
			b.ReportMetric(h.GetSampleSum()/float64(h.GetSampleCount()), "records/batch")
		}
	}
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d records failed", f)
	}
}

// BenchmarkIngestStatement measures the ingest's statement alone, one after
// another on one connection: what a statement costs (rows=1) and what each
// further record adds (rows=16, rows=64). ns/op is per statement.
func BenchmarkIngestStatement(b *testing.B) {
	for _, n := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			db := storetest.DB(b)
			in := store.NewIngest(db, store.IngestConfig{}, nil, testLogger(b), nil)
			recs := make([]store.Inbound, n)
			seq := uint32(0)
			b.ResetTimer()
			for range b.N {
				for i := range recs {
					seq++
					recs[i] = mo(seq, "jalan berlubang di depan pasar, mohon diperbaiki")
				}
				if err := in.InsertBatch(b.Context(), recs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
