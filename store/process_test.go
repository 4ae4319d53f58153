package store_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/sp4n-lapor/sms1708/router"
	"github.com/sp4n-lapor/sms1708/store"
	"github.com/sp4n-lapor/sms1708/store/storetest"
)

// ingestMessages stores n citizens' texts through the ingest and returns
// their message ids.
func ingestMessages(t testing.TB, db *store.DB, n int) []int64 {
	t.Helper()
	var mu sync.Mutex
	var ids []int64
	in := store.NewIngest(db, store.IngestConfig{Queue: n + 1}, nil, testLogger(t), func(got []int64) {
		mu.Lock()
		ids = append(ids, got...)
		mu.Unlock()
	})
	c := newCollector(n)
	for i := range n {
		in.Submit(c.with(t, mo(uint32(i+1), "jalan rusak di desa sukamaju")))
	}
	stop := runIngest(t, in)
	for seq, err := range c.wait(t, n, 30*time.Second) {
		if err != nil {
			t.Fatalf("ingest seq %d: %v", seq, err)
		}
	}
	stop()
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(ids)
	if len(ids) != n {
		t.Fatalf("ingest made %d messages, want %d", len(ids), n)
	}
	return ids
}

// ticketDecision opens a ticket for m and asks for an acknowledgement.
func ticketDecision(m router.Message, number router.TicketNumber) router.Decision {
	return router.Decision{
		MessageID: m.ID,
		Ticket: &router.Ticket{
			Number: number, MSISDN: m.Source, Operator: m.Operator,
			AgencyID: "kab-bandung", Category: "infrastruktur", Region: "32.04",
			State: router.StateDiterima, Text: m.Text,
		},
		Event:   "diterima via SMS",
		Replies: []router.Reply{{Kind: "ack", Operator: m.Operator, To: m.Source, From: m.Dest, Text: "Laporan diterima: " + string(number)}},
		Outcome: "ticket",
	}
}

