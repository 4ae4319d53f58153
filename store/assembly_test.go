package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sp4n-lapor/sms1708/router"
	"github.com/sp4n-lapor/sms1708/smpp/text"
	"github.com/sp4n-lapor/sms1708/store"
	"github.com/sp4n-lapor/sms1708/store/storetest"
)

// asmHarness is an ingest and an assembler on one database. The ingest
// runs; the assembler is driven by hand (Assemble, Expire), so that a test
// says exactly when parts are looked at.
type asmHarness struct {
	t    *testing.T
	db   *store.DB
	reg  *prometheus.Registry
	in   *store.Ingest
	asm  *store.Assembler
	seq  uint32
	mu   sync.Mutex
	made []int64 // message ids handed on by the assembler
}

func newAsmHarness(t *testing.T, db *store.DB, cfg store.AssemblerConfig) *asmHarness {
	t.Helper()
	h := &asmHarness{t: t, db: db, reg: prometheus.NewRegistry()}
	m := store.NewMetrics(h.reg)
	h.in = store.NewIngest(db, store.IngestConfig{}, m, testLogger(t), nil)
	h.asm = store.NewAssembler(db, cfg, m, testLogger(t), func(ids []int64) {
		h.mu.Lock()
		h.made = append(h.made, ids...)
		h.mu.Unlock()
	})
	runIngest(t, h.in)
	return h
}

// submit stores recs through the ingest and waits for every ack.
func (h *asmHarness) submit(recs ...store.Inbound) {
	h.t.Helper()
	submitAll(h.t, h.in, &h.seq, recs...)
}

func submitAll(t *testing.T, in *store.Ingest, seq *uint32, recs ...store.Inbound) {
	t.Helper()
	c := newCollector(len(recs))
	for _, r := range recs {
		*seq++
		r.Seq = *seq
		in.Submit(c.with(t, r))
	}
	for s, err := range c.wait(t, len(recs), 10*time.Second) {
		if err != nil {
			t.Fatalf("ingest seq %d: %v", s, err)
		}
	}
}

// assemble runs the assembler's sweep until no new part is left.
func (h *asmHarness) assemble() {
	h.t.Helper()
	for {
		n, err := h.asm.Assemble(h.t.Context(), nil, true)
		if err != nil {
			h.t.Fatalf("Assemble: %v", err)
		}
		if n == 0 {
			return
		}
	}
}

func (h *asmHarness) handedOn() []int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.made)
}

// storedMessage is a messages row, as the tests compare it.
type storedMessage struct {
	Source, Text, State string
}

