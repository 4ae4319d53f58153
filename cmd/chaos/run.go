package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// size is how much load each fault runs under, and how often it strikes.
type size struct {
	name        string
	count       int     // messages per fault
	rate        float64 // messages per second
	kills       int     // kill -9 of the daemon
	pgCrashes   int     // pg_ctl stop -m immediate
	redisStops  int     // redis-cli shutdown nosave
	disconnects int     // every SMSC connection cut
	// settle is the longest wait, after the load's replies settled, for messages and replies
	// still in flight (a reply claimed by a crashed dispatcher waits for its 2-minute lease).
	settle  time.Duration
	timeout time.Duration
}

var sizes = map[string]size{
	// CI: a few hundred MO per fault, the whole run well under 3 minutes.
	"small": {name: "small", count: 300, rate: 100, kills: 2, pgCrashes: 1, redisStops: 1, disconnects: 3, settle: 20 * time.Second, timeout: 6 * time.Minute},
	// For people: thousands per fault, several strikes of each.
	"medium": {name: "medium", count: 3000, rate: 200, kills: 4, pgCrashes: 2, redisStops: 2, disconnects: 6, settle: 150 * time.Second, timeout: 30 * time.Minute},
	"large":  {name: "large", count: 20000, rate: 400, kills: 8, pgCrashes: 4, redisStops: 4, disconnects: 12, settle: 150 * time.Second, timeout: 90 * time.Minute},
}

// The faults, in the order they run, with the marker prefix of their load.
var allFaults = []struct{ name, prefix, title string }{
	{"none", "N", "none (baseline load)"},
	{"kill", "K", "daemon killed (SIGKILL) and restarted"},
	{"pg", "P", "PostgreSQL crashed (stop -m immediate) and restarted"},
	{"redis", "R", "Redis stopped (shutdown nosave) and restarted"},
	{"smsc", "S", "SMSC connections cut (every bind, in flight)"},
}

// warmupFault is the load run before the faults with --warmup: a database
// that has been in service, not an empty one, for benchmarks. It is
// checked like the others but left out of the report.
var warmupFault = struct{ name, prefix, title string }{"warmup", "W", "warm-up load (not reported)"}

type runOptions struct {
	size         size
	warmup       int // messages sent before the faults, unreported
	seed         uint64
	faults       []string
	allowDoubles bool
	write        string
	servicesDir  string
	pgPort       int
	redisPort    int
	httpListen   string
	database     string
	config       string
	build        bool
	root         string
}

