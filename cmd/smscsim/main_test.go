package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sp4n-lapor/sms1708/smpp"
	"github.com/sp4n-lapor/sms1708/smpp/text"
)

const waitLimit = 10 * time.Second

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a running serve.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// simulatorUnderTest runs "smscsim serve" in-process on :0 ports.
type simulatorUnderTest struct {
	smsc    map[string]string // operator → SMPP address
	control string
	stderr  *syncBuffer
	stop    func() // cancels serve and checks that it returns 0; idempotent
}

func startServe(t *testing.T) *simulatorUnderTest {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "smscsim.yaml")
	yaml := `control: 127.0.0.1:0
operators:
  - {name: telkomsel, listen: "127.0.0.1:0", system_id: sms1708, password: dev-telkomsel}
  - {name: indosat, listen: "127.0.0.1:0", system_id: sms1708, password: dev-indosat, message_ids: decimal}
  - {name: three, listen: "127.0.0.1:0", system_id: sms1708, password: dev-three, auto_receipt: false}
`
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	sut := &simulatorUnderTest{smsc: map[string]string{}, stderr: &syncBuffer{}}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", cfg, "--log-level", "debug"}, pw, sut.stderr)
		pw.Close()
	}()
	var once sync.Once
	sut.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case code := <-done:
				if code != exitOK {
					t.Errorf("serve exited %d, want 0; stderr:\n%s", code, sut.stderr)
				}
			case <-time.After(waitLimit):
				t.Errorf("serve did not stop within %s", waitLimit)
			}
		})
	}
	t.Cleanup(sut.stop)
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	timeout := time.After(waitLimit)
	for sut.control == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("serve stopped before listening; stderr:\n%s", sut.stderr)
			}
			var name, addr, sysid string
			if _, err := fmt.Sscanf(line, "smsc %s listening on %s (system_id %s", &name, &addr, &sysid); err == nil {
				sut.smsc[name] = addr
			} else if _, err := fmt.Sscanf(line, "control listening on http://%s", &addr); err == nil {
				sut.control = addr
			} else {
				t.Fatalf("unexpected stdout line %q", line)
			}
		case <-timeout:
			t.Fatalf("serve did not listen within %s; stderr:\n%s", waitLimit, sut.stderr)
		}
	}
	// Keep draining stdout so that serve never blocks on it.
	go func() {
		for range lines {
		}
	}()
	if len(sut.smsc) != 3 {
		t.Fatalf("listening SMSCs %v, want telkomsel, indosat and three", sut.smsc)
	}
	return sut
}

// daemon is a raw SMPP client standing in for sms1708: it binds as transceiver, answers every
// deliver_sm, and replies to each MO with a submit_sm to its sender, chosen by the MO's text.
type daemon struct {
	conn   net.Conn
	errc   chan error
	mu     sync.Mutex
	dlrs   []string // receipted_message_id of receipts received
	events chan string
}

func startDaemon(t *testing.T, addr, password string) *daemon {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, waitLimit)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	d := &daemon{conn: conn, errc: make(chan error, 1), events: make(chan string, 16)}
	d.write(&smpp.PDU{CommandID: smpp.CmdBindTransceiver, Seq: 1, SystemID: "sms1708", Password: password, InterfaceVersion: 0x34})
	_ = conn.SetReadDeadline(time.Now().Add(waitLimit))
	p, err := d.read()
	if err != nil {
		t.Fatal(err)
	}
	if p.CommandID != smpp.CmdBindTransceiver|smpp.RespBit || p.Status != smpp.StatusOK {
		t.Fatalf("bind: got %s %v", smpp.CommandName(p.CommandID), p.Status)
	}
	_ = conn.SetReadDeadline(time.Time{})
	go func() { d.errc <- d.loop() }()
	return d
}

func (d *daemon) write(p *smpp.PDU) error {
	b, err := p.Marshal()
	if err != nil {
		return err
	}
	_ = d.conn.SetWriteDeadline(time.Now().Add(waitLimit))
	_, err = d.conn.Write(b)
	return err
}

