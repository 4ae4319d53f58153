package store_test

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sp4n-lapor/sms1708/router"
	"github.com/sp4n-lapor/sms1708/store"
	"github.com/sp4n-lapor/sms1708/store/storetest"
)

// hexToDecimal is the normaliser of an SMSC that answers submit_sm in hex
// while its receipts say decimal: both sides end up decimal (as
// smpp.NormalizeMessageID does with IDHex).
func hexToDecimal(_, id string) string {
	if n, err := strconv.ParseUint(strings.TrimSpace(id), 16, 64); err == nil {
		return strconv.FormatUint(n, 10)
	}
	return strings.ToLower(id)
}

// dlrHarness is a database with an ingest and a receipt matcher driven by
// hand.
type dlrHarness struct {
	t       *testing.T
	db      *store.DB
	reg     *prometheus.Registry
	in      *store.Ingest
	rm      *store.ReceiptMatcher
	seq     uint32
	mu      sync.Mutex
	receipt []int64 // receipt ids the ingest handed on
}

func newDLRHarness(t *testing.T) *dlrHarness {
	t.Helper()
	return newDLRHarnessOn(t, storetest.DB(t))
}

// newDLRHarnessOn is newDLRHarness on a given (migrated) database: an
// instance of its own when another harness or DB shares the schema.
func newDLRHarnessOn(t *testing.T, db *store.DB) *dlrHarness {
	t.Helper()
	h := &dlrHarness{t: t, db: db, reg: prometheus.NewRegistry()}
	h.db.SetSubmitIDNormalizer(hexToDecimal)
	m := store.NewMetrics(h.reg)
	m.SetOperators([]string{"telkomsel"})
	h.in = store.NewIngest(h.db, store.IngestConfig{}, m, testLogger(t), nil)
	h.in.OnReceipts(func(ids []int64) { h.mu.Lock(); h.receipt = append(h.receipt, ids...); h.mu.Unlock() })
	h.rm = store.NewReceiptMatcher(h.db, store.ReceiptMatcherConfig{}, m, testLogger(t))
	runIngest(t, h.in)
	return h
}

// sending queues an outbox row and leases it, as the dispatcher's claim
// does, and returns its id.
func (h *dlrHarness) sending(to string) int64 {
	h.t.Helper()
	var id int64
	err := h.db.Pool().QueryRow(h.t.Context(), `INSERT INTO outbox
		(kind, operator, dest_addr, source_addr, text, state, attempts, lease_until, expires_at)
		VALUES ('status', 'telkomsel', $1, '1708', 'Status tiket Anda: ditindaklanjuti', 'sending', 1,
		        now() + interval '1 minute', now() + interval '1 day') RETURNING id`, to).Scan(&id)
	if err != nil {
		h.t.Fatal(err)
	}
	return id
}

// sent records a submit_sm_resp's ids for row id.
func (h *dlrHarness) sent(id int64, smscIDs ...string) {
	h.t.Helper()
	if err := h.db.CompleteOutbox(h.t.Context(), []router.SendResult{{ID: id, MessageIDs: smscIDs}}); err != nil {
		h.t.Fatal(err)
	}
}

// receive stores a receipt through the ingest (nil dlr: unparsable) and
// matches what the ingest handed on.
func (h *dlrHarness) receive(dlr *store.DLR) {
	h.t.Helper()
	rec := store.Inbound{
		Operator: "telkomsel", Bind: "telkomsel/1", Command: 5,
		SourceAddr: "6281234567890", SourceTON: 1, SourceNPI: 1, DestAddr: "1708",
		ESMClass: 0x04, Text: "id:… stat:…", Alphabet: "gsm7", Raw: []byte{0, 0, 0, 16},
		Receipt: true, DLR: dlr,
	}
	if dlr != nil && !dlr.Final && dlr.State == "ENROUTE" {
		rec.ESMClass = 0x20
	}
	submitAll(h.t, h.in, &h.seq, rec)
	// A receipt stored unmatched is handed to the matcher after the ack; one
	// the ingest matched (its reply of one segment was recorded sent) is not.
	if dlr != nil && !h.matchedAtIngest(h.seq) {
		waitFor(h.t, func() bool { h.mu.Lock(); defer h.mu.Unlock(); return len(h.receipt) > 0 })
	}
	h.mu.Lock()
	ids := h.receipt
	h.receipt = nil
	h.mu.Unlock()
	if _, err := h.rm.Match(h.t.Context(), ids); err != nil {
		h.t.Fatal(err)
	}
}

