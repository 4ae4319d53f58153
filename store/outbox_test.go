package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/sp4n-lapor/sms1708/router"
	"github.com/sp4n-lapor/sms1708/store"
	"github.com/sp4n-lapor/sms1708/store/storetest"
)

// queueReplies processes n fresh messages into n outbox rows and returns
// their ids.
func queueReplies(t *testing.T, db *store.DB, n int) []int64 {
	t.Helper()
	ids := ingestMessages(t, db, n)
	_, err := db.Process(t.Context(), ids, n, false, plain(func(msgs []router.Message) []router.Decision {
		var out []router.Decision
		for _, m := range msgs {
			out = append(out, router.Decision{MessageID: m.ID, Outcome: "help",
				Replies: []router.Reply{{Kind: "help", Operator: m.Operator, To: m.Source, From: m.Dest, Text: "Ketik LAPOR <isi laporan>"}}})
		}
		return out
	}))
	if err != nil {
		t.Fatal(err)
	}
	var rows []int64
	for _, id := range ids {
		ob, err := db.OutboxByMessage(t.Context(), id)
		if err != nil || len(ob) != 1 {
			t.Fatalf("outbox of message %d = %v, %v", id, ob, err)
		}
		rows = append(rows, ob[0].ID)
	}
	return rows
}