func (d *daemon) read() (*smpp.PDU, error) {
	frame, err := smpp.ReadFrame(d.conn)
	if err != nil {
		return nil, err
	}
	return smpp.Decode(frame)
}

// loop runs until the connection ends; the simulator unbinding it is a clean end.
func (d *daemon) loop() error {
	seq := uint32(100)
	for {
		p, err := d.read()
		if err != nil {
			return err
		}
		switch p.CommandID {
		case smpp.CmdUnbind:
			d.events <- "unbind"
			return d.write(&smpp.PDU{CommandID: smpp.CmdUnbind | smpp.RespBit, Seq: p.Seq})
		case smpp.CmdEnquireLink:
			err = d.write(&smpp.PDU{CommandID: smpp.CmdEnquireLink | smpp.RespBit, Seq: p.Seq})
		case smpp.CmdDeliverSM:
			if p.ESMClass&0x3C == 0x04 {
				id, _ := p.TLV(smpp.TagReceiptedMessageID)
				d.mu.Lock()
				d.dlrs = append(d.dlrs, strings.TrimRight(string(id), "\x00"))
				d.mu.Unlock()
				d.events <- "dlr"
				err = d.write(&smpp.PDU{CommandID: smpp.CmdDeliverSM | smpp.RespBit, Seq: p.Seq})
				break
			}
			mo := text.Decode(p.ShortMessage, text.AlphabetFor(p.DataCoding, text.GSM7)).Text
			status := smpp.StatusOK
			if strings.HasPrefix(mo, "gagal") {
				status = smpp.StatusXTAppn
			}
			if err = d.write(&smpp.PDU{CommandID: smpp.CmdDeliverSM | smpp.RespBit, Seq: p.Seq, Status: status}); err != nil {
				return err
			}
			for _, sm := range replyFor(mo) {
				seq++
				err = d.write(&smpp.PDU{CommandID: smpp.CmdSubmitSM, Seq: seq, SourceTON: 0, SourceNPI: 1, SourceAddr: "1708",
					DestTON: 1, DestNPI: 1, DestAddr: p.SourceAddr, RegisteredDelivery: 1, ESMClass: sm.esm,
					DataCoding: sm.dc, ShortMessage: sm.b})
				if err != nil {
					return err
				}
			}
		case smpp.CmdSubmitSM | smpp.RespBit:
			if p.Status != smpp.StatusOK {
				return fmt.Errorf("submit_sm_resp %v", p.Status)
			}
			d.events <- "submit_sm_resp"
		}
		if err != nil {
			return err
		}
	}
}

type shortMessage struct {
	esm, dc uint8
	b       []byte
}

// replyFor is what the fake daemon answers: nothing to "gagal…" (refused) or "diam…" (silent),
// a two-part UCS2 message to "panjang…", a ticket acknowledgement otherwise.
func replyFor(mo string) []shortMessage {
	switch {
	case strings.HasPrefix(mo, "gagal"), strings.HasPrefix(mo, "diam"):
		return nil
	case strings.HasPrefix(mo, "panjang"):
		udh := func(seq byte) []byte { return []byte{0x05, 0x00, 0x03, 0x42, 0x02, seq} }
		// Last part first: the simulator orders parts by sequence number.
		return []shortMessage{
			{0x40, 0x08, append(udh(2), text.EncodeUCS2(" bagian dua 🙏")...)},
			{0x40, 0x08, append(udh(1), text.EncodeUCS2("bagian satu,")...)},
		}
	}
	b, _ := text.EncodeGSM7("Laporan diterima.\nTiket 1234567890")
	return []shortMessage{{0, 0, b}}
}