func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("chaos run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o runOptions
	sizeName := fs.String("size", "medium", "small (CI), medium or large")
	seed := fs.Uint64("seed", 0, "seed of every random moment and of the load's mix (0: from the clock; printed)")
	faults := fs.String("faults", "kill,pg,redis,smsc", "faults to run, in order: none (load only), kill, pg, redis, smsc")
	count := fs.Int("count", 0, "messages per fault (default by size)")
	fs.IntVar(&o.warmup, "warmup", 0, "send this many messages first, as fast as acks allow, and leave them out of the report: the database then has a history, as in service (benchmarks)")
	rate := fs.Float64("rate", -1, "messages per second (default by size; 0: as fast as acks allow, --faults none only)")
	fs.BoolVar(&o.allowDoubles, "allow-doubles", false, "report doubled tickets without failing (until dedup lands)")
	fs.StringVar(&o.write, "write", "", "rewrite the results section of this Markdown `file` (docs/RELIABILITY.md)")
	fs.StringVar(&o.servicesDir, "services-dir", envOr("SMS1708_SERVICES_DIR", "/tmp/sms1708-chaos"), "SMS1708_SERVICES_DIR for scripts/services.sh")
	fs.IntVar(&o.pgPort, "pg-port", envInt("SMS1708_PG_PORT", 25718), "PostgreSQL port (SMS1708_PG_PORT)")
	fs.IntVar(&o.redisPort, "redis-port", envInt("SMS1708_REDIS_PORT", 26718), "Redis port (SMS1708_REDIS_PORT)")
	fs.StringVar(&o.httpListen, "http", "127.0.0.1:8718", "the daemon's HTTP address (SMS1708_HTTP_LISTEN)")
	fs.StringVar(&o.database, "database", "sms1708_chaos", "database to drop, create and use")
	fs.StringVar(&o.config, "config", "configs/dev.yaml", "daemon configuration (database, Redis and HTTP are overridden)")
	fs.BoolVar(&o.build, "build", true, "build bin/sms1708 and bin/smscsim first")
	timeout := fs.Duration("timeout", 0, "stop everything after this long (default by size)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	sz, ok := sizes[*sizeName]
	if !ok {
		fmt.Fprintf(stderr, "chaos: --size %q: want small, medium or large\n", *sizeName)
		return exitUsage
	}
	if *count > 0 {
		sz.count = *count
	}
	if *rate >= 0 {
		sz.rate = *rate
	}
	o.size = sz
	for _, f := range strings.Split(*faults, ",") {
		f = strings.TrimSpace(f)
		if !slices.ContainsFunc(allFaults, func(a struct{ name, prefix, title string }) bool { return a.name == f }) {
			fmt.Fprintf(stderr, "chaos: --faults: unknown fault %q (none, kill, pg, redis, smsc)\n", f)
			return exitUsage
		}
		o.faults = append(o.faults, f)
		if f != "none" && sz.rate == 0 {
			fmt.Fprintln(stderr, "chaos: --rate 0 goes with --faults none only: a fault's moments are drawn over the send time")
			return exitUsage
		}
	}
	o.seed = *seed
	if o.seed == 0 {
		o.seed = uint64(time.Now().UnixNano()) % 1_000_000_007
	}
	if host, _, err := net.SplitHostPort(o.httpListen); err != nil || (host != "127.0.0.1" && host != "localhost") {
		fmt.Fprintf(stderr, "chaos: --http %q: want a loopback host:port\n", o.httpListen)
		return exitUsage
	}
	root, err := repoRoot()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	o.root = root
	d := *timeout
	if d == 0 {
		d = sz.timeout
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	h := &harness{o: o, out: stdout, stderr: stderr}
	report, err := h.run(ctx)
	if report != nil {
		md := report.markdown()
		fmt.Fprintln(stdout)
		fmt.Fprint(stdout, md)
		if o.write != "" {
			if werr := writeSection(filepath.Join(root, o.write), md); werr != nil {
				fmt.Fprintln(stderr, werr)
				return exitFailure
			}
			fmt.Fprintf(stdout, "\nchaos: results written to %s\n", o.write)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "chaos: %v\n", err)
		return exitFailure
	}
	if f := report.failures(o.allowDoubles); len(f) > 0 {
		for _, s := range f {
			fmt.Fprintf(stderr, "chaos: FAIL: %s\n", s)
		}
		return exitFailure
	}
	if n := report.doubledTickets(); n > 0 {
		fmt.Fprintf(stderr, "chaos: %d doubled tickets, allowed by --allow-doubles\n", n)
	}
	fmt.Fprintf(stdout, "chaos: ok (seed %d)\n", o.seed)
	return exitOK
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// repoRoot finds the module root (the directory of go.mod) from the working directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("chaos: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "scripts", "services.sh")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("chaos: run me inside the sms1708 checkout (no scripts/services.sh above the working directory)")
		}
		dir = parent
	}
}

// harness runs the whole thing; every process it starts is in a process group of its own,
// named in a pid file, and stopped on the way out, whatever happened.
type harness struct {
	o      runOptions
	out    io.Writer
	stderr io.Writer
	dir    string // this run's logs and results
	rng    *rand.Rand

	servicesWereUp bool
	daemon         *proc
	daemonMu       sync.Mutex
	daemonExits    int // exits we did not cause
	killing        bool

	ready *readyProbe
}

func (h *harness) logf(format string, a ...any) {
	fmt.Fprintf(h.out, "chaos: "+format+"\n", a...)
}

