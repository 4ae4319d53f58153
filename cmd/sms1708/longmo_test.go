package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sp4n-lapor/sms1708/smpp"
	"github.com/sp4n-lapor/sms1708/smpp/smsctest"
	"github.com/sp4n-lapor/sms1708/smpp/text"
)

// startDaemonWith is startDaemon with settings of its own: extra YAML at
// the top level of the config, and the operator's number of binds and
// extra operator settings.
func startDaemonWith(t *testing.T, smscCfg smsctest.Config, extra string, binds int, opExtra string) *testDaemon {
	t.Helper()
	return startDaemon(t, daemonOpts{smsc: smscCfg, extra: extra, binds: binds, opExtra: opExtra})
}

// metric returns the value of a sample line of /metrics ("name" or
// `name{label="v"}`), 0 when absent.
func metric(t *testing.T, td *testDaemon, series string) float64 {
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
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindSubmatch(body)
	if m == nil {
		return 0
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// ticketText waits for the ticket of from and returns its text.
func ticketText(t *testing.T, td *testDaemon, ctx context.Context, from string) string {
	t.Helper()
	sub, err := td.smsc.WaitSubmit(ctx, func(s smsctest.Submit) bool { return s.To == from })
	if err != nil {
		t.Fatalf("no reply to %s: %v", from, err)
	}
	num := ticketRE.FindString(sub.Text)
	conn := connect(t, td.dbURL)
	var txt string
	if err := conn.QueryRow(ctx, "SELECT text FROM tickets WHERE number = $1", num).Scan(&txt); err != nil {
		t.Fatalf("ticket %q of reply %q: %v", num, sub.Text, err)
	}
	return txt
}

func allOK(t *testing.T, st []smpp.Status, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range st {
		if s != smpp.StatusOK {
			t.Fatalf("part %d answered %v, want ESME_ROK", i+1, s)
		}
	}
}

// Long MO over the wire: UDH with 8- and 16-bit references and SAR TLVs,
// last part first, parts spread over two binds (the fake SMSC deals them
// round-robin), duplicates — each becomes one ticket with the exact text.
func TestEndToEndLongMO(t *testing.T) {
	td := startDaemonWith(t, smsctest.Config{}, "", 2, "")
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	const golden = "Lapor! Jembatan di desa kami ambruk {sejak} Senin [kemarin] ~ harga ^ material | naik € 20% \\ " +
		"Mohon segera diperbaiki karena anak-anak tidak bisa berangkat sekolah dan warga harus memutar jauh. " +
		"Sudah kami laporkan ke kepala desa dua minggu lalu tetapi belum ada tindakan apa pun dari pemerintah. " +
		"Terima kasih, warga Desa Sukamaju, Kecamatan Cibeunying, Kabupaten Bandung."
	if enc, _ := text.Encode(golden, 0, true); len(enc.Segments) != 3 {
		t.Fatalf("golden text makes %d parts, want 3", len(enc.Segments))
	}
	const emoji = "Jalan banjir lagi 😭😭 sudah tiga hari air tidak surut, mohon dinas PU segera turun tangan ya 🙏 terima kasih banyak"
	for i, c := range []struct {
		name string
		msg  string
		opts smsctest.PartsOpts
	}{
		{"16-bit reference, last part first", golden, smsctest.PartsOpts{Ref: 0xBEEF, Ref16: true, Order: []int{3, 2, 1}}},
		{"8-bit reference, duplicated parts", golden, smsctest.PartsOpts{Ref: 7, Duplicate: []int{1, 3}}},
		{"SAR TLVs, out of order", golden, smsctest.PartsOpts{Ref: 0x0102, SAR: true, Order: []int{2, 3, 1}}},
		{"UCS2 with emoji", emoji, smsctest.PartsOpts{Ref: 9, Order: []int{2, 1}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			from := fmt.Sprintf("628123450%04d", i)
			st, err := td.smsc.SendParts(ctx, from, "1708", c.msg, c.opts)
			allOK(t, st, err)
			if got := ticketText(t, td, ctx, from); got != c.msg {
				t.Errorf("ticket text:\n got %q\nwant %q", got, c.msg)
			}
		})
	}
	conn := connect(t, td.dbURL)
	if n := count(t, conn, "SELECT count(DISTINCT i.bind) FROM parts p JOIN inbound i ON i.id = p.inbound_id"); n != 2 {
		t.Errorf("parts arrived on %d binds, want 2", n)
	}
	if n := count(t, conn, "SELECT count(*) FROM tickets"); n != 4 {
		t.Errorf("%d tickets, want 4", n)
	}
	if v := metric(t, td, "sms1708_assembly_duplicate_parts_total"); v != 2 {
		t.Errorf("duplicate_parts_total = %v, want 2", v)
	}
	if v := metric(t, td, "sms1708_assembly_completed_total"); v != 4 {
		t.Errorf("completed_total = %v, want 4", v)
	}
}

// An incomplete long MO is processed with a gap marker after the
// configured timeout, and the missing part, when it comes, joins the
// ticket.
func TestEndToEndLongMOTimeoutAndLatePart(t *testing.T) {
	td := startDaemonWith(t, smsctest.Config{}, "assembly: {timeout: 300ms}", 1, "")
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	const from = "6281299990001"
	msg := strings.Repeat("Pungutan liar di kantor kelurahan untuk surat pindah. ", 6)
	st, err := td.smsc.SendParts(ctx, from, "1708", msg, smsctest.PartsOpts{Ref: 44, Order: []int{1, 3}})
	allOK(t, st, err)
	got := ticketText(t, td, ctx, from)
	if !strings.Contains(got, "[…bagian 2 dari 3 tidak diterima…]") {
		t.Fatalf("ticket text %q has no gap marker", got)
	}
	if v := metric(t, td, "sms1708_assembly_timeouts_total"); v != 1 {
		t.Errorf("timeouts_total = %v, want 1", v)
	}
	st, err = td.smsc.SendParts(ctx, from, "1708", msg, smsctest.PartsOpts{Ref: 44, Order: []int{2}})
	allOK(t, st, err)
	conn := connect(t, td.dbURL)
	enc, err := text.Encode(msg, 44, false)
	if err != nil {
		t.Fatal(err)
	}
	wantNote := "bagian susulan: " + text.Decode(enc.Segments[1].Data, text.GSM7).Text
	deadline := time.Now().Add(10 * time.Second)
	for count(t, conn, "SELECT count(*) FROM ticket_events WHERE note = $1 AND actor = 'sms1708'", wantNote) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("no ticket event %q", wantNote)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := count(t, conn, "SELECT count(*) FROM tickets"); n != 1 {
		t.Errorf("%d tickets, want 1", n)
	}
}

// A part whose UDH is malformed is kept as a dead letter and answered
// ESME_RX_P_APPN, so that the SMSC does not redeliver it forever.
func TestEndToEndMalformedPartIsADeadLetter(t *testing.T) {
	td := startDaemonWith(t, smsctest.Config{}, "", 1, "")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for _, c := range []struct {
		name string
		mo   smsctest.MO
	}{
		{"seq above total", smsctest.MO{ESMClass: 0x40, ShortMessage: []byte{5, 0x00, 3, 1, 2, 3, 'a'}}},
		{"UDH longer than the message", smsctest.MO{ESMClass: 0x40, ShortMessage: []byte{9, 0x00, 3, 1}}},
		{"SAR total 0", smsctest.MO{ShortMessage: []byte("abc"), TLVs: []smpp.TLV{
			{Tag: smpp.TagSarMsgRefNum, Value: []byte{0, 1}}, {Tag: smpp.TagSarTotalSegments, Value: []byte{0}},
			{Tag: smpp.TagSarSegmentSeqnum, Value: []byte{1}}}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.mo.From, c.mo.To = "6281299990002", "1708"
			st, err := td.smsc.SendMO(ctx, c.mo)
			if err != nil || st != smpp.StatusXPAppn {
				t.Errorf("deliver_sm answered %v, %v; want ESME_RX_P_APPN", st, err)
			}
		})
	}
	conn := connect(t, td.dbURL)
	if n := count(t, conn, "SELECT count(*) FROM inbound WHERE kind = 'dead'"); n != 3 {
		t.Errorf("%d dead letters, want 3", n)
	}
}