func TestServeAndSend(t *testing.T) {
	sut := startServe(t)
	d := startDaemon(t, sut.smsc["telkomsel"], "dev-telkomsel")

	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{
			name:       "reply arrives",
			args:       []string{"--operator", "telkomsel", "--from", "6281234567890", "jalan rusak di desa kami"},
			wantCode:   exitOK,
			wantStdout: "sent: ESME_ROK\nreply from 1708 to 6281234567890: Laporan diterima.\\nTiket 1234567890\n",
		},
		{
			name:       "flags after the text, plus sign dropped",
			args:       []string{"jalan", "rusak", "--from", "+6281234567891", "--to", "1708"},
			wantCode:   exitOK,
			wantStdout: "sent: ESME_ROK\nreply from 1708 to 6281234567891: Laporan diterima.\\nTiket 1234567890\n",
		},
		{
			name:       "concatenated reply joined in order",
			args:       []string{"--from", "6281234567892", "panjang sekali"},
			wantCode:   exitOK,
			wantStdout: "sent: ESME_ROK\nreply from 1708 to 6281234567892: bagian satu, bagian dua 🙏\n",
		},
		{
			name:       "no reply within --wait",
			args:       []string{"--from", "6281234567893", "--wait", "300ms", "diam saja"},
			wantCode:   exitFailure,
			wantStdout: "sent: ESME_ROK\n",
			wantStderr: "no reply to 6281234567893 within 300ms",
		},
		{
			name:       "refused by the daemon",
			args:       []string{"--from", "6281234567894", "gagal simpan"},
			wantCode:   exitFailure,
			wantStdout: "sent: ESME_RX_T_APPN\n",
		},
		{
			name:       "wait 0 does not wait",
			args:       []string{"--from", "6281234567895", "--wait", "0", "diam"},
			wantCode:   exitOK,
			wantStdout: "sent: ESME_ROK\n",
		},
		{
			name:       "operator not bound",
			args:       []string{"--operator", "indosat", "--from", "6281234567896", "halo"},
			wantCode:   exitUsage,
			wantStderr: "operator indosat: no session bound",
		},
		{
			name:       "unknown operator",
			args:       []string{"--operator", "xl", "--from", "6281234567897", "halo"},
			wantCode:   exitUsage,
			wantStderr: `unknown operator "xl"`,
		},
		{
			name:       "missing --from",
			args:       []string{"halo"},
			wantCode:   exitUsage,
			wantStderr: "--from is required",
		},
		{
			name:       "missing text",
			args:       []string{"--from", "6281234567898"},
			wantCode:   exitUsage,
			wantStderr: "text of the SMS is required",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append([]string{"send", "--control", sut.control}, tt.args...)
			code := run(t.Context(), args, &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.wantCode, stderr.String())
			}
			if diff := cmp.Diff(tt.wantStdout, stdout.String()); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr %q, want it to contain %q", stderr.String(), tt.wantStderr)
			}
		})
	}

	// Every submit asked for a receipt and telkomsel sends them: the daemon got a receipt for
	// each accepted submit (1 + 1 + 2 parts).
	deadline := time.After(waitLimit)
	for n := 0; n < 4; {
		select {
		case ev := <-d.events:
			if ev == "dlr" {
				n++
			}
		case err := <-d.errc:
			t.Fatalf("fake daemon stopped: %v", err)
		case <-deadline:
			t.Fatalf("%d receipts, want 4", n)
		}
	}
	if strings.Contains(sut.stderr.String(), "6281234567890") {
		t.Errorf("a full phone number appears in the logs:\n%s", sut.stderr)
	}
}