func messages(t *testing.T, db *store.DB) []storedMessage {
	t.Helper()
	rows, err := db.Pool().Query(t.Context(), "SELECT source, text, state FROM messages ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []storedMessage
	for rows.Next() {
		var m storedMessage
		if err := rows.Scan(&m.Source, &m.Text, &m.State); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// sortedMessages is messages in text order, for messages made in one
// transaction, whose order is not the test's to choose.
func sortedMessages(t *testing.T, db *store.DB) []storedMessage {
	t.Helper()
	ms := messages(t, db)
	slices.SortFunc(ms, func(a, b storedMessage) int { return strings.Compare(a.Source+a.Text, b.Source+b.Text) })
	return ms
}

// column returns the text column of every row a query returns.
func column(t *testing.T, db *store.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.Pool().Query(t.Context(), q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// part is one part of a long MO as the SMPP side hands it to the ingest.
func part(from string, ref uint16, refBits, total, seq uint8, a text.Alphabet, ud []byte) store.Inbound {
	dc := uint8(0)
	if a == text.UCS2 {
		dc = 8
	}
	return store.Inbound{
		Operator: "telkomsel", Bind: "telkomsel/0",
		Command:    0x00000005,
		SourceAddr: from, SourceTON: 1, SourceNPI: 1,
		DestAddr: "1708", ESMClass: 0x40, DataCoding: dc,
		Text: text.Decode(ud, a).Text, Alphabet: a.String(),
		Raw:    append([]byte{0, 0, 0, 16, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0}, ud...),
		MSISDN: from,
		Part:   &store.Part{Ref: ref, RefBits: refBits, Total: total, Seq: seq, UserData: ud},
	}
}

// partsOf splits s the way a phone does (text.Encode) into parts.
func partsOf(t *testing.T, from, s string, ref uint16, ref16 bool) []store.Inbound {
	t.Helper()
	enc, err := text.Encode(s, ref, ref16)
	if err != nil {
		t.Fatal(err)
	}
	if len(enc.Segments) < 2 {
		t.Fatalf("%q fits one segment; a test of parts needs more", s)
	}
	bits := uint8(8)
	if ref16 {
		bits = 16
	} else {
		ref &= 0xFF
	}
	var out []store.Inbound
	for i, seg := range enc.Segments {
		out = append(out, part(from, ref, bits, uint8(len(enc.Segments)), uint8(i+1), enc.Alphabet, seg.Data))
	}
	return out
}

const citizen = "6281234567890"

// longText is a complaint of three GSM-7 parts.
var longText = strings.Repeat("Jalan di depan SDN 3 Sukamaju rusak parah dan berlubang. ", 7)

func TestAssembleInOrder(t *testing.T) {
	db := storetest.DB(t)
	h := newAsmHarness(t, db, store.AssemblerConfig{})
	parts := partsOf(t, citizen, longText, 0x42, false)
	if len(parts) != 3 {
		t.Fatalf("%d parts, want 3", len(parts))
	}
	h.submit(parts...)
	if got := messages(t, db); len(got) != 0 {
		t.Fatalf("the ingest made messages of parts: %+v", got)
	}
	h.assemble()
	want := []storedMessage{{citizen, longText, "pending"}}
	if diff := cmp.Diff(want, messages(t, db)); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
	if got := h.handedOn(); len(got) != 1 {
		t.Errorf("handed on %v, want one message id", got)
	}
	if diff := cmp.Diff([]string{"complete"}, column(t, db, "SELECT state FROM assemblies")); diff != "" {
		t.Errorf("assemblies (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"joined", "joined", "joined"}, column(t, db, "SELECT state FROM parts ORDER BY id")); diff != "" {
		t.Errorf("parts (-want +got):\n%s", diff)
	}
	if n := gauge(t, h.reg, "sms1708_assembly_completed_total"); n != 1 {
		t.Errorf("completed_total = %v, want 1", n)
	}
	// The message's PDU is the part that completed it, and every part
	// keeps its own inbound row.
	if n := count(t, db, "SELECT count(*) FROM inbound WHERE kind = 'mo'"); n != 3 {
		t.Errorf("inbound rows = %d, want 3", n)
	}
}

// Must show 3 (golden): a 16-bit-reference message arriving last part
// first decodes to the exact text. Each part is looked at on its own, as
// it arrives.
func TestAssembleLastPartFirst16BitReference(t *testing.T) {
	db := storetest.DB(t)
	h := newAsmHarness(t, db, store.AssemblerConfig{})
	const golden = "Lapor! Harga {beras} naik 20% [di pasar] ~ kata warga ^_^ | tanya \\ kenapa? € " +
		"Mohon ditindaklanjuti oleh dinas perdagangan kabupaten, terima kasih banyak atas perhatiannya. " +
		"Warga RT 04 RW 02 Kelurahan Sukamaju, Kecamatan Cibeunying, Kota Bandung."
	parts := partsOf(t, citizen, golden, 0xBEEF, true)
	slices.Reverse(parts)
	for i, p := range parts {
		h.submit(p)
		h.assemble()
		if n := len(messages(t, db)); (i < len(parts)-1 && n != 0) || (i == len(parts)-1 && n != 1) {
			t.Fatalf("after %d of %d parts: %d messages", i+1, len(parts), n)
		}
	}
	got := messages(t, db)[0].Text
	if got != golden {
		t.Errorf("assembled text:\n got %q\nwant %q", got, golden)
	}
	var ref, bits int
	if err := db.Pool().QueryRow(t.Context(), "SELECT ref, ref_bits FROM assemblies").Scan(&ref, &bits); err != nil || ref != 0xBEEF || bits != 16 {
		t.Errorf("assembly ref %#x/%d bits, %v; want 0xbeef/16", ref, bits, err)
	}
}

// Must show 3 (golden): an emoji whose surrogate pair is split between two
// UCS2 parts, and a GSM escape split from its character, decode whole:
// the raw bytes are joined before decoding.
func TestAssembleJoinsBytesBeforeDecoding(t *testing.T) {
	for _, c := range []struct {
		name   string
		golden string
		a      text.Alphabet
		cut    func([]byte) int // where part 1 ends
	}{
		{"emoji split across UCS2 parts", "Banjir lagi 😭 tolong", text.UCS2, func(b []byte) int {
			for i := 0; i+1 < len(b); i += 2 {
				if b[i]&0xFC == 0xD8 {
					return i + 2 // after the high surrogate
				}
			}
			return -1
		}},
		{"GSM escape split from its character", "Harga naik €5 per liter", text.GSM7, func(b []byte) int {
			for i, c := range b {
				if c == 0x1B {
					return i + 1
				}
			}
			return -1
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			db := storetest.DB(t)
			h := newAsmHarness(t, db, store.AssemblerConfig{})
			var ud []byte
			if c.a == text.UCS2 {
				ud = text.EncodeUCS2(c.golden)
			} else {
				var ok bool
				if ud, ok = text.EncodeGSM7(c.golden); !ok {
					t.Fatal("not GSM-7")
				}
			}
			cut := c.cut(ud)
			if cut <= 0 {
				t.Fatal("no place to cut")
			}
			p1 := part(citizen, 7, 8, 2, 1, c.a, ud[:cut])
			p2 := part(citizen, 7, 8, 2, 2, c.a, ud[cut:])
			// Each half alone is broken, which is the point.
			if strings.Contains(c.golden, p1.Text) && strings.Contains(c.golden, p2.Text) && p1.Text+p2.Text == c.golden {
				t.Fatalf("the cut does not split anything: %q + %q", p1.Text, p2.Text)
			}
			h.submit(p2, p1)
			h.assemble()
			got := messages(t, db)
			if len(got) != 1 || got[0].Text != c.golden {
				t.Errorf("messages %+v, want one with %q", got, c.golden)
			}
		})
	}
}

func TestAssembleDuplicatePartsAreKeptAndCounted(t *testing.T) {
	db := storetest.DB(t)
	h := newAsmHarness(t, db, store.AssemblerConfig{})
	parts := partsOf(t, citizen, longText, 9, false)
	// Part 1 twice before the others (a lost deliver_sm_resp), all in one
	// batch; then, after the message was made, part 2 redelivered.
	h.submit(parts[0], parts[0], parts[1], parts[2])
	h.assemble()
	h.submit(parts[1])
	h.assemble()
	want := []storedMessage{{citizen, longText, "pending"}}
	if diff := cmp.Diff(want, messages(t, db)); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"joined", "duplicate", "joined", "duplicate", "joined"},
		column(t, db, "SELECT state FROM parts ORDER BY seq, id")); diff != "" {
		t.Errorf("parts (-want +got):\n%s", diff)
	}
	if n := count(t, db, "SELECT count(*) FROM assemblies"); n != 1 {
		t.Errorf("%d assemblies, want 1", n)
	}
	if n := gauge(t, h.reg, "sms1708_assembly_duplicate_parts_total"); n != 2 {
		t.Errorf("duplicate_parts_total = %v, want 2", n)
	}
}

func TestAssembleKeysByMoreThanTheReference(t *testing.T) {
	const other = "6285712345678"
	textA := strings.Repeat("Sampah menumpuk di TPS pasar baru sejak seminggu. ", 4)
	textB := strings.Repeat("Lampu penerangan jalan di gang mawar padam semua. ", 4)
	textC := strings.Repeat("Saluran air tersumbat, rumah warga kebanjiran lagi. ", 4)

	t.Run("two senders sharing a reference", func(t *testing.T) {
		db := storetest.DB(t)
		h := newAsmHarness(t, db, store.AssemblerConfig{})
		a := partsOf(t, citizen, textA, 5, false)
		b := partsOf(t, other, textB, 5, false)
		// Interleaved, last parts first.
		h.submit(a[1], b[1], b[0], a[0])
		h.assemble()
		want := []storedMessage{{citizen, textA, "pending"}, {other, textB, "pending"}}
		if diff := cmp.Diff(want, sortedMessages(t, db)); diff != "" {
			t.Errorf("messages (-want +got):\n%s", diff)
		}
	})
	t.Run("one sender reusing a reference after the first message completed", func(t *testing.T) {
		db := storetest.DB(t)
		h := newAsmHarness(t, db, store.AssemblerConfig{})
		h.submit(partsOf(t, citizen, textA, 5, false)...)
		h.assemble()
		h.submit(partsOf(t, citizen, textC, 5, false)...)
		h.assemble()
		want := []storedMessage{{citizen, textA, "pending"}, {citizen, textC, "pending"}}
		if diff := cmp.Diff(want, messages(t, db)); diff != "" {
			t.Errorf("messages (-want +got):\n%s", diff)
		}
	})
	t.Run("one sender reusing a reference while the first message is still open", func(t *testing.T) {
		db := storetest.DB(t)
		h := newAsmHarness(t, db, store.AssemblerConfig{})
		a := partsOf(t, citizen, textA, 5, false)
		c := partsOf(t, citizen, textC, 5, false)
		// Part 2 of the first message is lost; the second message's part 1
		// finds slot 1 filled with other bytes.
		h.submit(a[0])
		h.assemble()
		h.submit(c[0])
		h.submit(c[1])
		h.assemble()
		got := messages(t, db)
		if len(got) != 2 || got[1].Text != textC {
			t.Fatalf("messages %+v, want the first with a gap and then %q", got, textC)
		}
		wantA, _ := store.AssembleText(2, []store.AssemblyPart{{Seq: 1, Alphabet: text.GSM7, UserData: a[0].Part.UserData}})
		if got[0].Text != wantA || !strings.Contains(got[0].Text, "bagian 2 dari 2 tidak diterima") {
			t.Errorf("first message %q, want %q", got[0].Text, wantA)
		}
		if diff := cmp.Diff([]string{"timed_out", "complete"}, column(t, db, "SELECT state FROM assemblies ORDER BY id")); diff != "" {
			t.Errorf("assemblies (-want +got):\n%s", diff)
		}
	})
	t.Run("8- and 16-bit references with the same value", func(t *testing.T) {
		db := storetest.DB(t)
		h := newAsmHarness(t, db, store.AssemblerConfig{})
		a := partsOf(t, citizen, textA, 5, false)
		c := partsOf(t, citizen, textC, 5, true)
		h.submit(a[0], c[0], a[1], c[1])
		h.assemble()
		want := []storedMessage{{citizen, textC, "pending"}, {citizen, textA, "pending"}}
		if diff := cmp.Diff(want, sortedMessages(t, db)); diff != "" {
			t.Errorf("messages (-want +got):\n%s", diff)
		}
	})
}

// Parts that arrive on two binds go through two ingests (here, as in two
// instances) into one database, and each ingest's assembler is told of its
// own parts only; the message is made once.
func TestAssemblePartsOnTwoBindsAndAcrossARestart(t *testing.T) {
	db := storetest.DB(t)
	parts := partsOf(t, citizen, longText, 77, false)
	var made sync.Map
	start := func() (*store.Ingest, func()) {
		in := store.NewIngest(db, store.IngestConfig{}, nil, testLogger(t), nil)
		asm := store.NewAssembler(db, store.AssemblerConfig{Sweep: time.Hour}, nil, testLogger(t), func(ids []int64) {
			for _, id := range ids {
				made.Store(id, true)
			}
		})
		in.OnParts(asm.Notify)
		stopIngest := runIngest(t, in)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = asm.Run(ctx) }()
		return in, func() { stopIngest(); cancel(); <-done }
	}
	var seq uint32
	inA, stopA := start()
	inB, stopB := start()
	submitAll(t, inA, &seq, parts[2])
	submitAll(t, inB, &seq, parts[0])
	waitFor(t, func() bool {
		return count(t, db, "SELECT count(*) FROM parts WHERE state = 'joined'") == 2
	})
	// Both instances restart: what they had is in PostgreSQL.
	stopA()
	stopB()
	inC, stopC := start()
	defer stopC()
	submitAll(t, inC, &seq, parts[1])
	waitFor(t, func() bool { return len(messages(t, db)) == 1 })
	want := []storedMessage{{citizen, longText, "pending"}}
	if diff := cmp.Diff(want, messages(t, db)); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
	n := 0
	made.Range(func(any, any) bool { n++; return true })
	if n != 1 {
		t.Errorf("%d message ids handed on, want 1", n)
	}
}

// A part stored while no assembler was told of it (a crash between the
// commit and the hand-off) is found by the sweep.
func TestAssembleSweepFindsPartsNobodyWasToldOf(t *testing.T) {
	db := storetest.DB(t)
	var seq uint32
	in := store.NewIngest(db, store.IngestConfig{}, nil, testLogger(t), nil)
	runIngest(t, in)
	submitAll(t, in, &seq, partsOf(t, citizen, longText, 1, false)...)
	asm := store.NewAssembler(db, store.AssemblerConfig{Sweep: 10 * time.Millisecond}, nil, testLogger(t), nil)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); _ = asm.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitFor(t, func() bool { return len(messages(t, db)) == 1 })
}

func TestAssembleTimeoutMakesTheMessageWithAGapMarker(t *testing.T) {
	db := storetest.DB(t)
	h := newAsmHarness(t, db, store.AssemblerConfig{Timeout: 300 * time.Millisecond})
	parts := partsOf(t, citizen, longText, 3, false)
	h.submit(parts[0], parts[2])
	h.assemble()
	if n, err := h.asm.Expire(t.Context()); err != nil || n != 0 {
		t.Fatalf("Expire before the timeout = %d, %v; want 0", n, err)
	}
	if got := messages(t, db); len(got) != 0 {
		t.Fatalf("messages before the timeout: %+v", got)
	}
	waitFor(t, func() bool {
		n, err := h.asm.Expire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return n == 1
	})
	p1 := text.Decode(parts[0].Part.UserData, text.GSM7).Text
	p3 := text.Decode(parts[2].Part.UserData, text.GSM7).Text
	want := []storedMessage{{citizen, p1 + " [" + "…bagian 2 dari 3 tidak diterima…] " + p3, "pending"}}
	if diff := cmp.Diff(want, messages(t, db)); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"timed_out"}, column(t, db, "SELECT state FROM assemblies")); diff != "" {
		t.Errorf("assemblies (-want +got):\n%s", diff)
	}
	if n := gauge(t, h.reg, "sms1708_assembly_timeouts_total"); n != 1 {
		t.Errorf("timeouts_total = %v, want 1", n)
	}
	if got := h.handedOn(); len(got) != 1 {
		t.Errorf("handed on %v, want the message", got)
	}
}