func TestProcessStoresEveryDecisionInOneGo(t *testing.T) {
	db := storetest.DB(t)
	ids := ingestMessages(t, db, 3)
	number := router.NewTicketNumber()
	var seen []router.Message
	got, err := db.Process(t.Context(), ids, 10, false, plain(func(msgs []router.Message) []router.Decision {
		seen = msgs
		return []router.Decision{
			ticketDecision(msgs[0], number),
			{MessageID: msgs[1].ID, Outcome: "help",
				Replies: []router.Reply{{Kind: "help", Operator: "telkomsel", To: msgs[1].Source, From: "1708", Text: "Ketik LAPOR <isi>"}}},
			// msgs[2]: no decision, stays pending.
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 3 || seen[0].Source != "6281234567890" || seen[0].Dest != "1708" ||
		seen[0].Text != "jalan rusak di desa sukamaju" || seen[0].SourceTON != 1 || seen[0].Operator != "telkomsel" {
		t.Fatalf("decide saw %+v", seen)
	}
	if len(got) != 2 || got[0].Ticket.Number != number {
		t.Fatalf("Process returned %+v", got)
	}

	tk, err := db.TicketByMessage(t.Context(), ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(*got[0].Ticket, tk.Ticket); diff != "" {
		t.Errorf("stored ticket (-decided +stored):\n%s", diff)
	}
	byNumber, err := db.TicketByNumber(t.Context(), number)
	if err != nil || byNumber.ID != tk.ID || byNumber.MessageID != ids[0] {
		t.Errorf("TicketByNumber = %+v, %v", byNumber, err)
	}
	evs, err := db.TicketEvents(t.Context(), tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantEvs := []store.TicketEvent{{TicketID: tk.ID, State: router.StateDiterima, Actor: store.EventActor, Note: "diterima via SMS"}}
	if diff := cmp.Diff(wantEvs, evs, cmpopts.IgnoreFields(store.TicketEvent{}, "ID", "At")); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}

	ob, err := db.OutboxByMessage(t.Context(), ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(ob) != 1 || ob[0].Kind != "ack" || ob[0].State != "pending" || ob[0].TicketID != tk.ID ||
		ob[0].DestAddr != "6281234567890" || ob[0].SourceAddr != "1708" || ob[0].Operator != "telkomsel" ||
		ob[0].Text != "Laporan diterima: "+string(number) {
		t.Errorf("outbox of the ticket's message = %+v", ob)
	}
	if ttl := ob[0].ExpiresAt.Sub(ob[0].CreatedAt); ttl != store.DefaultOutboxPolicy().TTL {
		t.Errorf("outbox row expires %v after creation, want %v", ttl, store.DefaultOutboxPolicy().TTL)
	}
	ob, err = db.OutboxByMessage(t.Context(), ids[1])
	if err != nil || len(ob) != 1 || ob[0].TicketID != 0 || ob[0].Kind != "help" {
		t.Errorf("outbox of the help message = %+v, %v", ob, err)
	}

	for _, tt := range []struct {
		id             int64
		state, outcome string
		ticket         int64
	}{
		{ids[0], "processed", "ticket", tk.ID},
		{ids[1], "processed", "help", 0},
		{ids[2], "pending", "", 0},
	} {
		m, err := db.MessageByID(t.Context(), tt.id)
		if err != nil {
			t.Fatal(err)
		}
		if m.State != tt.state || m.Outcome != tt.outcome || m.TicketID != tt.ticket || (tt.state == "processed") == m.ProcessedAt.IsZero() {
			t.Errorf("message %d = %s/%s ticket %d processed %v; want %s/%s ticket %d",
				tt.id, m.State, m.Outcome, m.TicketID, m.ProcessedAt, tt.state, tt.outcome, tt.ticket)
		}
	}
	if n, err := db.PendingMessages(t.Context()); err != nil || n != 1 {
		t.Errorf("PendingMessages = %d, %v; want 1", n, err)
	}
	if n, err := db.PendingOutbox(t.Context()); err != nil || n != 2 {
		t.Errorf("PendingOutbox = %d, %v; want 2", n, err)
	}
	if _, err := db.TicketByNumber(t.Context(), router.NewTicketNumber()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TicketByNumber(unknown) = %v, want ErrNotFound", err)
	}
	if _, err := db.TicketByMessage(t.Context(), ids[1]); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TicketByMessage(no ticket) = %v, want ErrNotFound", err)
	}
}

// Promise 2: a message processed twice makes one ticket, one event and
// one acknowledgement — whether the second time finds it processed, or
// finds it pending again (set back by hand).
func TestProcessIsIdempotentPerMessage(t *testing.T) {
	db := storetest.DB(t)
	ids := ingestMessages(t, db, 1)
	decide := func(msgs []router.Message) []router.Decision {
		var out []router.Decision
		for _, m := range msgs {
			out = append(out, ticketDecision(m, router.NewTicketNumber()))
		}
		return out
	}
	first, err := db.Process(t.Context(), ids, 10, true, plain(decide))
	if err != nil || len(first) != 1 {
		t.Fatalf("first Process = %+v, %v", first, err)
	}
	again, err := db.Process(t.Context(), ids, 10, true, plain(func(msgs []router.Message) []router.Decision {
		t.Errorf("decide called again with %d messages", len(msgs))
		return decide(msgs)
	}))
	if err != nil || len(again) != 0 {
		t.Fatalf("second Process = %+v, %v; want nothing", again, err)
	}

	if _, err := db.Pool().Exec(t.Context(), "UPDATE messages SET state = 'pending', processed_at = NULL"); err != nil {
		t.Fatal(err)
	}
	third, err := db.Process(t.Context(), ids, 10, false, plain(decide))
	if err != nil || len(third) != 1 {
		t.Fatalf("Process after reset = %+v, %v", third, err)
	}
	if third[0].Ticket.Number != first[0].Ticket.Number {
		t.Errorf("reprocessing returned ticket %s, want the original %s", third[0].Ticket.Number, first[0].Ticket.Number)
	}
	var tickets, events, outbox int
	err = db.Pool().QueryRow(t.Context(), `SELECT (SELECT count(*) FROM tickets), (SELECT count(*) FROM ticket_events),
		(SELECT count(*) FROM outbox)`).Scan(&tickets, &events, &outbox)
	if err != nil {
		t.Fatal(err)
	}
	if tickets != 1 || events != 1 || outbox != 1 {
		t.Errorf("%d tickets, %d events, %d outbox rows; want 1 each", tickets, events, outbox)
	}
}

// Two processors at once never get the same message, and the second does
// not wait for the first: it takes what the first has not locked.
func TestProcessClaimsSkipLockedMessages(t *testing.T) {
	db := storetest.DB(t)
	ids := ingestMessages(t, db, 100)
	claimed := make(chan []int64, 2)
	release := make(chan struct{})
	decideAll := func(msgs []router.Message) []router.Decision {
		var got []int64
		var out []router.Decision
		for _, m := range msgs {
			got = append(got, m.ID)
			out = append(out, router.Decision{MessageID: m.ID, Outcome: "ignored"})
		}
		claimed <- got
		return out
	}
	errc := make(chan error, 1)
	go func() {
		_, err := db.Process(context.Background(), ids[:50], 60, true, plain(func(msgs []router.Message) []router.Decision {
			d := decideAll(msgs)
			<-release
			return d
		}))
		errc <- err
	}()
	first := <-claimed

	// The first holds its 60; the second, given all ids, gets the 40 left.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if _, err := db.Process(ctx, ids, 100, true, plain(decideAll)); err != nil {
		t.Fatalf("second Process: %v", err)
	}
	second := <-claimed
	close(release)
	if err := <-errc; err != nil {
		t.Fatalf("first Process: %v", err)
	}

	if len(first) != 60 || !slices.Equal(first[:50], ids[:50]) {
		t.Errorf("first claimed %v; want the 50 given first, then 10 more", first)
	}
	all := append(slices.Clone(first), second...)
	slices.Sort(all)
	if !slices.Equal(all, ids) {
		t.Errorf("claims overlap or miss: first %v second %v", first, second)
	}
	if n, _ := db.PendingMessages(t.Context()); n != 0 {
		t.Errorf("%d messages still pending", n)
	}
}

func TestProcessRedrawsACollidingTicketNumber(t *testing.T) {
	db := storetest.DB(t)
	ids := ingestMessages(t, db, 3)
	taken := router.NewTicketNumber()
	if _, err := db.Process(t.Context(), ids[:1], 1, false, plain(func(msgs []router.Message) []router.Decision {
		return []router.Decision{ticketDecision(msgs[0], taken)}
	})); err != nil {
		t.Fatal(err)
	}
	// Both new tickets draw the taken number: one collides with the
	// stored ticket, and the two collide with each other.
	got, err := db.Process(t.Context(), ids[1:], 10, false, plain(func(msgs []router.Message) []router.Decision {
		return []router.Decision{ticketDecision(msgs[0], taken), ticketDecision(msgs[1], taken)}
	}))
	if err != nil {
		t.Fatal(err)
	}
	numbers := map[router.TicketNumber]bool{taken: true}
	for _, d := range got {
		n := d.Ticket.Number
		if numbers[n] || !n.Valid() {
			t.Errorf("message %d got ticket %s, taken or invalid", d.MessageID, n)
		}
		numbers[n] = true
		tk, err := db.TicketByNumber(t.Context(), n)
		if err != nil || tk.MessageID != d.MessageID {
			t.Errorf("TicketByNumber(%s) = message %d, %v; want %d", n, tk.MessageID, err, d.MessageID)
		}
		// The acknowledgement must tell the number the ticket got, never
		// the one that belongs to someone else.
		rows, err := db.OutboxByMessage(t.Context(), d.MessageID)
		if err != nil || len(rows) != 1 {
			t.Fatalf("OutboxByMessage(%d) = %d rows, %v", d.MessageID, len(rows), err)
		}
		if want := "Laporan diterima: " + string(n); rows[0].Text != want {
			t.Errorf("ack for message %d = %q, want %q", d.MessageID, rows[0].Text, want)
		}
		if want := "Laporan diterima: " + string(n); d.Replies[0].Text != want {
			t.Errorf("returned reply for message %d = %q, want %q", d.MessageID, d.Replies[0].Text, want)
		}
	}
	if tk, err := db.TicketByNumber(t.Context(), taken); err != nil || tk.MessageID != ids[0] {
		t.Errorf("the taken number now belongs to message %d, %v; want %d", tk.MessageID, err, ids[0])
	}
}

func TestProcessRefusesDecisionsForMessagesItDidNotClaim(t *testing.T) {
	db := storetest.DB(t)
	ids := ingestMessages(t, db, 2)
	tests := []struct {
		name   string
		decide func([]router.Message) []router.Decision
	}{
		{"unclaimed message", func(msgs []router.Message) []router.Decision {
			return []router.Decision{{MessageID: ids[1], Outcome: "ignored"}}
		}},
		{"two decisions for one message", func(msgs []router.Message) []router.Decision {
			return []router.Decision{{MessageID: msgs[0].ID, Outcome: "a"}, {MessageID: msgs[0].ID, Outcome: "b"}}
		}},
		{"invalid ticket number", func(msgs []router.Message) []router.Decision {
			return []router.Decision{ticketDecision(msgs[0], "1234567890")}
		}},
		{"reply to an alphanumeric sender", func(msgs []router.Message) []router.Decision {
			return []router.Decision{{MessageID: msgs[0].ID, Outcome: "x",
				Replies: []router.Reply{{Kind: "ack", To: "PROMO", From: "1708", Text: "x"}}}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := db.Process(t.Context(), ids[:1], 1, false, plain(tt.decide)); err == nil {
				t.Fatal("Process succeeded")
			}
			if n, _ := db.PendingMessages(t.Context()); n != 2 {
				t.Errorf("%d messages pending after the failure, want 2 (rolled back)", n)
			}
		})
	}
}

// BenchmarkProcess measures messages processed per second, 100 to a
// transaction, each opening a ticket with an event and an acknowledgement.
func BenchmarkProcess(b *testing.B) {
	db := storetest.DB(b)
	ids := ingestMessages(b, db, b.N)
	decide := func(msgs []router.Message) []router.Decision {
		out := make([]router.Decision, len(msgs))
		for i, m := range msgs {
			out[i] = ticketDecision(m, router.NewTicketNumber())
		}
		return out
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < len(ids); i += 100 {
		if _, err := db.Process(b.Context(), ids[i:min(i+100, len(ids))], 100, false, plain(decide)); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "messages/s")
}

// A reply asked for with a lease is stored already leased — as a claim
// would have left it — and its row id comes back for the hand-over; a
// second processing of the message queues nothing and hands nothing over.
// Another dispatcher does not claim it while the lease runs.
func TestProcessQueuesLeasedRepliesForTheHandover(t *testing.T) {
	db := storetest.DB(t)
	ids := ingestMessages(t, db, 2)
	const lease = 45 * time.Second
	decide := func(msgs []router.Message) []router.Decision {
		var out []router.Decision
		for i, m := range msgs {
			d := ticketDecision(m, router.NewTicketNumber())
			if i == 0 {
				d.Replies[0].Lease = lease
				d.Replies[0].Text += "\x00" // stored cleaned: the hand-over must send the same
			}
			out = append(out, d)
		}
		return out
	}
	before := time.Now()
	got, err := db.Process(t.Context(), ids, 10, false, plain(decide))
	if err != nil || len(got) != 2 {
		t.Fatalf("Process = %+v, %v", got, err)
	}
	leasedID, pendingID := got[0].Replies[0].OutboxID, got[1].Replies[0].OutboxID
	if leasedID == 0 || pendingID != 0 {
		t.Fatalf("outbox ids returned: leased reply %d, pending reply %d; want an id and 0", leasedID, pendingID)
	}
	row, err := db.OutboxByID(t.Context(), leasedID)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Replies[0].Text != row.Text {
		t.Errorf("handed-over text %q, stored text %q; want the same", got[0].Replies[0].Text, row.Text)
	}
	if row.MessageID != ids[0] || row.State != "sending" || row.Attempts != 1 || row.Kind != "ack" {
		t.Errorf("leased row = %+v; want message %d, sending, 1 attempt", row, ids[0])
	}
	if until := row.LeaseUntil.Sub(before); until < lease-time.Second || until > lease+10*time.Second {
		t.Errorf("lease runs %v past the start of processing, want about %v", until, lease)
	}
	pending, err := db.OutboxByMessage(t.Context(), ids[1])
	if err != nil || len(pending) != 1 || pending[0].State != "pending" || pending[0].Attempts != 0 || !pending[0].LeaseUntil.IsZero() {
		t.Errorf("reply without a lease = %+v, %v; want pending, no attempt, no lease", pending, err)
	}
	claimed, err := db.ClaimOutbox(t.Context(), 10, time.Minute)
	if err != nil || len(claimed) != 1 || claimed[0].ID == leasedID {
		t.Errorf("claim = %+v, %v; want only the pending row, not the leased one", claimed, err)
	}
	if err := db.CompleteOutbox(t.Context(), []router.SendResult{{ID: leasedID, MessageIDs: []string{"abc123"}}}); err != nil {
		t.Fatal(err)
	}
	if row, err := db.OutboxByID(t.Context(), leasedID); err != nil || row.State != "sent" || row.LeaseUntil != (time.Time{}) {
		t.Errorf("handed-over row after its send = %+v, %v; want sent", row, err)
	}

	if _, err := db.Pool().Exec(t.Context(), "UPDATE messages SET state = 'pending', processed_at = NULL"); err != nil {
		t.Fatal(err)
	}
	again, err := db.Process(t.Context(), ids[:1], 10, false, plain(decide))
	if err != nil || len(again) != 1 || again[0].Replies[0].OutboxID != 0 {
		t.Fatalf("reprocessing = %+v, %v; want the decision with no row to hand over", again, err)
	}
	if n, err := db.PendingOutbox(t.Context()); err != nil || n != 1 {
		t.Errorf("PendingOutbox = %d, %v; want 1 (the claimed row)", n, err)
	}
}
