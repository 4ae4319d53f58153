package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// phase is one fault's run: the load, the strikes and the end state.
type phase struct {
	name, title, prefix string
	injections          []injection
	load                *loadResults
	check               checkResult
	peakRSS             int64 // kB, VmHWM of the daemon running at the end of the load; 0: unknown
}

// report is the whole run.
type report struct {
	seed        uint64
	size        size
	machine     string
	phases      []*phase
	elapsed     time.Duration
	daemonExits int
}

func (r *report) doubledTickets() int {
	n := 0
	for _, p := range r.phases {
		n += p.check.DoubledTickets
	}
	return n
}

func (r *report) failures(allowDoubles bool) []string {
	var f []string
	for _, p := range r.phases {
		for _, s := range p.check.failures(allowDoubles) {
			f = append(f, p.name+": "+s)
		}
	}
	if r.daemonExits > 0 {
		f = append(f, fmt.Sprintf("the daemon exited on its own %d times", r.daemonExits))
	}
	return f
}

func fmtDur(d time.Duration) string {
	switch {
	case d < 0:
		return "never"
	case d == 0:
		return "0 (stayed up)"
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}

// worst returns the largest of the durations (-1, never, wins) and how many there are.
func worst(ds []time.Duration) time.Duration {
	var w time.Duration
	for _, d := range ds {
		if d < 0 {
			return d
		}
		w = max(w, d)
	}
	return w
}

// markdown renders the results section of docs/RELIABILITY.md.
func (r *report) markdown() string {
	var b strings.Builder
	var names []string
	for _, p := range r.phases {
		names = append(names, p.name)
	}
	fmt.Fprintf(&b, "Run of `chaos --size %s --seed %d --faults %s` (%d messages at %.0f/s per fault; %s, %.0f s in all; the same seed replays the same moments and messages).\n\n",
		r.size.name, r.seed, strings.Join(names, ","), r.size.count, r.size.rate, time.Now().UTC().Format("2006-01-02"), r.elapsed.Seconds())
	fmt.Fprintf(&b, "Machine: %s\n\n", r.machine)
	b.WriteString("| fault | strikes | messages (PDUs) | redeliveries | tickets | lost | doubled tickets | doubled acks | replies held | not received | recover: first ack | recover: /readyz |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, p := range r.phases {
		if p.load == nil {
			fmt.Fprintf(&b, "| %s | %d | — | — | — | — | — | — | — | — | — | — |\n", p.title, len(p.injections))
			continue
		}
		c, s := p.check, p.load.Summary
		var acks, ready []time.Duration
		for _, in := range p.injections {
			acks = append(acks, in.firstAck)
			ready = append(ready, in.ready)
		}
		doubled := fmt.Sprintf("%d", c.DoubledTickets)
		if c.DoubledTickets > 0 {
			doubled = fmt.Sprintf("**%d** (%d resent, %d redelivered)", c.DoubledTickets, c.DoubledByRepeats, c.DoubledByRedeliv)
		}
		held := fmt.Sprintf("%d", c.Held)
		if !c.HeldSupported {
			held = "n/a"
		}
		recAck, recReady := "—", "—"
		if len(p.injections) > 0 {
			recAck, recReady = fmtDur(worst(acks)), fmtDur(worst(ready))
		}
		notRecv := fmt.Sprintf("%d", c.AcksNotReceived)
		if c.RepliesPending > 0 {
			notRecv += fmt.Sprintf(" (%d in flight)", c.RepliesPending)
		}
		fmt.Fprintf(&b, "| %s | %d | %d (%d) | %d | %d | %d | %s | %d | %s | %s | %s | %s |\n",
			p.title, len(p.injections), s.Messages, s.PDUs, s.Redeliveries, c.Tickets, c.Lost, doubled,
			c.DoubledAcks, held, notRecv, recAck, recReady)
	}
	b.WriteString("\nRecovery columns give the worst strike. Per strike (fault → first ack of a deliver_sm sent after it; → /readyz 200 again):\n\n")
	for _, p := range r.phases {
		var parts []string
		for _, in := range p.injections {
			s := fmt.Sprintf("%s / %s", fmtDur(in.firstAck), fmtDur(in.ready))
			if in.down > 0 {
				s = fmt.Sprintf("down %s: %s", fmtDur(in.down), s)
			}
			parts = append(parts, s)
		}
		if len(parts) > 0 {
			fmt.Fprintf(&b, "- %s: %s\n", p.name, strings.Join(parts, "; "))
		}
	}
	b.WriteString("\nLoad per fault (from `smscsim load`):\n\n")
	b.WriteString("| fault | unique complaints | repeats | flood msgs | cut in flight | refused (0x64…) | MO acked/s | complaints answered/s | deliver_sm→resp p50 / p99 | MO→ack p50 / p99 | MO→reply p50 / p99 | inbound rows doubled | daemon peak RSS |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, p := range r.phases {
		if p.load == nil {
			continue
		}
		s := p.load.Summary
		rss := "—"
		if p.peakRSS > 0 {
			rss = fmt.Sprintf("%d MB", p.peakRSS/1024)
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d | %.0f | %.0f | %s / %s | %s / %s | %s / %s | %d | %s |\n",
			p.name, s.Complaints, s.Repeats, s.FloodMessages, s.CutInFlight, s.Refused, s.AckedPerSecond,
			answeredPerSecond(p.load), ms(s.RespMs.P50), ms(s.RespMs.P99), ms(s.AckMs.P50), ms(s.AckMs.P99),
			ms(s.ReplyMs.P50), ms(s.ReplyMs.P99), p.check.InboundDoubled, rss)
	}
	b.WriteString("\nComplaints answered/s: unique complaints divided by the time from the first MO sent to the last reply received (MO → ticket → acknowledgement delivered to the load). Daemon peak RSS: VmHWM of the daemon running when the load ended (after a kill, of the last one started).\n")
	if r.daemonExits > 0 {
		fmt.Fprintf(&b, "\nThe daemon exited on its own %d times during the run (restarted by the harness).\n", r.daemonExits)
	}
	return b.String()
}

// answeredPerSecond is the end-to-end rate of a load: its unique
// complaints over the time from its first send to the last reply it
// received.
func answeredPerSecond(l *loadResults) float64 {
	var last int64
	for _, rs := range l.Replies {
		for _, r := range rs {
			last = max(last, r.At)
		}
	}
	if l.Started == 0 || last <= l.Started {
		return 0
	}
	return float64(l.Summary.Complaints) / (float64(last-l.Started) / 1000)
}

func ms(v float64) string {
	if v >= 1000 {
		return fmt.Sprintf("%.2fs", v/1000)
	}
	return fmt.Sprintf("%.0fms", v)
}

// Markers around the section that --write replaces.
const (
	sectionBegin = "<!-- chaos:results:begin (written by `chaos --write`; edit outside) -->"
	sectionEnd   = "<!-- chaos:results:end -->"
)

// writeSection replaces the text between the markers of path with md (appending the markers
// and md when the file has none).
func writeSection(path, md string) error {
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("chaos: write %s: %w", path, err)
	}
	block := sectionBegin + "\n" + md + sectionEnd
	i, j := bytes.Index(b, []byte(sectionBegin)), bytes.Index(b, []byte(sectionEnd))
	var out []byte
	if i >= 0 && j > i {
		out = append(append(append(out, b[:i]...), block...), b[j+len(sectionEnd):]...)
	} else {
		out = append(append(b, '\n'), (block + "\n")...)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		return fmt.Errorf("chaos: write %s: %w", path, err)
	}
	return nil
}