// matchedAtIngest reports whether the receipt of the PDU with sequence
// number seq was stored already matched.
func (h *dlrHarness) matchedAtIngest(seq uint32) bool {
	h.t.Helper()
	var matched bool
	err := h.db.Pool().QueryRow(h.t.Context(), `SELECT r.outbox_id IS NOT NULL FROM receipts r
		JOIN inbound i ON i.id = r.inbound_id WHERE i.seq = $1`, int64(seq)).Scan(&matched)
	if err != nil {
		h.t.Fatal(err)
	}
	return matched
}

// matchEachAtOnce matches every receipt in a transaction of its own, all
// at the same time, as matchers of several instances would.
func (h *dlrHarness) matchEachAtOnce(receiptIDs []int64) {
	h.t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(receiptIDs))
	for _, rid := range receiptIDs {
		wg.Go(func() {
			if _, err := h.rm.Match(h.t.Context(), []int64{rid}); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		h.t.Error(err)
	}
}

func (h *dlrHarness) outbox(id int64) store.OutboxRow {
	h.t.Helper()
	o, err := h.db.OutboxByID(h.t.Context(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return o
}

func delivered(id string) *store.DLR {
	return &store.DLR{MessageID: id, State: "DELIVERED", Final: true, Err: "000", DoneAt: time.Now()}
}

func TestReceiptMatchesTheOutboxRow(t *testing.T) {
	for _, c := range []struct {
		name           string
		receiptFirst   bool
		submitID       string // as the submit_sm_resp wrote it (hex)
		receiptID      string // as the ingest hands it on: normalised (decimal)
		wantState      string
		wantSMSCIDsRaw []string
	}{
		{"receipt after the response", false, "1A2B", "6699", "delivered", []string{"1A2B"}},
		{"receipt before the response", true, "1A2B", "6699", "delivered", []string{"1A2B"}},
		{"hex response, zero-padded hex", false, "00001a2b", "6699", "delivered", []string{"00001a2b"}},
		{"hex response, decimal receipt that does not match", false, "1A2B", "1A2B", "sent", []string{"1A2B"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newDLRHarness(t)
			id := h.sending("6281234567890")
			if c.receiptFirst {
				h.receive(delivered(c.receiptID))
				if o := h.outbox(id); o.State != "sending" {
					t.Fatalf("state %q after an early receipt, want sending", o.State)
				}
			}
			h.sent(id, c.submitID)
			if !c.receiptFirst {
				h.receive(delivered(c.receiptID))
			}
			o := h.outbox(id)
			if o.State != c.wantState || strings.Join(o.SMSCIDs, ",") != strings.Join(c.wantSMSCIDsRaw, ",") {
				t.Errorf("outbox row: state %q, smsc_ids %v; want %q, %v", o.State, o.SMSCIDs, c.wantState, c.wantSMSCIDsRaw)
			}
			rs, err := h.db.ReceiptsByOutbox(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			if matched := len(rs) == 1; matched != (c.wantState == "delivered") {
				t.Errorf("receipts matched: %+v", rs)
			}
		})
	}
}

// A receipt stored and left unmatched by one instance, for a reply another
// instance then records sent: the recording instance knows of no receipt
// waiting and does not look (in service receipts come seconds after the
// response); its sweep matches the receipt and settles the reply.
func TestReceiptWaitingInAnotherInstance(t *testing.T) {
	u := storetest.URL(t)
	openDB := func() *store.DB {
		db, err := store.Open(t.Context(), u, testLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(db.Close)
		db.SetSubmitIDNormalizer(hexToDecimal)
		return db
	}
	a := newDLRHarnessOn(t, openDB()) // sends the reply
	b := newDLRHarnessOn(t, openDB()) // holds the bind the receipt comes on
	id := a.sending("6281234567890")
	b.receive(delivered("6699"))
	a.sent(id, "1A2B")
	if o := a.outbox(id); o.State != "sent" {
		t.Fatalf("state %q right after the response, want sent (the receipt waits for a sweep)", o.State)
	}
	if n, err := a.rm.Sweep(t.Context()); err != nil || n != 1 {
		t.Fatalf("sweep matched %d, %v; want 1", n, err)
	}
	if o := a.outbox(id); o.State != "delivered" {
		t.Errorf("state %q after the sweep, want delivered", o.State)
	}
	// Now that instance a has seen a receipt wait, its next response is
	// matched at once.
	id2 := a.sending("6281234567891")
	b.receive(delivered("6700"))
	a.sent(id2, "1A2C")
	if o := a.outbox(id2); o.State != "delivered" {
		t.Errorf("second reply: state %q, want delivered at once", o.State)
	}
}

// A long reply has one id per segment: delivered when every segment's
// final receipt says so, failed as soon as one segment's does not.
func TestReceiptMultipartMT(t *testing.T) {
	t.Run("delivered when every part is", func(t *testing.T) {
		h := newDLRHarness(t)
		id := h.sending("6281234567890")
		h.sent(id, "A1", "A2", "A3")
		h.receive(delivered("161"))
		h.receive(delivered("163"))
		h.receive(delivered("161")) // a repeated receipt is not a third part
		if o := h.outbox(id); o.State != "sent" {
			t.Fatalf("state %q with two parts of three delivered, want sent", o.State)
		}
		h.receive(delivered("162"))
		if o := h.outbox(id); o.State != "delivered" {
			t.Errorf("state %q with every part delivered, want delivered", o.State)
		}
	})
	t.Run("failed when one part is undeliverable", func(t *testing.T) {
		h := newDLRHarness(t)
		id := h.sending("6281234567890")
		h.sent(id, "B1", "B2")
		h.receive(delivered("177"))
		h.receive(&store.DLR{MessageID: "178", State: "UNDELIVERABLE", Final: true, Err: "gsm:001"})
		o := h.outbox(id)
		if o.State != "failed" || !strings.Contains(o.LastError, "UNDELIVERABLE") || !strings.Contains(o.LastError, "gsm:001") {
			t.Errorf("outbox row: state %q, last_error %q; want failed with the receipt's state and error", o.State, o.LastError)
		}
		// A late, contradicting receipt changes nothing.
		h.receive(delivered("178"))
		if o := h.outbox(id); o.State != "failed" {
			t.Errorf("state %q after a late receipt, want failed", o.State)
		}
	})
	for _, st := range []string{"REJECTED", "EXPIRED"} {
		t.Run("failed when a part is "+st, func(t *testing.T) {
			h := newDLRHarness(t)
			id := h.sending("6281234567890")
			h.sent(id, "C1")
			h.receive(&store.DLR{MessageID: "193", State: st, Final: true})
			if o := h.outbox(id); o.State != "failed" || !strings.Contains(o.LastError, st) {
				t.Errorf("outbox row: state %q, last_error %q", o.State, o.LastError)
			}
		})
	}
}

func TestReceiptIntermediateDoesNotFinalise(t *testing.T) {
	h := newDLRHarness(t)
	id := h.sending("6281234567890")
	h.sent(id, "FF")
	h.receive(&store.DLR{MessageID: "255", State: "ENROUTE", Final: false})
	h.receive(&store.DLR{MessageID: "255", State: "ACCEPTED", Final: false})
	if o := h.outbox(id); o.State != "sent" {
		t.Errorf("state %q after intermediate receipts, want sent", o.State)
	}
	rs, err := h.db.ReceiptsByOutbox(t.Context(), id)
	if err != nil || len(rs) != 2 {
		t.Errorf("receipts matched %+v, %v; want both kept", rs, err)
	}
	h.receive(delivered("255"))
	if o := h.outbox(id); o.State != "delivered" {
		t.Errorf("state %q after the final receipt, want delivered", o.State)
	}
}

// A receipt for a message we do not know, and one that could not be
// parsed, are stored and acked all the same, and counted.
func TestReceiptUnknownOrUnparsableIsKept(t *testing.T) {
	h := newDLRHarness(t)
	id := h.sending("6281234567890")
	h.sent(id, "10")
	h.receive(delivered("999999"))
	h.receive(nil)
	if o := h.outbox(id); o.State != "sent" {
		t.Errorf("state %q, want sent", o.State)
	}
	if n := count(t, h.db, "SELECT count(*) FROM inbound WHERE kind = 'receipt'"); n != 2 {
		t.Errorf("%d receipt PDUs stored, want 2", n)
	}
	if n := count(t, h.db, "SELECT count(*) FROM receipts WHERE outbox_id IS NULL AND message_id = '999999'"); n != 1 {
		t.Errorf("%d unmatched receipts rows, want 1", n)
	}
	for st, want := range map[string]float64{"delivered": 1, "unparsable": 1, "rejected": 0} {
		if got := labelled(t, h.reg, "sms1708_dlr_total", map[string]string{"operator": "telkomsel", "state": st}); got != want {
			t.Errorf("sms1708_dlr_total{state=%q} = %v, want %v", st, got, want)
		}
	}
	if _, err := h.rm.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	if g := gauge(t, h.reg, "sms1708_dlr_unmatched_recent"); g != 1 {
		t.Errorf("dlr_unmatched_recent = %v, want 1", g)
	}
}

// A receipt whose matcher never ran (the instance stopped between the
// commit and the match) is matched by the sweep.
func TestReceiptSweepMatchesWhatNobodyMatched(t *testing.T) {
	h := newDLRHarness(t)
	id := h.sending("6281234567890")
	// The receipt comes before the response is recorded, and no matcher
	// runs: the instance knows of no receipt waiting when it records it.
	submitAll(t, h.in, &h.seq, store.Inbound{Operator: "telkomsel", Bind: "telkomsel/0", Command: 5,
		SourceAddr: "6281234567890", DestAddr: "1708", ESMClass: 0x04, Raw: []byte{1}, Receipt: true, DLR: delivered("42")})
	h.sent(id, "2A")
	if o := h.outbox(id); o.State != "sent" {
		t.Fatalf("state %q before any match, want sent", o.State)
	}
	n, err := h.rm.Sweep(t.Context())
	if err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1", n, err)
	}
	if o := h.outbox(id); o.State != "delivered" {
		t.Errorf("state %q, want delivered", o.State)
	}
}

// Receipts racing their own submit_sm_resp — matchers and CompleteOutbox
// in parallel — are all matched: neither side can miss the other.
func TestReceiptRacingItsResponseIsMatched(t *testing.T) {
	h := newDLRHarness(t)
	const n = 60
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = h.sending(fmt.Sprintf("62812%08d", i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i, id := range ids {
		hexID := fmt.Sprintf("%X", 0x1000+i)
		wg.Go(func() {
			if err := h.db.CompleteOutbox(t.Context(), []router.SendResult{{ID: id, MessageIDs: []string{hexID}}}); err != nil {
				errs <- err
			}
		})
		wg.Go(func() {
			c := newCollector(1)
			rec := store.Inbound{Operator: "telkomsel", Bind: "telkomsel/0", Command: 5, Seq: uint32(i + 1),
				SourceAddr: "6281234567890", DestAddr: "1708", ESMClass: 0x04, Raw: []byte{1}, Receipt: true,
				DLR: delivered(strconv.Itoa(0x1000 + i))}
			rec.Done = func(err error) { c.ch <- result{rec.Seq, err} }
			h.in.Submit(rec)
			if r := <-c.ch; r.err != nil {
				errs <- r.err
				return
			}
			var receiptID int64
			if err := h.db.Pool().QueryRow(t.Context(), "SELECT id FROM receipts WHERE message_id = $1", strconv.Itoa(0x1000+i)).Scan(&receiptID); err != nil {
				errs <- err
				return
			}
			if _, err := h.rm.Match(t.Context(), []int64{receiptID}); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := count(t, h.db, "SELECT count(*) FROM outbox WHERE state = 'delivered'"); got != n {
		t.Errorf("%d rows delivered, want %d", got, n)
	}
}

// labelled returns the value of the counter name{labels} in reg.
func labelled(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if v, ok := labels[l.GetName()]; ok && v != l.GetValue() {
					continue next
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	t.Fatalf("no %s%v", name, labels)
	return 0
}

// The receipts of the two segments of a long reply, matched by two
// matchers at the same moment, settle the row: the second waits for the
// first and then counts both.
func TestReceiptSegmentsMatchedConcurrentlySettleTheRow(t *testing.T) {
	h := newDLRHarness(t)
	const n = 20
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = h.sending(fmt.Sprintf("62813%08d", i))
		h.sent(ids[i], fmt.Sprintf("%X", 0x2000+2*i), fmt.Sprintf("%X", 0x2000+2*i+1))
	}
	var recs []store.Inbound
	for i := range 2 * n {
		recs = append(recs, store.Inbound{Operator: "telkomsel", Bind: "telkomsel/0", Command: 5,
			SourceAddr: "6281234567890", DestAddr: "1708", ESMClass: 0x04, Raw: []byte{byte(i)}, Receipt: true,
			DLR: delivered(strconv.Itoa(0x2000 + i))})
	}
	submitAll(t, h.in, &h.seq, recs...)
	receiptOf := func(smscID int) int64 {
		var id int64
		if err := h.db.Pool().QueryRow(t.Context(), "SELECT id FROM receipts WHERE message_id = $1", strconv.Itoa(smscID)).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	var rids []int64
	for i := range 2 * n {
		rids = append(rids, receiptOf(0x2000+i))
	}
	h.matchEachAtOnce(rids)
	if got := count(t, h.db, "SELECT count(*) FROM outbox WHERE state = 'delivered'"); got != n {
		t.Errorf("%d two-segment rows delivered, want %d", got, n)
	}
	if got := count(t, h.db, "SELECT count(*) FROM receipts WHERE outbox_id IS NULL"); got != 0 {
		t.Errorf("%d receipts left unmatched, want 0", got)
	}
}

// A reply of one segment is settled by its final receipt in one statement;
// a contradicting final receipt matched in the same batch wins (failed),
// and receipts matched by several matchers at once settle the row once.
func TestReceiptSingleSegmentSettles(t *testing.T) {
	t.Run("not delivered wins within a batch", func(t *testing.T) {
		h := newDLRHarness(t)
		id := h.sending("6281234567890")
		// Both receipts come before the response is recorded (stored
		// unmatched) and are matched together afterwards.
		submitAll(t, h.in, &h.seq,
			store.Inbound{Operator: "telkomsel", Bind: "telkomsel/0", Command: 5, SourceAddr: "6281234567890", DestAddr: "1708",
				ESMClass: 0x04, Raw: []byte{1}, Receipt: true, DLR: delivered("209")},
			store.Inbound{Operator: "telkomsel", Bind: "telkomsel/0", Command: 5, SourceAddr: "6281234567890", DestAddr: "1708",
				ESMClass: 0x04, Raw: []byte{2}, Receipt: true, DLR: &store.DLR{MessageID: "209", State: "UNDELIVERABLE", Final: true, Err: "gsm:027"}})
		var ids []int64
		rows, err := h.db.Pool().Query(t.Context(), "SELECT id FROM receipts WHERE message_id = '209' ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var rid int64
			if err := rows.Scan(&rid); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, rid)
		}
		if rows.Err() != nil || len(ids) != 2 {
			t.Fatalf("receipts %v, %v", ids, rows.Err())
		}
		h.sent(id, "D1") // normalised: 209
		if n, err := h.rm.Match(t.Context(), ids); err != nil || n != 2 {
			t.Fatalf("Match = %d, %v; want 2", n, err)
		}
		o := h.outbox(id)
		if o.State != "failed" || !strings.Contains(o.LastError, "UNDELIVERABLE") || !strings.Contains(o.LastError, "gsm:027") {
			t.Errorf("outbox row: state %q, last_error %q; want failed with the undeliverable receipt", o.State, o.LastError)
		}
	})
	t.Run("matched at once by several matchers", func(t *testing.T) {
		h := newDLRHarness(t)
		const n = 20
		ids := make([]int64, n)
		var recs []store.Inbound
		for i := range ids {
			ids[i] = h.sending(fmt.Sprintf("62814%08d", i))
			for range 2 { // the SMSC repeats the receipt
				recs = append(recs, store.Inbound{Operator: "telkomsel", Bind: "telkomsel/0", Command: 5,
					SourceAddr: "6281234567890", DestAddr: "1708", ESMClass: 0x04, Raw: []byte{byte(i)}, Receipt: true,
					DLR: delivered(strconv.Itoa(0x3000 + i))})
			}
		}
		// The receipts come first (stored unmatched), then the responses.
		submitAll(t, h.in, &h.seq, recs...)
		for i := range ids {
			h.sent(ids[i], fmt.Sprintf("%X", 0x3000+i))
		}
		rows, err := h.db.Pool().Query(t.Context(), "SELECT id FROM receipts WHERE outbox_id IS NULL")
		if err != nil {
			t.Fatal(err)
		}
		rids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil || len(rids) != 2*n {
			t.Fatalf("%d unmatched receipts, %v; want %d", len(rids), err, 2*n)
		}
		h.matchEachAtOnce(rids)
		if got := count(t, h.db, "SELECT count(*) FROM outbox WHERE state = 'delivered'"); got != n {
			t.Errorf("%d rows delivered, want %d", got, n)
		}
	})
}

// The state changes of an outbox row that keep it active (leased, given
// back) or done (sent → delivered) are HOT updates: no new index entries
// (migration 008). Leaving pending/sending is not, and shows the counter
// tells them apart.
func TestOutboxStateChangesAreHOT(t *testing.T) {
	h := newDLRHarness(t)
	ctx := t.Context()
	id := h.sending("6281234567890")
	tx, err := h.db.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	hot := func() int64 {
		t.Helper()
		var n int64
		if err := tx.QueryRow(ctx, `SELECT pg_stat_get_xact_tuples_hot_updated('outbox'::regclass)`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	steps := []struct {
		name string
		sql  string
		hot  bool
	}{
		{"lease given back", `UPDATE outbox SET state = 'pending', lease_until = NULL WHERE id = $1`, true},
		{"leased again", `UPDATE outbox SET state = 'sending', lease_until = now() + interval '1 minute', attempts = attempts + 1 WHERE id = $1`, true},
		{"sent", `UPDATE outbox SET state = 'sent', lease_until = NULL, smsc_ids = '{1A}', sent_at = now() WHERE id = $1`, false},
		{"delivered", `UPDATE outbox SET state = 'delivered' WHERE id = $1`, true},
	}
	for _, s := range steps {
		before := hot()
		if _, err := tx.Exec(ctx, s.sql, id); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := hot() - before; (got == 1) != s.hot {
			t.Errorf("%s: %d HOT updates, want HOT %v", s.name, got, s.hot)
		}
	}
}

// A receipt for a reply of one segment already recorded sent — the usual
// case in service, where receipts come seconds after the response — is
// stored matched and settles the reply in the ingest's own statement: no
// hand-off to the matcher, no second transaction, nothing left for a crash
// between the two.
func TestReceiptSettledByTheIngest(t *testing.T) {
	for _, c := range []struct {
		name      string
		dlr       *store.DLR
		wantState string
		wantErr   string
	}{
		{"delivered", delivered("4660"), "delivered", ""},
		{"undeliverable", &store.DLR{MessageID: "4660", State: "UNDELIVERABLE", Final: true, Err: "gsm:001"}, "failed", "UNDELIVERABLE err:gsm:001"},
		{"intermediate", &store.DLR{MessageID: "4660", State: "ENROUTE", Final: false}, "sent", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newDLRHarness(t)
			id := h.sending("6281234567890")
			h.sent(id, "1234")
			h.receive(c.dlr)
			if !h.matchedAtIngest(h.seq) {
				t.Fatal("receipt stored unmatched, want matched by the ingest")
			}
			o := h.outbox(id)
			if o.State != c.wantState || !strings.Contains(o.LastError, c.wantErr) {
				t.Errorf("outbox row: state %q, last_error %q; want %q with %q", o.State, o.LastError, c.wantState, c.wantErr)
			}
			h.mu.Lock()
			handed := h.receipt
			h.mu.Unlock()
			if len(handed) != 0 {
				t.Errorf("receipts %v handed to the matcher, want none", handed)
			}
			rs, err := h.db.ReceiptsByOutbox(t.Context(), id)
			if err != nil || len(rs) != 1 {
				t.Errorf("receipts of the row: %+v, %v; want the one", rs, err)
			}
		})
	}
	t.Run("a reply of two segments is left to the matcher", func(t *testing.T) {
		h := newDLRHarness(t)
		id := h.sending("6281234567890")
		h.sent(id, "1234", "1235")
		submitAll(t, h.in, &h.seq, store.Inbound{Operator: "telkomsel", Bind: "telkomsel/0", Command: 5,
			SourceAddr: "6281234567890", DestAddr: "1708", ESMClass: 0x04, Raw: []byte{1}, Receipt: true, DLR: delivered("4660")})
		if h.matchedAtIngest(h.seq) {
			t.Error("receipt of one segment of two matched by the ingest, want it left to the matcher")
		}
		waitFor(t, func() bool { h.mu.Lock(); defer h.mu.Unlock(); return len(h.receipt) == 1 })
		if o := h.outbox(id); o.State != "sent" {
			t.Errorf("state %q with one segment of two delivered, want sent", o.State)
		}
	})
}