func (h *harness) env() []string {
	return []string{
		"SMS1708_SERVICES_DIR=" + h.o.servicesDir,
		"SMS1708_PG_PORT=" + strconv.Itoa(h.o.pgPort),
		"SMS1708_REDIS_PORT=" + strconv.Itoa(h.o.redisPort),
		"SMS1708_DATABASE_URL=" + h.dsn(h.o.database),
		"SMS1708_REDIS_URL=" + fmt.Sprintf("redis://127.0.0.1:%d/0", h.o.redisPort),
		"SMS1708_HTTP_LISTEN=" + h.o.httpListen,
	}
}

func (h *harness) dsn(db string) string {
	return fmt.Sprintf("postgres://sms1708@127.0.0.1:%d/%s?sslmode=disable", h.o.pgPort, db)
}

func (h *harness) run(ctx context.Context) (rep *report, err error) {
	o := h.o
	h.rng = rand.New(rand.NewPCG(o.seed, 0xc4a05))
	h.dir = filepath.Join(o.servicesDir, "chaos", "last")
	h.logf("seed %d (replay: --seed %d --size %s); size %s: %d messages at %.0f/s per fault", o.seed, o.seed, o.size.name, o.size.name, o.size.count, o.size.rate)
	if err := os.MkdirAll(filepath.Dir(h.dir), 0o755); err != nil {
		return nil, err
	}
	// One run at a time per services directory: a second one would take the first one's
	// daemon and load for leftovers of a dead run and kill them.
	release, err := lockRun(filepath.Dir(h.dir))
	if err != nil {
		return nil, err
	}
	defer release()
	// A run killed outright leaves its daemon and load behind: stop them by pid file first.
	stopPidFile(filepath.Join(o.servicesDir, "chaos", "daemon.pid"), "sms1708")
	stopPidFile(filepath.Join(o.servicesDir, "chaos", "load.pid"), "smscsim")
	if err := os.RemoveAll(h.dir); err != nil {
		return nil, fmt.Errorf("clean %s: %w", h.dir, err)
	}
	if err := os.MkdirAll(h.dir, 0o755); err != nil {
		return nil, err
	}
	h.logf("logs and results in %s", h.dir)

	for _, p := range []int{2775, 2776, 2777} {
		if portOpen(p) {
			return nil, fmt.Errorf("port %d is in use (make run or smscsim serve?): chaos runs its own SMSCs there; stop it first", p)
		}
	}
	if _, port, _ := net.SplitHostPort(o.httpListen); portOpen(atoi(port)) {
		return nil, fmt.Errorf("%s is in use: another chaos run?", o.httpListen)
	}

	// Services: leave them as they were found (running, or stopped again if we started them).
	h.servicesWereUp = h.pgUp(ctx) && h.redisUp(ctx)
	if err := h.services(ctx); err != nil {
		return nil, err
	}
	defer func() {
		// Whatever a fault left down comes back up; then, if they were not running before,
		// they stop again.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 90*time.Second)
		defer cancel()
		if serr := h.services(cctx); serr != nil {
			err = errors.Join(err, fmt.Errorf("restore services: %w", serr))
		}
		if !h.servicesWereUp {
			h.logf("stopping the services this run started")
			_ = h.script(cctx, "scripts/services.sh", "stop")
		}
	}()
	if err := h.freshDatabase(ctx); err != nil {
		return nil, err
	}
	if o.build {
		h.logf("building bin/sms1708 and bin/smscsim")
		if err := h.command(ctx, "go", "build", "-o", "bin/", "./cmd/sms1708", "./cmd/smscsim"); err != nil {
			return nil, fmt.Errorf("build: %w", err)
		}
	}
	if err := h.command(ctx, "bin/sms1708", "migrate", "--config", o.config); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}

	rep = &report{seed: o.seed, size: o.size, machine: machine(ctx, h.dsn(o.database))}
	h.ready = newReadyProbe("http://" + o.httpListen + "/readyz")
	go h.ready.run(ctx)
	defer h.stopDaemon()

	start := time.Now()
	defer func() { rep.elapsed = time.Since(start) }()
	if o.warmup > 0 {
		// Sender numbers from 90,000,000: above the five faults'
		// ((i+1) * 10,000,000).
		if _, err := h.phase(ctx, 8, warmupFault.name, o.warmup, 0); err != nil {
			return rep, fmt.Errorf("warm-up: %w", err)
		}
		// A database in service has statistics; this one is younger than
		// autovacuum's first look (a minute), and statements planned on
		// its empty tables scan them whole as they grow.
		if err := h.analyze(ctx); err != nil {
			return rep, fmt.Errorf("warm-up: analyze: %w", err)
		}
	}
	for i, name := range o.faults {
		if err := ctx.Err(); err != nil {
			return rep, fmt.Errorf("stopped before fault %s: %w", name, err)
		}
		ph, err := h.phase(ctx, i, name, o.size.count, o.size.rate)
		if ph != nil {
			rep.phases = append(rep.phases, ph)
		}
		if err != nil {
			return rep, fmt.Errorf("fault %s: %w", name, err)
		}
	}
	rep.daemonExits = h.daemonExits
	return rep, nil
}

