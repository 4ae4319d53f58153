package smpp_test

// Benchmarks of the SMPP layer for issue 3 (results and how to reproduce them:
// docs/BENCHMARKS.md). They measure and never judge: nothing here fails because a machine is
// slow, only when the peer answers wrongly or the connection breaks. Each load benchmark runs
// a real Operator (one transceiver bind) over loopback TCP against one of two SMSCs:
//
//   - smsc=raw: a minimal SMSC written here that does as little as possible per PDU (frames
//     built once, only the header looked at, writes batched), so that the CPU goes to the
//     ESME side being measured;
//   - smsc=smsctest: the project's fake SMSC (package smsctest), which decodes and records
//     every PDU — the "load run against the fake SMSC" of the issue, slower because the fake
//     shares the machine's cores and does more work than the ESME.
//
// `go test -run '^$' -bench . -benchtime 1x ./smpp/` smoke-runs all of them in seconds.

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sp4n-lapor/sms1708/smpp"
	"github.com/sp4n-lapor/sms1708/smpp/smsctest"
	"github.com/sp4n-lapor/sms1708/smpp/text"
)

// Typical traffic: a citizen's report of 120 basic GSM 03.38 characters, the reply the daemon
// sends (one segment), the numbers involved.
const (
	benchCitizen = "6281234567890"
	benchCode    = "1708"
	benchReply   = "Laporan Anda diterima dengan nomor tiket 4821730596. Balas CEK 4821730596 untuk melihat status laporan."
)

var benchReport = strings.Repeat("LAPOR jalan rusak di Jl. Merdeka No.17 RT 03/RW 05 Kel. Sukamaju, sudah 2 minggu belum diperbaiki. ", 2)[:120]

// benchStall bounds every wait of the load harness: a benchmark that makes no progress for
// this long has hung (a lost PDU, a dead connection), which is a failure, not slowness.
const benchStall = 30 * time.Second

func benchGSM7(b *testing.B, s string) []byte {
	b.Helper()
	sm, ok := text.EncodeGSM7(s)
	if !ok {
		b.Fatalf("setup: %q is not GSM 03.38", s)
	}
	return sm
}

// benchDeliverSM is a one-part MO of 120 GSM-7 characters.
func benchDeliverSM(b *testing.B) *smpp.PDU {
	return &smpp.PDU{
		CommandID: smpp.CmdDeliverSM, Seq: 7,
		SourceTON: 1, SourceNPI: 1, SourceAddr: benchCitizen,
		DestTON: 3, DestAddr: benchCode,
		ShortMessage: benchGSM7(b, benchReport),
	}
}

// benchDeliverSMUDH is the first part of a two-part MO: an 8-bit concatenation UDH and 153
// GSM-7 characters, esm_class UDHI.
func benchDeliverSMUDH(b *testing.B) *smpp.PDU {
	p := benchDeliverSM(b)
	body := benchGSM7(b, strings.Repeat(benchReport, 2)[:text.PartGSM7])
	p.ESMClass = 0x40
	p.ShortMessage = append([]byte{0x05, 0x00, 0x03, 0xA7, 0x02, 0x01}, body...)
	return p
}

// benchSubmitSM is what Operator.Send writes for benchReply.
func benchSubmitSM(b *testing.B) *smpp.PDU {
	return &smpp.PDU{
		CommandID: smpp.CmdSubmitSM, Seq: 7,
		SourceTON: 3, SourceAddr: benchCode,
		DestTON: 1, DestNPI: 1, DestAddr: benchCitizen,
		RegisteredDelivery: 1,
		ShortMessage:       benchGSM7(b, benchReply),
	}
}

func benchMarshal(b *testing.B, p *smpp.PDU) []byte {
	b.Helper()
	frame, err := p.Marshal()
	if err != nil {
		b.Fatalf("setup: marshal %s: %v", smpp.CommandName(p.CommandID), err)
	}
	return frame
}

// reportRate adds b.N per second of measured time as a metric.
func reportRate(b *testing.B, unit string) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, unit)
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, c := range []struct {
		name string
		p    *smpp.PDU
	}{
		{"deliver_sm_gsm7_120", benchDeliverSM(b)},
		{"deliver_sm_udh", benchDeliverSMUDH(b)},
		{"submit_sm_resp", &smpp.PDU{CommandID: smpp.CmdSubmitSM | smpp.RespBit, Seq: 7, MessageID: "5F3A1B2C0001"}},
	} {
		frame := benchMarshal(b, c.p)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := smpp.Decode(frame); err != nil {
					b.Fatal(err)
				}
			}
			reportRate(b, "PDU/s")
		})
	}
}