func outboxRow(t *testing.T, db *store.DB, id int64) store.OutboxRow {
	t.Helper()
	o, err := db.OutboxByID(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// dbNow is the database's clock, which the outbox's times follow.
func dbNow(t *testing.T, db *store.DB) time.Time {
	t.Helper()
	var now time.Time
	if err := db.Pool().QueryRow(t.Context(), "SELECT clock_timestamp()").Scan(&now); err != nil {
		t.Fatal(err)
	}
	return now
}

// makeDue makes row id's next attempt due now, as if its backoff had
// passed.
func makeDue(t *testing.T, db *store.DB, id int64) {
	t.Helper()
	if _, err := db.Pool().Exec(t.Context(), "UPDATE outbox SET next_attempt_at = now() WHERE id = $1", id); err != nil {
		t.Fatal(err)
	}
}

func TestOutboxClaimLeasesDueRowsOnce(t *testing.T) {
	db := storetest.DB(t)
	rows := queueReplies(t, db, 3)
	items, err := db.ClaimOutbox(t.Context(), 2, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	want := []router.OutboxItem{
		{ID: rows[0], Operator: "telkomsel", To: "6281234567890", From: "1708", Text: "Ketik LAPOR <isi laporan>", Attempts: 1},
		{ID: rows[1], Operator: "telkomsel", To: "6281234567890", From: "1708", Text: "Ketik LAPOR <isi laporan>", Attempts: 1},
	}
	if diff := cmp.Diff(want, items); diff != "" {
		t.Errorf("first claim (-want +got):\n%s", diff)
	}
	o := outboxRow(t, db, rows[0])
	if o.State != "sending" || o.LeaseUntil.Sub(dbNow(t, db)) < 50*time.Second {
		t.Errorf("claimed row: state %s lease until %v; want sending, about a minute from now", o.State, o.LeaseUntil)
	}
	// Leased rows are not claimed again; the third is.
	items, err = db.ClaimOutbox(t.Context(), 10, time.Minute)
	if err != nil || len(items) != 1 || items[0].ID != rows[2] {
		t.Fatalf("second claim = %+v, %v; want only row %d", items, err, rows[2])
	}
	if n, err := db.PendingOutbox(t.Context()); err != nil || n != 3 {
		t.Errorf("PendingOutbox = %d, %v; want 3 (pending or sending)", n, err)
	}
}

func TestOutboxCompleteRecordsEachOutcome(t *testing.T) {
	db := storetest.DB(t)
	db.SetOutboxPolicy(store.OutboxPolicy{MaxAttempts: 3, Backoff: 10 * time.Second, MaxBackoff: 15 * time.Second})
	rows := queueReplies(t, db, 3)
	if _, err := db.ClaimOutbox(t.Context(), 10, time.Minute); err != nil {
		t.Fatal(err)
	}
	sent, temp, perm := rows[0], rows[1], rows[2]
	err := db.CompleteOutbox(t.Context(), []router.SendResult{
		{ID: sent, MessageIDs: []string{"a1", "a2"}},
		{ID: temp, Err: errors.New("smpp: submit_sm: ESME_RTHROTTLED")},
		{ID: perm, Err: errors.New("smpp: submit_sm: ESME_RINVDSTADR"), Permanent: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	now := dbNow(t, db)

	o := outboxRow(t, db, sent)
	if o.State != "sent" || !slices.Equal(o.SMSCIDs, []string{"a1", "a2"}) || o.SentAt.IsZero() || !o.LeaseUntil.IsZero() {
		t.Errorf("sent row = %+v", o)
	}
	o = outboxRow(t, db, perm)
	if o.State != "failed" || o.LastError != "smpp: submit_sm: ESME_RINVDSTADR" || !o.SentAt.IsZero() {
		t.Errorf("permanently failed row = %+v", o)
	}

	// A temporary failure backs off 10s ±25%, then 20s capped at 15s, and
	// the third failure is the last attempt.
	tests := []struct {
		name     string
		state    string
		min, max time.Duration
	}{
		{"first failure", "pending", 7 * time.Second, 13 * time.Second},
		{"second failure", "pending", 14 * time.Second, 15*time.Second + time.Second},
		{"third failure", "failed", 0, 0},
	}
	for i, tt := range tests {
		if i > 0 {
			makeDue(t, db, temp)
			items, err := db.ClaimOutbox(t.Context(), 10, time.Minute)
			if err != nil || len(items) != 1 || items[0].ID != temp || items[0].Attempts != i+1 {
				t.Fatalf("%s: claim = %+v, %v; want row %d attempt %d", tt.name, items, err, temp, i+1)
			}
			if err := db.CompleteOutbox(t.Context(), []router.SendResult{{ID: temp, Err: errors.New("timeout")}}); err != nil {
				t.Fatal(err)
			}
			now = dbNow(t, db)
		}
		o := outboxRow(t, db, temp)
		if o.State != tt.state || o.LastError == "" || !o.LeaseUntil.IsZero() {
			t.Errorf("%s: row = %+v; want state %s with last_error", tt.name, o, tt.state)
		}
		if tt.state == "pending" {
			if wait := o.NextAttemptAt.Sub(now); wait < tt.min || wait > tt.max {
				t.Errorf("%s: next attempt in %v, want %v to %v", tt.name, wait, tt.min, tt.max)
			}
		}
	}
	if n, err := db.PendingOutbox(t.Context()); err != nil || n != 0 {
		t.Errorf("PendingOutbox = %d, %v; want 0", n, err)
	}
}

// A sender that dies leaves its rows leased; once the lease runs out they
// are claimed again, and the dead sender's late result is ignored.
func TestOutboxReclaimsRowsWhoseLeaseRanOut(t *testing.T) {
	db := storetest.DB(t)
	rows := queueReplies(t, db, 1)
	if items, err := db.ClaimOutbox(t.Context(), 10, time.Millisecond); err != nil || len(items) != 1 {
		t.Fatalf("claim = %+v, %v", items, err)
	}
	var items []router.OutboxItem
	for deadline := time.Now().Add(5 * time.Second); len(items) == 0; {
		if time.Now().After(deadline) {
			t.Fatal("row not claimable after its lease ran out")
		}
		var err error
		if items, err = db.ClaimOutbox(t.Context(), 10, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if items[0].ID != rows[0] || items[0].Attempts != 2 {
		t.Fatalf("reclaimed %+v; want row %d attempt 2", items, rows[0])
	}
	if err := db.CompleteOutbox(t.Context(), []router.SendResult{{ID: rows[0], MessageIDs: []string{"x"}}}); err != nil {
		t.Fatal(err)
	}
	// The first sender wakes up and reports a failure: too late.
	if err := db.CompleteOutbox(t.Context(), []router.SendResult{{ID: rows[0], Err: errors.New("late")}}); err != nil {
		t.Fatal(err)
	}
	if o := outboxRow(t, db, rows[0]); o.State != "sent" || o.LastError != "" {
		t.Errorf("row = %+v; want sent, untouched by the late result", o)
	}
}

func TestOutboxExpiresRepliesPastTheirTime(t *testing.T) {
	db := storetest.DB(t)
	rows := queueReplies(t, db, 2)
	if _, err := db.ClaimOutbox(t.Context(), 1, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool().Exec(t.Context(), "UPDATE outbox SET expires_at = now() - interval '1 second'"); err != nil {
		t.Fatal(err)
	}
	// The leased row fails temporarily after its expiry: expired, not retried.
	if err := db.CompleteOutbox(t.Context(), []router.SendResult{{ID: rows[0], Err: errors.New("timeout")}}); err != nil {
		t.Fatal(err)
	}
	// The pending row is never leased.
	if items, err := db.ClaimOutbox(t.Context(), 10, time.Minute); err != nil || len(items) != 0 {
		t.Errorf("claim = %+v, %v; want nothing", items, err)
	}
	for _, id := range rows {
		if o := outboxRow(t, db, id); o.State != "expired" || o.LastError == "" {
			t.Errorf("row %d = %s (%q); want expired with a reason", id, o.State, o.LastError)
		}
	}
}

// The outbox gauges count the replies not yet done, by state, and the age
// of the oldest; sent rows leave them.
func TestOutboxStatsCountWhatIsWaiting(t *testing.T) {
	db := storetest.DB(t)
	reg := prometheus.NewRegistry()
	m := store.NewMetrics(reg)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	if p, s, oldest, err := db.OutboxStats(ctx); err != nil || p != 0 || s != 0 || oldest != 0 {
		t.Fatalf("empty outbox: %d pending, %d sending, oldest %v, %v", p, s, oldest, err)
	}
	ids := queueReplies(t, db, 3)
	if _, err := db.Pool().Exec(ctx, "UPDATE outbox SET created_at = now() - interval '20 minutes' WHERE id = $1", ids[0]); err != nil {
		t.Fatal(err)
	}
	claimed, err := db.ClaimOutbox(ctx, 1, time.Minute) // the oldest, ids[0]
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim = %v, %v", claimed, err)
	}
	p, s, oldest, err := db.OutboxStats(ctx)
	if err != nil || p != 2 || s != 1 || oldest < 20*time.Minute || oldest > 21*time.Minute {
		t.Fatalf("stats = %d pending, %d sending, oldest %v, %v; want 2, 1, about 20m", p, s, oldest, err)
	}
	go db.WatchOutbox(ctx, m, time.Hour)
	waitFor(t, func() bool { return testutil.ToFloat64(m.OutboxRows("sending")) == 1 })
	if got := testutil.ToFloat64(m.OutboxRows("pending")); got != 2 {
		t.Errorf("sms1708_outbox_rows{state=pending} = %v, want 2", got)
	}
	if err := db.CompleteOutbox(ctx, []router.SendResult{{ID: claimed[0].ID, MessageIDs: []string{"x1"}}}); err != nil {
		t.Fatal(err)
	}
	if p, s, oldest, err := db.OutboxStats(ctx); err != nil || p != 2 || s != 0 || oldest > time.Minute {
		t.Errorf("after the oldest was sent: %d pending, %d sending, oldest %v, %v; want 2, 0, under a minute", p, s, oldest, err)
	}
}

// A restarted instance gives back at once the replies it had leased —
// claimed or handed over — and only its own.
func TestOutboxReleaseLeasesGivesBackOnlyThisInstances(t *testing.T) {
	db := storetest.DB(t)
	ctx := t.Context()
	queueReplies(t, db, 3)
	db.SetInstance("host-b/127.0.0.1:8708")
	other, err := db.ClaimOutbox(ctx, 1, time.Minute)
	if err != nil || len(other) != 1 {
		t.Fatalf("claim by b = %v, %v", other, err)
	}
	db.SetInstance("host-a/127.0.0.1:8708")
	mine, err := db.ClaimOutbox(ctx, 2, time.Minute)
	if err != nil || len(mine) != 2 {
		t.Fatalf("claim by a = %v, %v", mine, err)
	}
	// A reply handed over by processing is leased by a too.
	msg := ingestMessages(t, db, 1)
	got, err := db.Process(ctx, msg, 1, false, plain(func(msgs []router.Message) []router.Decision {
		d := ticketDecision(msgs[0], router.NewTicketNumber())
		d.Replies[0].Lease = time.Minute
		return []router.Decision{d}
	}))
	if err != nil || len(got) != 1 || got[0].Replies[0].OutboxID == 0 {
		t.Fatalf("Process = %+v, %v", got, err)
	}
	handed := got[0].Replies[0].OutboxID

	n, err := db.ReleaseLeases(ctx)
	if err != nil || n != 3 {
		t.Fatalf("ReleaseLeases = %d, %v; want a's 3 rows", n, err)
	}
	now := dbNow(t, db)
	var due []time.Time
	for _, id := range []int64{mine[0].ID, mine[1].ID, handed} {
		o := outboxRow(t, db, id)
		if o.State != "pending" || !o.LeaseUntil.IsZero() || o.NextAttemptAt.After(now.Add(time.Second)) || o.Attempts != 1 {
			t.Errorf("row %d given back = %s, lease %v, next %v, %d attempts; want pending, due within a second, its attempt kept", id, o.State, o.LeaseUntil, o.NextAttemptAt, o.Attempts)
		}
		due = append(due, o.NextAttemptAt)
	}
	// Paced, oldest first: not a burst.
	if !due[0].Before(due[1]) || !due[1].Before(due[2]) {
		t.Errorf("given-back rows due at %v; want them spaced, in id order", due)
	}
	time.Sleep(100 * time.Millisecond)
	if o := outboxRow(t, db, other[0].ID); o.State != "sending" {
		t.Errorf("b's row = %s, want still sending", o.State)
	}
	again, err := db.ClaimOutbox(ctx, 10, time.Minute)
	if err != nil || len(again) != 3 {
		t.Errorf("claim after the release = %d rows, %v; want a's 3 back", len(again), err)
	}
	db.SetInstance("")
	if n, err := db.ReleaseLeases(ctx); err != nil || n != 0 {
		t.Errorf("ReleaseLeases without a name = %d, %v; want 0", n, err)
	}
}