// phase runs one load of count messages at rate while one kind of fault
// strikes, then checks the end state.
func (h *harness) phase(ctx context.Context, i int, name string, count int, rate float64) (*phase, error) {
	o := h.o
	var prefix, title string
	for _, f := range append(allFaults, warmupFault) {
		if f.name == name {
			prefix, title = f.prefix, f.title
		}
	}
	ph := &phase{name: name, title: title, prefix: prefix}
	seed := o.seed*31 + uint64(i) + 1
	rng := rand.New(rand.NewPCG(seed, 0xfa017))
	var sendTime time.Duration
	if rate > 0 {
		sendTime = time.Duration(float64(count) / rate * float64(time.Second))
	}
	n := map[string]int{"kill": o.size.kills, "pg": o.size.pgCrashes, "redis": o.size.redisStops, "smsc": o.size.disconnects}[name]
	// The moments, relative to the load's first send: inside 10%–80% of the send time, in
	// order, at least a little apart so that each fault is recovered from before the next.
	moments := make([]time.Duration, n)
	for j := range moments {
		moments[j] = time.Duration((0.1 + 0.7*rng.Float64()) * float64(sendTime))
	}
	slices.Sort(moments)

	results := filepath.Join(h.dir, "load-"+name+".json")
	args := []string{"load",
		"--count", strconv.Itoa(count),
		"--rate", strconv.FormatFloat(rate, 'f', -1, 64),
		"--seed", strconv.FormatUint(seed, 10),
		"--prefix", prefix,
		"--sender-base", strconv.Itoa((i + 1) * 10_000_000),
		"--out", results,
		"--bind-timeout", "90s",
		"--drain-timeout", "3m",
		"--reply-wait", "3m", // replies claimed by a killed daemon wait for its outbox lease (2m)
		"--hold",
	}
	if name == "smsc" {
		args = append(args, "--disconnects", strconv.Itoa(n))
	}
	h.logf("fault %s: %s; load seed %d", name, title, seed)
	load, lines, err := h.startLoad(args)
	if err != nil {
		return ph, err
	}
	defer load.stop(10 * time.Second)

	// Once the load's SMSCs listen, start a fresh daemon: each fault starts from the same
	// state, and its binds come up at once (a daemon whose binds were dropped at the end of
	// the previous load would wait out its reconnect backoff, up to a minute).
	// Then wait for the load to see the binds and start sending.
	var t0 time.Time
	for t0.IsZero() {
		select {
		case <-ctx.Done():
			return ph, ctx.Err()
		case l, ok := <-lines:
			if !ok {
				return ph, fmt.Errorf("smscsim load exited before sending (see %s)", load.log)
			}
			switch {
			case strings.Contains(l, "waiting up to"):
				h.stopDaemon()
				if err := h.startDaemon(); err != nil {
					return ph, err
				}
			case strings.HasPrefix(l, "load: bound; sending"):
				t0 = time.Now()
			}
		}
	}
	for _, m := range moments {
		if name == "smsc" {
			break // the load cuts its own connections, at moments from its seed
		}
		if err := sleepCtx(ctx, time.Until(t0.Add(m))); err != nil {
			return ph, err
		}
		inj, err := h.inject(ctx, name, rng)
		ph.injections = append(ph.injections, inj)
		if err != nil {
			return ph, err
		}
	}

	// When the load's replies have settled, wait (bounded) until the database has no message
	// or reply in flight for its numbers, so that a reply resent after a crash (its lease
	// ran out) reaches the load and is counted; then let the load finish.
	settled := false
	for !settled {
		select {
		case <-ctx.Done():
			return ph, ctx.Err()
		case l, ok := <-lines:
			if !ok {
				settled = true // it ended on its own; its exit status tells why
				break
			}
			if strings.HasPrefix(l, "load: settled") {
				settled = true
				h.waitProcessed(ctx, prefix)
			}
		}
	}
	ph.peakRSS = h.daemonPeakRSS()
	load.closeStdin()
	go func() {
		for range lines {
		}
	}()
	if err := load.wait(ctx); err != nil {
		return ph, fmt.Errorf("smscsim load: %w (see %s)", err, load.log)
	}
	res, err := readResults(results)
	if err != nil {
		return ph, err
	}
	ph.load = res
	if name == "smsc" {
		for _, f := range res.Faults {
			ph.injections = append(ph.injections, injection{at: time.UnixMilli(f), restored: time.UnixMilli(f)})
		}
	}
	c, err := check(ctx, h.dsn(o.database), res)
	if err != nil {
		return ph, err
	}
	ph.check = c
	for k := range ph.injections {
		inj := &ph.injections[k]
		inj.firstAck = firstAckAfter(res.Acks, inj.at)
		inj.ready = h.ready.recovery(inj.at)
	}
	var sb strings.Builder
	printCheck(&sb, res, c)
	h.logf("fault %s: checked\n%s", name, sb.String())
	return ph, nil
}