func BenchmarkMarshal(b *testing.B) {
	for _, c := range []struct {
		name string
		p    *smpp.PDU
	}{
		{"submit_sm", benchSubmitSM(b)},
		{"deliver_sm_resp", &smpp.PDU{CommandID: smpp.CmdDeliverSM | smpp.RespBit, Seq: 7}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.p.Marshal(); err != nil {
					b.Fatal(err)
				}
			}
			reportRate(b, "PDU/s")
		})
	}
}

// loopReader yields buf over and over, like a socket that never runs dry.
type loopReader struct {
	buf []byte
	off int
}

func (r *loopReader) Read(p []byte) (int, error) {
	n := copy(p, r.buf[r.off:])
	r.off = (r.off + n) % len(r.buf)
	return n, nil
}

// BenchmarkReadFrame reads typical deliver_sm frames through a bufio.Reader of the session's
// size (4 KiB), so that most frames straddle no read and some straddle two.
func BenchmarkReadFrame(b *testing.B) {
	frame := benchMarshal(b, benchDeliverSM(b))
	var stream []byte
	for range 1024 {
		stream = append(stream, frame...)
	}
	br := bufio.NewReaderSize(&loopReader{buf: stream}, 4096)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := smpp.ReadFrame(br); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, "PDU/s")
}

// ackAll is the store that does nothing: every MO is acknowledged at once.
type ackAll struct{}

func (ackAll) HandleInbound(_ smpp.Inbound, done func(error)) { done(nil) }

// benchOperator runs an Operator with one transceiver bind and an MT window of window against
// 127.0.0.1:port. The returned stop drains it and waits for Run.
func benchOperator(b *testing.B, port, window int) (*smpp.Operator, func()) {
	b.Helper()
	cfg := smpp.OperatorConfig{
		Name: "bench", Host: "127.0.0.1", Port: port,
		SystemID: "sms1708", Password: "secret",
		Window: window, TPS: 0,
		// No enquire_link during a run: it would be noise, not load.
		EnquireLink:     time.Hour,
		ResponseTimeout: benchStall, WriteTimeout: benchStall,
		DialTimeout: 5 * time.Second, BindTimeout: 5 * time.Second,
		ReconnectMin: 10 * time.Millisecond, ReconnectMax: 100 * time.Millisecond,
		DrainTimeout: 5 * time.Second, SourceTON: 3,
	}
	op, err := smpp.NewOperator(cfg, ackAll{}, smpp.Options{Metrics: smpp.NewMetrics(prometheus.NewRegistry())})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- op.Run(ctx) }()
	return op, func() {
		cancel()
		select {
		case err := <-ran:
			if err != nil {
				b.Errorf("operator Run: %v", err)
			}
		case <-time.After(benchStall):
			b.Errorf("operator Run did not return within %s", benchStall)
		}
	}
}

// waitBound waits until op has a bind up; Send would wait by itself, but the MO drivers must
// not start before the Operator registered its session.
func waitBound(b *testing.B, op *smpp.Operator) {
	b.Helper()
	deadline := time.Now().Add(benchStall)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for op.BindsUp() < 1 {
		if time.Now().After(deadline) {
			b.Fatalf("no bind up within %s", benchStall)
		}
		<-tick.C
	}
}

// rawSMSC is the minimal SMSC. It serves one connection: answers the bind, enquire_link,
// unbind, and every submit_sm at once (with a fresh message id), and counts deliver_sm_resp.
// Responses read in one go are written in one go. SendMO writes deliver_sm.
type rawSMSC struct {
	ln    net.Listener
	wmu   sync.Mutex // serialises writes (serve's responses, the MO driver's deliver_sm); guards conn
	conn  net.Conn
	bound chan struct{}
	quit  chan struct{} // closed by close
	done  chan struct{} // closed when serve returns
	fail  chan struct{} // closed on the first error
	once  sync.Once
	err   error

	acks    chan struct{} // one per deliver_sm_resp ESME_ROK
	submits atomic.Int64
}

func newRawSMSC(b *testing.B) *rawSMSC {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	r := &rawSMSC{
		ln: ln, bound: make(chan struct{}), quit: make(chan struct{}), done: make(chan struct{}), fail: make(chan struct{}),
		acks: make(chan struct{}, 1024),
	}
	go r.serve()
	return r
}

func (r *rawSMSC) port() int { return r.ln.Addr().(*net.TCPAddr).Port }

func (r *rawSMSC) failed(err error) {
	r.once.Do(func() {
		r.err = err
		close(r.fail)
	})
}

func (r *rawSMSC) close() {
	close(r.quit)
	r.ln.Close()
	r.wmu.Lock()
	if r.conn != nil {
		r.conn.Close()
	}
	r.wmu.Unlock()
	<-r.done
}