// machine describes where the run happened: CPU, memory, kernel and PostgreSQL's durability
// settings, which must stay on for the figures to mean anything.
func machine(ctx context.Context, dsn string) string {
	var parts []string
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				parts = append(parts, strings.TrimSpace(l[strings.Index(l, ":")+1:]))
				break
			}
		}
	}
	parts = append(parts, fmt.Sprintf("%d CPUs", runtime.NumCPU()))
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kb); err == nil {
			parts = append(parts, fmt.Sprintf("%.0f GB RAM", float64(kb)/1024/1024))
		}
	}
	if out, err := exec.CommandContext(ctx, "uname", "-sr").Output(); err == nil {
		parts = append(parts, strings.TrimSpace(string(out)))
	}
	parts = append(parts, runtime.Version())
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if conn, err := pgx.Connect(cctx, dsn); err == nil {
		defer conn.Close(context.WithoutCancel(ctx))
		var v, fsync, sc string
		if conn.QueryRow(cctx, `SELECT current_setting('server_version'), current_setting('fsync'), current_setting('synchronous_commit')`).Scan(&v, &fsync, &sc) == nil {
			parts = append(parts, fmt.Sprintf("PostgreSQL %s (fsync %s, synchronous_commit %s) and Redis on the same machine", v, fsync, sc))
		}
	}
	return strings.Join(parts, ", ")
}