// daemonPeakRSS is the running daemon's peak resident set (VmHWM, kB), or
// 0 when it cannot be read.
func (h *harness) daemonPeakRSS() int64 {
	h.daemonMu.Lock()
	d := h.daemon
	h.daemonMu.Unlock()
	if d == nil {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", d.pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// injection is one strike of a fault.
type injection struct {
	at       time.Time     // when the fault took effect
	restored time.Time     // when the harness undid it (restart); = at when nothing is undone
	down     time.Duration // how long it was held
	firstAck time.Duration // from the fault to the first ESME_ROK of a deliver_sm sent after it; -1: none
	ready    time.Duration // from the fault to /readyz 200 again; 0: never unready; -1: never ready
}

// inject strikes once.
func (h *harness) inject(ctx context.Context, name string, rng *rand.Rand) (injection, error) {
	var inj injection
	switch name {
	case "kill":
		h.daemonMu.Lock()
		h.killing = true
		d := h.daemon
		h.daemonMu.Unlock()
		d.kill()
		<-d.done
		inj.at = time.Now()
		inj.down = time.Duration(rng.Int64N(int64(time.Second)))
		h.logf("  kill -9 sms1708 (pid %d); restart in %s", d.pid, inj.down.Round(time.Millisecond))
		if err := sleepCtx(ctx, inj.down); err != nil {
			return inj, err
		}
		h.daemonMu.Lock()
		h.killing = false
		h.daemonMu.Unlock()
		if err := h.startDaemon(); err != nil {
			return inj, err
		}
		inj.restored = time.Now()
	case "pg":
		bin, err := pgBin()
		if err != nil {
			return inj, err
		}
		if err := h.asPostgres(ctx, filepath.Join(bin, "pg_ctl"), "-D", filepath.Join(h.o.servicesDir, "pg"), "stop", "-m", "immediate"); err != nil {
			return inj, fmt.Errorf("crash PostgreSQL: %w", err)
		}
		inj.at = time.Now()
		inj.down = time.Second + time.Duration(rng.Int64N(int64(2*time.Second)))
		h.logf("  PostgreSQL crashed (pg_ctl stop -m immediate); start in %s", inj.down.Round(time.Millisecond))
		if err := sleepCtx(ctx, inj.down); err != nil {
			return inj, err
		}
		if err := h.services(ctx); err != nil {
			return inj, fmt.Errorf("restart PostgreSQL: %w", err)
		}
		inj.restored = time.Now()
	case "redis":
		if err := h.command(ctx, "redis-cli", "-h", "127.0.0.1", "-p", strconv.Itoa(h.o.redisPort), "shutdown", "nosave"); err != nil && h.redisUp(ctx) {
			return inj, fmt.Errorf("stop Redis: %w", err)
		}
		inj.at = time.Now()
		inj.down = time.Second + time.Duration(rng.Int64N(int64(2*time.Second)))
		h.logf("  Redis stopped (shutdown nosave); start in %s", inj.down.Round(time.Millisecond))
		if err := sleepCtx(ctx, inj.down); err != nil {
			return inj, err
		}
		if err := h.services(ctx); err != nil {
			return inj, fmt.Errorf("restart Redis: %w", err)
		}
		inj.restored = time.Now()
	}
	return inj, nil
}

// firstAckAfter is the time from t to the first ack of a deliver_sm attempt sent at or
// after t: proof that the whole path (bind, ingest, commit) works again.
func firstAckAfter(acks [][2]int64, t time.Time) time.Duration {
	ms := t.UnixMilli()
	best := int64(-1)
	for _, a := range acks {
		if a[0] >= ms && (best < 0 || a[1] < best) {
			best = a[1]
		}
	}
	if best < 0 {
		return -1
	}
	return time.Duration(best-ms) * time.Millisecond
}

// waitProcessed waits until none of the numbers' messages is pending and none of their
// replies is pending or being sent, bounded by the size's settle time. A reply claimed by a
// dispatcher that crashed comes back only when its lease runs out (2 minutes by default).
func (h *harness) waitProcessed(ctx context.Context, prefix string) {
	ctx, cancel := context.WithTimeout(ctx, h.o.size.settle)
	defer cancel()
	var n int
	var err error
	for {
		n, err = h.inFlight(ctx, prefix)
		if err == nil && n == 0 {
			return
		}
		select {
		case <-ctx.Done():
			h.logf("  %d messages or replies still in flight after %s (%v); checking now, they count as pending", n, h.o.size.settle, err)
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// analyze gathers the statistics of the whole database (ANALYZE), which
// also makes every session plan its cached statements again.
func (h *harness) analyze(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, h.dsn(h.o.database))
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, "ANALYZE")
	return err
}

func (h *harness) inFlight(ctx context.Context, prefix string) (int, error) {
	conn, err := pgx.Connect(ctx, h.dsn(h.o.database))
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var n int
	like := "[" + prefix + "-%"
	err = conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM messages WHERE state = 'pending' AND text LIKE $1)
		+ (SELECT count(*) FROM outbox WHERE state IN ('pending', 'sending')
		   AND dest_addr IN (SELECT source FROM messages WHERE text LIKE $1))`, like).Scan(&n)
	return n, err
}

// Services and the database.

func (h *harness) services(ctx context.Context) error {
	return h.script(ctx, "scripts/services.sh", "start")
}

func (h *harness) pgUp(ctx context.Context) bool {
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, h.dsn("postgres"))
	if err != nil {
		return false
	}
	conn.Close(cctx)
	return true
}

func (h *harness) redisUp(ctx context.Context) bool {
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	out, err := exec.CommandContext(cctx, "redis-cli", "-h", "127.0.0.1", "-p", strconv.Itoa(h.o.redisPort), "ping").Output()
	return err == nil && strings.TrimSpace(string(out)) == "PONG"
}

func (h *harness) freshDatabase(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", h.o.pgPort))
	if err != nil {
		return fmt.Errorf("fresh database: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	db := pgx.Identifier{h.o.database}.Sanitize()
	for _, q := range []string{"DROP DATABASE IF EXISTS " + db + " WITH (FORCE)", "CREATE DATABASE " + db + " OWNER sms1708"} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("fresh database: %s: %w", q, err)
		}
	}
	h.logf("fresh database %s on 127.0.0.1:%d", h.o.database, h.o.pgPort)
	return nil
}

// pgBin finds the newest PostgreSQL server binaries, as scripts/services.sh does.
func pgBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		return atoi(filepath.Base(filepath.Dir(a))) - atoi(filepath.Base(filepath.Dir(b)))
	})
	if len(dirs) == 0 {
		return "", errors.New("no /usr/lib/postgresql/*/bin (scripts/services.sh installs it)")
	}
	return dirs[len(dirs)-1], nil
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// asPostgres runs a PostgreSQL server command as the postgres user when we are root (pg_ctl
// refuses root), as scripts/services.sh does.
func (h *harness) asPostgres(ctx context.Context, name string, args ...string) error {
	if os.Getuid() == 0 {
		return h.command(ctx, "runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
	}
	return h.command(ctx, name, args...)
}

func (h *harness) script(ctx context.Context, name string, args ...string) error {
	return h.command(ctx, name, args...)
}

// command runs a short command in the repo with the run's environment, bounded by ctx and
// two minutes, its output going to the run's log.
func (h *harness) command(ctx context.Context, name string, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = h.o.root
	cmd.Env = append(os.Environ(), h.env()...)
	f, err := os.OpenFile(filepath.Join(h.dir, "commands.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintf(f, "$ %s %s\n", name, strings.Join(args, " "))
	var tail tailBuffer
	cmd.Stdout = io.MultiWriter(f, &tail)
	cmd.Stderr = io.MultiWriter(f, &tail)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, tail.String())
	}
	return nil
}

// tailBuffer keeps the last few KiB written to it, for error messages.
type tailBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > 4096 {
		t.b = t.b[len(t.b)-4096:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// Processes.

// proc is a child in a process group of its own.
type proc struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser // nil unless asked for
	pid     int
	log     string
	pidFile string
	done    chan struct{}
	err     error
}

func (h *harness) start(name, pidFile string, stdout io.Writer, withStdin bool, args ...string) (*proc, error) {
	logPath := filepath.Join(h.dir, filepath.Base(name)+".log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(name, args...)
	cmd.Dir = h.o.root
	cmd.Env = append(os.Environ(), h.env()...)
	cmd.Stderr = f
	cmd.Stdout = f
	if stdout != nil {
		cmd.Stdout = stdout
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stdin io.WriteCloser
	if withStdin {
		if stdin, err = cmd.StdinPipe(); err != nil {
			f.Close()
			return nil, fmt.Errorf("start %s: %w", name, err)
		}
	}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{cmd: cmd, stdin: stdin, pid: cmd.Process.Pid, log: logPath, pidFile: pidFile, done: make(chan struct{})}
	_ = os.WriteFile(pidFile, []byte(strconv.Itoa(p.pid)+"\n"), 0o644)
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

// closeStdin closes the child's stdin (smscsim load --hold then finishes).
func (p *proc) closeStdin() {
	if p.stdin != nil {
		_ = p.stdin.Close()
	}
}

// kill sends SIGKILL to the whole process group.
func (p *proc) kill() { _ = syscall.Kill(-p.pid, syscall.SIGKILL) }

// stop asks the process group to stop (SIGTERM), then kills it after grace.
func (p *proc) stop(grace time.Duration) {
	select {
	case <-p.done:
	default:
		_ = syscall.Kill(-p.pid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
			p.kill()
			<-p.done
		}
	}
	// Anything left in the group (there should be nothing) goes too.
	_ = syscall.Kill(-p.pid, syscall.SIGKILL)
	_ = os.Remove(p.pidFile)
}

func (p *proc) wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-p.done:
		return p.err
	}
}

// lockRun takes the run lock of dir (an exclusive flock on dir/run.lock),
// or says that another run holds it. The kernel lets the lock go when its
// holder exits, however it ends, so a run killed outright never blocks the
// next one.
func lockRun(dir string) (release func(), err error) {
	path := filepath.Join(dir, "run.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("run lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another chaos run is in progress with %s (it holds %s); wait for it to end", dir, path)
		}
		return nil, fmt.Errorf("run lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}

// stopPidFile stops a process left by an earlier run, if the pid still names that program.
func stopPidFile(path, prog string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	pid := atoi(strings.TrimSpace(string(b)))
	if pid <= 1 {
		return
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err == nil && strings.Contains(string(cmdline), prog) {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	_ = os.Remove(path)
}

func (h *harness) startDaemon() error {
	p, err := h.start(filepath.Join(h.o.root, "bin", "sms1708"), filepath.Join(h.o.servicesDir, "chaos", "daemon.pid"), nil, false,
		"serve", "--config", h.o.config)
	if err != nil {
		return err
	}
	h.daemonMu.Lock()
	h.daemon = p
	h.killing = false
	h.daemonMu.Unlock()
	// A daemon that dies on its own is a finding: count it, and start it again so that the
	// run can go on (the load keeps redelivering meanwhile).
	go func() {
		<-p.done
		h.daemonMu.Lock()
		defer h.daemonMu.Unlock()
		if h.daemon != p || h.killing {
			return
		}
		h.daemonExits++
		h.logf("sms1708 (pid %d) exited on its own: %v; restarting it (see %s)", p.pid, p.err, p.log)
		h.daemonMu.Unlock()
		err := h.startDaemon()
		h.daemonMu.Lock()
		if err != nil {
			h.logf("restart sms1708: %v", err)
		}
	}()
	return nil
}

func (h *harness) stopDaemon() {
	h.daemonMu.Lock()
	h.killing = true // an exit from now on is ours
	d := h.daemon
	h.daemonMu.Unlock()
	if d != nil {
		d.stop(20 * time.Second)
	}
}

// startLoad starts smscsim load and returns its stdout lines (also written to its log).
func (h *harness) startLoad(args []string) (*proc, <-chan string, error) {
	pr, pw := io.Pipe()
	p, err := h.start(filepath.Join(h.o.root, "bin", "smscsim"), filepath.Join(h.o.servicesDir, "chaos", "load.pid"), pw, true, args...)
	if err != nil {
		pw.Close()
		return nil, nil, err
	}
	go func() { <-p.done; pw.Close() }()
	lines := make(chan string, 64)
	logf, _ := os.OpenFile(filepath.Join(h.dir, "smscsim-stdout.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	go func() {
		defer close(lines)
		if logf != nil {
			defer logf.Close()
		}
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			l := sc.Text()
			if logf != nil {
				fmt.Fprintln(logf, l)
			}
			if strings.HasPrefix(l, "load: disconnect") || strings.HasPrefix(l, "load: bound") || strings.HasPrefix(l, "load: every") ||
				strings.Contains(l, "messages sent in") {
				h.logf("  %s", l)
			}
			lines <- l
		}
	}()
	return p, lines, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func portOpen(port int) bool {
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// readyProbe polls /readyz and remembers every answer, to tell how long after a fault the
// daemon said it was ready again.
type readyProbe struct {
	url     string
	mu      sync.Mutex
	samples []readySample
}

type readySample struct {
	at time.Time // when the request started
	ok bool
}

func newReadyProbe(url string) *readyProbe { return &readyProbe{url: url} }

func (r *readyProbe) run(ctx context.Context) {
	// /readyz bounds its own checks at 2s; a slower answer is still an answer.
	client := &http.Client{Timeout: 3 * time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		at := time.Now()
		ok := false
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
		if resp, err := client.Do(req); err == nil {
			ok = resp.StatusCode == http.StatusOK
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		r.mu.Lock()
		r.samples = append(r.samples, readySample{at, ok})
		r.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// recovery is the time from t to the first 200 after /readyz stopped answering 200; 0 when
// it never stopped; -1 when it never came back.
func (r *readyProbe) recovery(t time.Time) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	down := false
	for _, s := range r.samples {
		if s.at.Before(t) {
			continue
		}
		switch {
		case !s.ok:
			down = true
		case !down:
			return 0
		default:
			return s.at.Sub(t)
		}
	}
	return -1
}