// A part that arrives after its message was made with a gap fills the gap
// while the message is still pending, and joins the message's ticket once
// it was processed.
func TestAssembleLatePart(t *testing.T) {
	setup := func(t *testing.T) (*asmHarness, []store.Inbound, int64) {
		db := storetest.DB(t)
		h := newAsmHarness(t, db, store.AssemblerConfig{Timeout: 100 * time.Millisecond})
		parts := partsOf(t, citizen, longText, 3, false)
		h.submit(parts[0], parts[2])
		h.assemble()
		waitFor(t, func() bool {
			n, err := h.asm.Expire(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			return n == 1
		})
		ids := h.handedOn()
		if len(ids) != 1 {
			t.Fatalf("handed on %v", ids)
		}
		return h, parts, ids[0]
	}
	t.Run("before processing it completes the text", func(t *testing.T) {
		h, parts, _ := setup(t)
		h.submit(parts[1])
		h.assemble()
		want := []storedMessage{{citizen, longText, "pending"}}
		if diff := cmp.Diff(want, messages(t, h.db)); diff != "" {
			t.Errorf("messages (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"joined", "joined", "late"}, column(t, h.db, "SELECT state FROM parts ORDER BY id")); diff != "" {
			t.Errorf("parts (-want +got):\n%s", diff)
		}
		if n := count(t, h.db, "SELECT count(*) FROM assemblies"); n != 1 {
			t.Errorf("%d assemblies, want 1", n)
		}
	})
	t.Run("after processing it joins the ticket", func(t *testing.T) {
		h, parts, msgID := setup(t)
		number := router.NewTicketNumber()
		if _, err := h.db.Process(t.Context(), []int64{msgID}, 10, false, plain(func(ms []router.Message) []router.Decision {
			return []router.Decision{ticketDecision(ms[0], number)}
		})); err != nil {
			t.Fatal(err)
		}
		h.submit(parts[1])
		h.assemble()
		tk, err := h.db.TicketByMessage(t.Context(), msgID)
		if err != nil {
			t.Fatal(err)
		}
		evs, err := h.db.TicketEvents(t.Context(), tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantNote := store.LateNotePrefix + text.Decode(parts[1].Part.UserData, text.GSM7).Text
		if len(evs) != 2 || evs[1].Note != wantNote || evs[1].Actor != "sms1708" || evs[1].State != router.StateDiterima {
			t.Errorf("ticket events %+v, want a second with note %q", evs, wantNote)
		}
		// The processed message is left as it was processed.
		if got := messages(t, h.db); len(got) != 1 || !strings.Contains(got[0].Text, "bagian 2 dari 3") {
			t.Errorf("messages %+v", got)
		}
		if n := gauge(t, h.reg, "sms1708_assembly_late_parts_total"); n != 1 {
			t.Errorf("late_parts_total = %v, want 1", n)
		}
		// The same part again is a duplicate, not a second event.
		h.submit(parts[1])
		h.assemble()
		if evs, _ := h.db.TicketEvents(t.Context(), tk.ID); len(evs) != 2 {
			t.Errorf("a redelivered late part made another event: %+v", evs)
		}
	})
	t.Run("past the late window it starts a new message", func(t *testing.T) {
		db := storetest.DB(t)
		h := newAsmHarness(t, db, store.AssemblerConfig{Timeout: 50 * time.Millisecond, LateWindow: time.Second})
		parts := partsOf(t, citizen, longText, 3, false)
		h.submit(parts[0])
		h.assemble()
		waitFor(t, func() bool { n, _ := h.asm.Expire(t.Context()); return n == 1 })
		// Age the closed assembly past the window rather than wait.
		if _, err := db.Pool().Exec(t.Context(), "UPDATE assemblies SET closed_at = closed_at - interval '1 hour'"); err != nil {
			t.Fatal(err)
		}
		h.submit(parts[1])
		h.assemble()
		if diff := cmp.Diff([]string{"timed_out", "open"}, column(t, db, "SELECT state FROM assemblies ORDER BY id")); diff != "" {
			t.Errorf("assemblies (-want +got):\n%s", diff)
		}
	})
}

// Several assemblers racing over the same parts (as several instances do)
// make each message exactly once.
func TestAssembleConcurrentAssemblersCompleteEachMessageOnce(t *testing.T) {
	db := storetest.DB(t)
	var seq uint32
	in := store.NewIngest(db, store.IngestConfig{}, nil, testLogger(t), nil)
	runIngest(t, in)
	const senders = 40
	var all []store.Inbound
	want := map[string]string{}
	for i := range senders {
		from := fmt.Sprintf("62812%08d", i)
		s := fmt.Sprintf("Aduan nomor %d: ", i) + longText
		want[from] = s
		// Every sender uses reference 1: only the sender tells them apart.
		all = append(all, partsOf(t, from, s, 1, false)...)
	}
	// Deal the parts out of order.
	slices.Reverse(all)
	submitAll(t, in, &seq, all...)

	var ids []int64
	if err := db.Pool().QueryRow(t.Context(), "SELECT array_agg(id ORDER BY id) FROM parts").Scan(&ids); err != nil {
		t.Fatal(err)
	}
	const workers = 6
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		asm := store.NewAssembler(db, store.AssemblerConfig{Batch: 7}, nil, testLogger(t), nil)
		wg.Go(func() {
			// Each is told of every part, in its own order, and then sweeps.
			mine := slices.Clone(ids)
			if w%2 == 1 {
				slices.Reverse(mine)
			}
			for len(mine) > 0 {
				n := min(len(mine), 5)
				if _, err := asm.Assemble(t.Context(), mine[:n], false); err != nil {
					errs <- err
					return
				}
				mine = mine[n:]
			}
			for {
				n, err := asm.Assemble(t.Context(), nil, true)
				if err != nil {
					errs <- err
					return
				}
				if n == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Assemble: %v", err)
	}
	got := map[string]string{}
	for _, m := range messages(t, db) {
		if _, dup := got[m.Source]; dup {
			t.Errorf("a second message from %s", m.Source)
		}
		got[m.Source] = m.Text
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("messages by sender (-want +got):\n%s", diff)
	}
	if n := count(t, db, "SELECT count(*) FROM assemblies WHERE state = 'complete'"); n != senders {
		t.Errorf("%d complete assemblies, want %d", n, senders)
	}
}

func TestIngestPartEdgeCases(t *testing.T) {
	db := storetest.DB(t)
	in := store.NewIngest(db, store.IngestConfig{}, nil, testLogger(t), nil)
	runIngest(t, in)
	ud, _ := text.EncodeGSM7("halo")
	for i, c := range []struct {
		name      string
		rec       store.Inbound
		dead      bool
		wantParts int
		wantMsgs  int
	}{
		{"seq above total is a dead letter", part(citizen, 1, 8, 2, 3, text.GSM7, ud), true, 0, 0},
		{"seq 0 is a dead letter", part(citizen, 1, 8, 2, 0, text.GSM7, ud), true, 0, 0},
		{"a 12-bit reference is a dead letter", part(citizen, 1, 12, 2, 1, text.GSM7, ud), true, 0, 0},
		{"an 8-bit reference above 255 is a dead letter", part(citizen, 300, 8, 2, 1, text.GSM7, ud), true, 0, 0},
		{"part 1 of 1 is a whole message", part(citizen, 1, 8, 1, 1, text.GSM7, ud), false, 0, 1},
		{"a part from an alphanumeric sender is kept for the audit only", func() store.Inbound {
			r := part("TOKOPEDIA", 1, 8, 2, 1, text.GSM7, ud)
			r.MSISDN = ""
			return r
		}(), false, 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := count(t, db, "SELECT count(*) FROM parts")
			beforeMsgs := count(t, db, "SELECT count(*) FROM messages")
			col := newCollector(1)
			c.rec.Seq = uint32(i + 1)
			in.Submit(col.with(t, c.rec))
			err := col.wait(t, 1, 10*time.Second)[c.rec.Seq]
			if c.dead != (err != nil && strings.Contains(err.Error(), "dead letter")) {
				t.Errorf("Done(%v), want dead letter %v", err, c.dead)
			}
			if n := count(t, db, "SELECT count(*) FROM parts") - before; n != c.wantParts {
				t.Errorf("%d parts rows, want %d", n, c.wantParts)
			}
			if n := count(t, db, "SELECT count(*) FROM messages") - beforeMsgs; n != c.wantMsgs {
				t.Errorf("%d messages rows, want %d", n, c.wantMsgs)
			}
		})
	}
}

// A bad record in a batch with parts: the batch is split, the parts are
// stored, the bad record alone becomes a dead letter.
func TestIngestSplitsABatchWithPartsAroundABadRecord(t *testing.T) {
	db := storetest.DB(t)
	in := store.NewIngest(db, store.IngestConfig{MaxBatch: 64}, nil, testLogger(t), nil)
	var mu sync.Mutex
	var partIDs []int64
	in.OnParts(func(ids []int64) { mu.Lock(); partIDs = append(partIDs, ids...); mu.Unlock() })
	recs := partsOf(t, citizen, longText, 11, false)
	bad := mo(0, "x")
	bad.MSISDN = "62abc" // fails the messages_source_digits check
	recs = append(recs[:1], append([]store.Inbound{bad}, recs[1:]...)...)
	c := newCollector(len(recs))
	for i, r := range recs {
		r.Seq = uint32(i + 1)
		in.Submit(c.with(t, r))
	}
	runIngest(t, in)
	got := c.wait(t, len(recs), 10*time.Second)
	for s, err := range got {
		if (s == 2) != (err != nil) {
			t.Errorf("seq %d: Done(%v)", s, err)
		}
	}
	// The hand-off follows the acks.
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(partIDs) >= 3 })
	mu.Lock()
	defer mu.Unlock()
	if len(partIDs) != 3 {
		t.Errorf("parts handed on %v, want 3", partIDs)
	}
}

// count returns the single integer a query returns.
func count(t *testing.T, db *store.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Pool().QueryRow(t.Context(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// gauge returns the value of an unlabelled counter or gauge in reg.
func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			m := mf.GetMetric()[0]
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// waitFor polls cond until it holds, failing the test after 10s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