// appendFrame appends a PDU with the given header and body to out.
func appendFrame(out []byte, cmd uint32, status smpp.Status, seq uint32, body ...byte) []byte {
	out = binary.BigEndian.AppendUint32(out, uint32(smpp.HeaderLen+len(body)))
	out = binary.BigEndian.AppendUint32(out, cmd)
	out = binary.BigEndian.AppendUint32(out, uint32(status))
	out = binary.BigEndian.AppendUint32(out, seq)
	return append(out, body...)
}

func (r *rawSMSC) write(b []byte) error {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	if err := r.conn.SetWriteDeadline(time.Now().Add(benchStall)); err != nil {
		return err
	}
	_, err := r.conn.Write(b)
	return err
}

func (r *rawSMSC) serve() {
	defer close(r.done)
	conn, err := r.ln.Accept()
	r.ln.Close()
	if err != nil {
		r.failed(fmt.Errorf("raw smsc: accept: %w", err))
		return
	}
	r.wmu.Lock()
	r.conn = conn
	r.wmu.Unlock()
	br := bufio.NewReaderSize(conn, 64<<10)
	var out []byte
	boundPending := false
	msgID := uint64(0x5F3A1B2C0000)
	for {
		if err := conn.SetReadDeadline(time.Now().Add(benchStall)); err != nil {
			r.failed(err)
			return
		}
		frame, err := smpp.ReadFrame(br)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				r.failed(fmt.Errorf("raw smsc: read: %w", err))
			}
			return
		}
		cmd, status, seq, _ := smpp.FrameHeader(frame)
		switch cmd {
		case smpp.CmdBindTransceiver:
			out = appendFrame(out, cmd|smpp.RespBit, smpp.StatusOK, seq, []byte("rawsmsc\x00")...)
			boundPending = true
		case smpp.CmdDeliverSM | smpp.RespBit:
			if status != smpp.StatusOK {
				r.failed(fmt.Errorf("raw smsc: deliver_sm_resp seq %d: %s", seq, status.Name()))
				return
			}
			select {
			case r.acks <- struct{}{}:
			case <-r.quit:
				return
			}
		case smpp.CmdSubmitSM:
			msgID++
			out = appendFrame(out, cmd|smpp.RespBit, smpp.StatusOK, seq,
				append(strconv.AppendUint(nil, msgID, 16), 0)...)
			r.submits.Add(1)
		case smpp.CmdEnquireLink:
			out = appendFrame(out, cmd|smpp.RespBit, smpp.StatusOK, seq)
		case smpp.CmdUnbind:
			out = appendFrame(out, cmd|smpp.RespBit, smpp.StatusOK, seq)
			r.write(out)
			conn.Close()
			return
		default:
			r.failed(fmt.Errorf("raw smsc: unexpected %s seq %d", smpp.CommandName(cmd), seq))
			return
		}
		// Answer what was read in one go with one write, as a busy SMSC would.
		if len(out) > 0 && br.Buffered() == 0 {
			if err := r.write(out); err != nil {
				r.failed(fmt.Errorf("raw smsc: write: %w", err))
				return
			}
			out = out[:0]
			if boundPending {
				close(r.bound)
				boundPending = false
			}
		}
	}
}

// driveMO sends n copies of deliver_sm (sequence numbers 1..n) keeping at most window without
// their deliver_sm_resp, and returns when all n are acknowledged. Several deliver_sm that fit
// the window at the same moment go out in one write.
func (r *rawSMSC) driveMO(frame []byte, n, window int) error {
	buf := make([]byte, 0, window*len(frame))
	outstanding, sent, acked := 0, 0, 0
	stall := time.NewTimer(benchStall)
	defer stall.Stop()
	for acked < n {
		buf = buf[:0]
		for outstanding < window && sent < n {
			sent++
			outstanding++
			off := len(buf)
			buf = append(buf, frame...)
			binary.BigEndian.PutUint32(buf[off+12:], uint32(sent))
		}
		if len(buf) > 0 {
			if err := r.write(buf); err != nil {
				return fmt.Errorf("raw smsc: write deliver_sm: %w", err)
			}
		}
		stall.Reset(benchStall)
		select {
		case <-r.acks:
		case <-r.fail:
			return r.err
		case <-stall.C:
			return fmt.Errorf("raw smsc: no deliver_sm_resp for %s (%d of %d acked)", benchStall, acked, n)
		}
		outstanding--
		acked++
		// Take every ack already there before refilling the window.
		for more := true; more; {
			select {
			case <-r.acks:
				outstanding--
				acked++
			default:
				more = false
			}
		}
	}
	return nil
}

// cpuClock measures the CPU time (user + system) the whole test process spends over a timed
// region: the ESME side, the SMSC side, the runtime. On a machine shared with other work,
// wall-clock rates swing with the neighbours' load, while CPU per operation barely moves.
type cpuClock struct{ start time.Duration }