func TestServeHealthzAndUnbindOnShutdown(t *testing.T) {
	sut := startServe(t)
	d := startDaemon(t, sut.smsc["three"], "dev-three")

	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+sut.control+"/healthz", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h struct {
		Status    string           `json:"status"`
		Operators []operatorHealth `json:"operators"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	want := []operatorHealth{
		{Name: "telkomsel", Addr: sut.smsc["telkomsel"], Bound: 0},
		{Name: "indosat", Addr: sut.smsc["indosat"], Bound: 0},
		{Name: "three", Addr: sut.smsc["three"], Bound: 1},
	}
	if resp.StatusCode != http.StatusOK || h.Status != "ok" {
		t.Errorf("healthz %d %q", resp.StatusCode, h.Status)
	}
	if diff := cmp.Diff(want, h.Operators); diff != "" {
		t.Errorf("healthz operators (-want +got):\n%s", diff)
	}
	// Wrong credentials are refused by the simulator as by a real SMSC.
	conn, err := net.DialTimeout("tcp", sut.smsc["indosat"], waitLimit)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	b, _ := (&smpp.PDU{CommandID: smpp.CmdBindTransceiver, Seq: 1, SystemID: "sms1708", Password: "dev-telkomsel"}).Marshal()
	_ = conn.SetDeadline(time.Now().Add(waitLimit))
	if _, err := conn.Write(b); err != nil {
		t.Fatal(err)
	}
	frame, err := smpp.ReadFrame(conn)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := smpp.Decode(frame); err != nil || p.Status != smpp.StatusInvPaswd {
		t.Fatalf("bind with another operator's password: %v %v, want ESME_RINVPASWD", p, err)
	}

	// Stopping serve unbinds the daemon before closing.
	sut.stop()
	select {
	case ev := <-d.events:
		if ev != "unbind" {
			t.Errorf("daemon got %q at shutdown, want unbind", ev)
		}
	case <-time.After(waitLimit):
		t.Error("daemon was not unbound at shutdown")
	}
	if err := <-d.errc; err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		t.Errorf("daemon loop: %v", err)
	}
}

func TestConfig(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr string
	}{
		{"unknown field refused", "operators:\n  - {name: a, listen: x, system_id: s, pasword: p}\n", "field pasword not found"},
		{"duplicate names refused", "operators:\n  - {name: a, listen: x, system_id: s}\n  - {name: a, listen: y, system_id: s}\n", "duplicate name"},
		{"bad id format refused", "operators:\n  - {name: a, listen: x, system_id: s, message_ids: octal}\n", "message_ids"},
		{"bad default alphabet refused", "operators:\n  - {name: a, listen: x, system_id: s, default_alphabet: ucs2}\n", "default_alphabet"},
		{"every problem reported", "operators:\n  - {name: a}\n", "empty listen address"},
		{"empty file keeps defaults", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := loadConfig(path)
			if err == nil {
				err = cfg.validate()
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				if diff := cmp.Diff(defaultConfig(), cfg); diff != "" {
					t.Errorf("config (-want +got):\n%s", diff)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
			if tt.name == "every problem reported" && !strings.Contains(err.Error(), "empty system_id") {
				t.Errorf("err = %v, want the system_id problem too", err)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	want := []operatorConfig{
		{Name: "telkomsel", Listen: "127.0.0.1:2775", SystemID: "sms1708", Password: "dev-telkomsel"},
		{Name: "indosat", Listen: "127.0.0.1:2776", SystemID: "sms1708", Password: "dev-indosat"},
		{Name: "three", Listen: "127.0.0.1:2777", SystemID: "sms1708", Password: "dev-three"},
	}
	c := defaultConfig()
	if diff := cmp.Diff(want, c.Operators); diff != "" || c.Control != "127.0.0.1:2780" {
		t.Errorf("defaults (-want +got):\n%s control %s", diff, c.Control)
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		args     []string
		wantCode int
		inStdout bool
	}{
		{nil, exitUsage, false},
		{[]string{"help"}, exitOK, true},
		{[]string{"bogus"}, exitUsage, false},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := run(t.Context(), tt.args, &stdout, &stderr)
		out := stderr.String()
		if tt.inStdout {
			out = stdout.String()
		}
		if code != tt.wantCode || !strings.Contains(out, "smscsim send") {
			t.Errorf("run(%q) = %d, output %q; want %d and the usage", tt.args, code, out, tt.wantCode)
		}
	}
}
