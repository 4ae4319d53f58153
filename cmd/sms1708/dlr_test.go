package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sp4n-lapor/sms1708/smpp"
	"github.com/sp4n-lapor/sms1708/smpp/smsctest"
)

// waitOutboxState waits until the outbox row of the reply to `to` is in
// state want, and returns its last_error.
func waitOutboxState(t *testing.T, ctx context.Context, conn *pgx.Conn, to, want string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var state, lastErr string
		err := conn.QueryRow(ctx, `SELECT state, coalesce(last_error, '') FROM outbox WHERE dest_addr = $1`, to).Scan(&state, &lastErr)
		if err == nil && state == want {
			return lastErr
		}
		if time.Now().After(deadline) {
			t.Fatalf("outbox row to %s: state %q (%v), want %q", to, state, err, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// An SMSC that answers submit_sm in hex and writes receipts in decimal:
// with the operator's id bases configured, the automatic receipt of the
// acknowledgement marks its outbox row delivered.
func TestEndToEndReceiptHexResponseDecimalReceipt(t *testing.T) {
	dec := smsctest.IDDecimal
	td := startDaemonWith(t, smsctest.Config{MessageIDs: smsctest.IDHex, ReceiptIDs: &dec, AutoReceipt: true},
		"", 1, "    submit_id_base: hex\n    receipt_id_base: decimal\n    timezone: Asia/Makassar\n")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	const from = "6281277770001"
	if st, err := td.smsc.SendMO(ctx, smsctest.MO{From: from, To: "1708", Text: "jalan rusak di depan pasar"}); err != nil || st != smpp.StatusOK {
		t.Fatalf("deliver_sm answered %v, %v", st, err)
	}
	conn := connect(t, td.dbURL)
	waitOutboxState(t, ctx, conn, from, "delivered")
	var raw []string
	var norm string
	if err := conn.QueryRow(ctx, `SELECT o.smsc_ids, s.smsc_id FROM outbox o JOIN outbox_segments s ON s.outbox_id = o.id
		WHERE o.dest_addr = $1`, from).Scan(&raw, &norm); err != nil {
		t.Fatal(err)
	}
	if len(raw) != 1 || smpp.NormalizeMessageID(raw[0], smpp.IDHex) != norm {
		t.Errorf("smsc_ids %v, normalised %q", raw, norm)
	}
	if v := metric(t, td, `sms1708_dlr_total{operator="telkomsel",state="delivered"}`); v != 1 {
		t.Errorf(`sms1708_dlr_total{state="delivered"} = %v, want 1`, v)
	}
}

// Without the bases, the same SMSC's receipts match nothing: they are kept
// and acked, and the row stays sent.
func TestEndToEndReceiptWithoutIDBasesStaysUnmatched(t *testing.T) {
	dec := smsctest.IDDecimal
	td := startDaemonWith(t, smsctest.Config{MessageIDs: smsctest.IDHex, ReceiptIDs: &dec, FirstMessageID: 0xABCDEF},
		"", 1, "")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	const from = "6281277770002"
	if st, err := td.smsc.SendMO(ctx, smsctest.MO{From: from, To: "1708", Text: "lampu jalan mati"}); err != nil || st != smpp.StatusOK {
		t.Fatalf("deliver_sm answered %v, %v", st, err)
	}
	sub, err := td.smsc.WaitSubmit(ctx, func(s smsctest.Submit) bool { return s.To == from })
	if err != nil {
		t.Fatal(err)
	}
	conn := connect(t, td.dbURL)
	waitOutboxState(t, ctx, conn, from, "sent")
	st, err := td.smsc.SendReceiptFormat(ctx, smsctest.ReceiptOpts{From: from, To: "1708", MessageID: sub.MessageID,
		Format: smsctest.ReceiptTextOnly, TextIDDecimal: true})
	if err != nil || st != smpp.StatusOK {
		t.Fatalf("receipt answered %v, %v; want ESME_ROK", st, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for count(t, conn, `SELECT count(*) FROM receipts WHERE outbox_id IS NULL`) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("receipt not stored")
		}
		time.Sleep(20 * time.Millisecond)
	}
	waitOutboxState(t, ctx, conn, from, "sent")
}

// A receipt that arrives before the submit_sm_resp it is about — and one
// for a message we never sent — are answered ESME_ROK and kept; the first
// is matched once the response is recorded.
func TestEndToEndReceiptBeforeResponse(t *testing.T) {
	td := startDaemonWith(t, smsctest.Config{Faults: smsctest.Faults{SubmitReply: smsctest.ReplyHold}}, "", 1, "")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	const from = "6281277770003"
	if st, err := td.smsc.SendMO(ctx, smsctest.MO{From: from, To: "1708", Text: "sampah menumpuk di pasar"}); err != nil || st != smpp.StatusOK {
		t.Fatalf("deliver_sm answered %v, %v", st, err)
	}
	if err := td.smsc.WaitHeld(ctx, 1); err != nil {
		t.Fatal(err)
	}
	held := td.smsc.HeldSubmits()[0]
	for _, id := range []string{held.MessageID, "DEADBEEF"} {
		st, err := td.smsc.SendReceiptFormat(ctx, smsctest.ReceiptOpts{From: from, To: "1708", MessageID: id, Stat: "UNDELIV", Err: "001"})
		if err != nil || st != smpp.StatusOK {
			t.Fatalf("receipt for %s answered %v, %v; want ESME_ROK", id, st, err)
		}
	}
	conn := connect(t, td.dbURL)
	if n := count(t, conn, `SELECT count(*) FROM receipts WHERE outbox_id IS NULL`); n != 2 {
		t.Fatalf("%d unmatched receipts before the response, want 2", n)
	}
	td.smsc.ReleaseHeld(-1)
	lastErr := waitOutboxState(t, ctx, conn, from, "failed")
	if want := "UNDELIVERABLE"; !strings.Contains(lastErr, want) {
		t.Errorf("last_error %q, want the receipt's state %s", lastErr, want)
	}
	if n := count(t, conn, `SELECT count(*) FROM receipts WHERE outbox_id IS NULL`); n != 1 {
		t.Errorf("%d unmatched receipts, want 1 (the unknown one)", n)
	}
}