func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() cpuClock { return cpuClock{start: cpuNow()} }

// report adds the process CPU time per op as "cpu-ns/op".
func (c cpuClock) report(b *testing.B) {
	if d := cpuNow() - c.start; d > 0 && b.N > 0 {
		b.ReportMetric(float64(d.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

var benchWindows = []int{1, 10, 50}

// BenchmarkMOAcked measures MO acknowledged per second: the SMSC keeps window deliver_sm
// outstanding, the Operator's handler acks each at once. One op is one MO (a deliver_sm in,
// a deliver_sm_resp out); PDU/s counts both.
func BenchmarkMOAcked(b *testing.B) {
	for _, w := range benchWindows {
		b.Run(fmt.Sprintf("smsc=raw/window=%d", w), func(b *testing.B) { benchMORaw(b, w) })
	}
	for _, w := range benchWindows {
		b.Run(fmt.Sprintf("smsc=smsctest/window=%d", w), func(b *testing.B) { benchMOSmsctest(b, w) })
	}
}

func reportMO(b *testing.B) {
	reportRate(b, "MO/s")
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(2*float64(b.N)/s, "PDU/s")
	}
}

func benchMORaw(b *testing.B, window int) {
	frame := benchMarshal(b, benchDeliverSM(b))
	r := newRawSMSC(b)
	defer r.close()
	op, stop := benchOperator(b, r.port(), 10)
	defer stop()
	select {
	case <-r.bound:
	case <-r.fail:
		b.Fatal(r.err)
	case <-time.After(benchStall):
		b.Fatalf("no bind within %s", benchStall)
	}
	waitBound(b, op)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := startCPU()
	if err := r.driveMO(frame, b.N, window); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	cpu.report(b)
	reportMO(b)
}

func benchMOSmsctest(b *testing.B, window int) {
	srv, err := smsctest.NewServer(smsctest.Config{Name: "bench", SystemID: "sms1708", Password: "secret"})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	op, stop := benchOperator(b, srv.Port(), 10)
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := srv.WaitBound(ctx, 1); err != nil {
		b.Fatal(err)
	}
	waitBound(b, op)
	mo := smsctest.MO{From: benchCitizen, To: benchCode, Text: benchReport}
	var next atomic.Int64
	errs := make(chan error, window)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := startCPU()
	var wg sync.WaitGroup
	// window senders each with one deliver_sm outstanding keep window outstanding.
	for range window {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				st, err := srv.SendMO(ctx, mo)
				if err == nil && st != smpp.StatusOK {
					err = fmt.Errorf("deliver_sm_resp %s", st.Name())
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	cpu.report(b)
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	reportMO(b)
}

// mtSenders is how many goroutines call Operator.Send at once: more than the window, so that
// the window, not the callers, is the limit (as with the outbox dispatcher's workers).
const mtSenders = 32

// BenchmarkMTSent measures MT per second through Operator.Send with a window of 10 on one
// bind and no TPS limit, the SMSC answering each submit_sm at once. One op is one one-part
// MT (a submit_sm out, a submit_sm_resp in); PDU/s counts both.
func BenchmarkMTSent(b *testing.B) {
	b.Run(fmt.Sprintf("smsc=raw/window=10/senders=%d", mtSenders), func(b *testing.B) {
		r := newRawSMSC(b)
		defer r.close()
		op, stop := benchOperator(b, r.port(), 10)
		defer stop()
		benchMT(b, op)
		if got := r.submits.Load(); got != int64(b.N) {
			b.Errorf("raw smsc saw %d submit_sm, want %d", got, b.N)
		}
	})
	b.Run(fmt.Sprintf("smsc=smsctest/window=10/senders=%d", mtSenders), func(b *testing.B) {
		srv, err := smsctest.NewServer(smsctest.Config{Name: "bench", SystemID: "sms1708", Password: "secret"})
		if err != nil {
			b.Fatal(err)
		}
		defer srv.Close()
		op, stop := benchOperator(b, srv.Port(), 10)
		defer stop()
		benchMT(b, op)
	})
}

func benchMT(b *testing.B, op *smpp.Operator) {
	waitBound(b, op)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var next atomic.Int64
	errs := make(chan error, mtSenders)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := startCPU()
	var wg sync.WaitGroup
	for range mtSenders {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				ids, err := op.Send(ctx, benchCode, benchCitizen, benchReply)
				if err == nil && (len(ids) != 1 || ids[0] == "") {
					err = fmt.Errorf("send: message ids %q, want one", ids)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	cpu.report(b)
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	reportRate(b, "MT/s")
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(2*float64(b.N)/s, "PDU/s")
	}
}
