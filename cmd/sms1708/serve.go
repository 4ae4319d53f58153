package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sp4n-lapor/sms1708/router"
	"github.com/sp4n-lapor/sms1708/smpp"
	"github.com/sp4n-lapor/sms1708/store"
)

// The wiring is checked at compile time.
var (
	_ router.Store  = (*store.DB)(nil)
	_ router.Outbox = (*store.DB)(nil)
	_ router.Sender = (*smpp.Operator)(nil)
	// The dispatcher asks a sender whether it can send at all through this
	// optional method; a rename would silently turn the check off.
	_ interface{ CanSend() bool } = (*smpp.Operator)(nil)
	_ smpp.Budget                 = (*store.Redis)(nil)
	_ router.Counter              = (*store.Redis)(nil)
	_ smpp.Handler                = (*moHandler)(nil)
)

// daemon is a running sms1708: what serve builds, and what tests inspect.
type daemon struct {
	cfg       *Config
	logger    *slog.Logger
	reg       *prometheus.Registry
	db        *store.DB
	stm       *store.Metrics
	redis     *store.Redis
	ingest    *store.Ingest
	assembler *store.Assembler
	receipts  *store.ReceiptMatcher
	processor *router.Processor
	dispatch  *router.Dispatcher
	operators []*smpp.Operator
	http      *http.Server
	httpAddr  net.Addr
	ready     chan struct{} // closed once everything is started

	reloadOK, reloadTime prometheus.Gauge
}

func serve(ctx context.Context, args []string, stderr io.Writer, hup <-chan os.Signal) error {
	path, err := configFlag("serve", args)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(path)
	if err != nil {
		return err
	}
	d := &daemon{cfg: cfg, logger: newLogger(stderr), ready: make(chan struct{})}
	return d.run(ctx, hup)
}

// run starts every part, waits for ctx, then shuts down in order:
//  1. the SMPP binds stop taking new PDUs and drain: every MO already handed
//     to the ingest is committed and answered, then each bind unbinds;
//  2. the ingest flushes what it still holds;
//  3. the assembler, the receipt matcher, the processor and the dispatcher
//     finish their current batch (a part left unassembled or a receipt left
//     unmatched is found by the next start's sweep);
//  4. the HTTP server, Redis and PostgreSQL close.
//
// A run group (oklog/run) interrupts all actors at once; the promise "ack
// only after commit" needs this order instead, so the stages are explicit.
func (d *daemon) run(ctx context.Context, hup <-chan os.Signal) error {
	cfg, logger := d.cfg, d.logger
	d.reg = prometheus.NewRegistry()
	d.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	d.reloadOK = promauto.With(d.reg).NewGauge(prometheus.GaugeOpts{
		Name: "sms1708_config_last_reload_successful",
		Help: "1 when the last configuration reload (SIGHUP) succeeded, 0 when it was refused.",
	})
	d.reloadTime = promauto.With(d.reg).NewGauge(prometheus.GaugeOpts{
		Name: "sms1708_config_last_reload_success_timestamp_seconds",
		Help: "When the configuration was last loaded successfully.",
	})
	d.reloadOK.Set(1)
	d.reloadTime.SetToCurrentTime()

	// PostgreSQL is the source of truth: nothing starts before the schema
	// is current. Retry while it is unreachable, so that the daemon and its
	// database may start in any order.
	db, err := store.Open(ctx, string(cfg.Database.URL), logger.With("component", "store"))
	if err != nil {
		return err
	}
	d.db = db
	defer db.Close()
	db.SetSubmitIDNormalizer(cfg.submitIDNormalizer())
	db.SetInstance(cfg.instanceName())
	if err := retry(ctx, logger, "migrate database", func() error { return db.Migrate(ctx) }); err != nil {
		return err
	}
	// Redis holds only what is expendable: the daemon starts without it,
	// counts limits locally, and says so in /readyz and the metrics.
	rdb, err := store.NewRedis(string(cfg.Redis.URL))
	if err != nil {
		return err
	}
	if err := rdb.Ping(ctx); err != nil {
		logger.Warn("redis unreachable at start: running degraded (local limits)", "err", err)
	}
	d.redis = rdb
	defer rdb.Close()

	names := make([]string, len(cfg.Operators))
	for i, o := range cfg.Operators {
		names[i] = o.Name
	}
	rm := router.NewMetrics(d.reg, names)
	sm := smpp.NewMetrics(d.reg)
	stm := store.NewMetrics(d.reg)
	stm.SetOperators(names)
	d.stm = stm

	senders := make(map[string]router.Sender, len(cfg.Operators))
	// The parts refer to each other in a ring (binds → ingest → processor
	// → dispatcher → binds); the processor wakes the dispatcher through a
	// closure so that the dispatcher can be built last.
	d.processor = router.NewProcessor(db, router.ProcessorConfig{ShortCode: cfg.ShortCode, TriageID: cfg.TriageID},
		cfg.templates, rm, logger.With("component", "router"), func() { d.dispatch.Notify() })
	d.processor.SetClassifier(cfg.classifier)
	d.processor.SetFlood(router.NewFlood(router.FloodLimits{PerMinute: cfg.Flood.PerMinute, PerDay: cfg.Flood.PerDay},
		rdb, d.reg, logger.With("component", "flood")))
	d.ingest = store.NewIngest(db, cfg.ingestConfig(), stm, logger.With("component", "ingest"), d.processor.Notify)
	d.assembler = store.NewAssembler(db, cfg.assemblerConfig(), stm, logger.With("component", "assembly"), d.processor.Notify)
	d.ingest.OnParts(d.assembler.Notify)
	d.receipts = store.NewReceiptMatcher(db, store.ReceiptMatcherConfig{}, stm, logger.With("component", "receipts"))
	d.ingest.OnReceipts(d.receipts.Notify)
	for _, oc := range cfg.Operators {
		h := newMOHandler(d.ingest, oc)
		op, err := smpp.NewOperator(oc.smppConfig(), h, smpp.Options{
			Logger:  logger.With("component", "smpp", "operator", oc.Name),
			Metrics: sm,
			Budget:  rdb,
		})
		if err != nil {
			return fmt.Errorf("operator %s: %w", oc.Name, err)
		}
		d.operators = append(d.operators, op)
		senders[oc.Name] = op
	}
	d.dispatch = router.NewDispatcher(db, senders, router.DispatcherConfig{}, rm, logger.With("component", "dispatcher"))
	// Replies go from processing to sending without a claim (router.Handoff).
	d.processor.SetHandoff(d.dispatch)

	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("http: %w", err)
	}
	d.httpAddr = ln.Addr()
	d.http = &http.Server{Handler: d.routes(), ReadHeaderTimeout: 5 * time.Second}

	// Each stage has its own context so that it can be stopped in order.
	var (
		opsCtx, stopOps         = context.WithCancel(context.WithoutCancel(ctx))
		ingestCtx, stopIngest   = context.WithCancel(context.WithoutCancel(ctx))
		workCtx, stopWork       = context.WithCancel(context.WithoutCancel(ctx))
		opsWG, ingestWG, workWG sync.WaitGroup
		httpErr                 = make(chan error, 1)
	)
	defer stopOps()
	defer stopIngest()
	defer stopWork()
	goWG := func(wg *sync.WaitGroup, f func()) { wg.Add(1); go func() { defer wg.Done(); f() }() }

	go func() { httpErr <- d.http.Serve(ln) }()
	goWG(&workWG, func() { _ = d.processor.Run(workCtx) })
	goWG(&workWG, func() { _ = d.assembler.Run(workCtx) })
	goWG(&workWG, func() { _ = d.receipts.Run(workCtx) })
	goWG(&workWG, func() { _ = d.dispatch.Run(workCtx) })
	goWG(&workWG, func() { d.db.WatchOutbox(workCtx, d.stm, 5*time.Second) })
	goWG(&workWG, func() { d.db.AnalyzeGrowing(workCtx, 2*time.Second) })
	goWG(&ingestWG, func() { _ = d.ingest.Run(ingestCtx) })
	for _, op := range d.operators {
		goWG(&opsWG, func() {
			if err := op.Run(opsCtx); err != nil {
				logger.Error("operator stopped", "operator", op.Name(), "err", err)
			}
		})
	}
	logger.Info("sms1708 started", "http", d.httpAddr.String(), "operators", names)
	close(d.ready)

	var runErr error
wait:
	for {
		select {
		case <-ctx.Done():
			break wait
		case err := <-httpErr:
			runErr = fmt.Errorf("http: %w", err)
			break wait
		case <-hup:
			d.reload()
		}
	}

	grace := time.Duration(cfg.Shutdown.Grace)
	logger.Info("shutting down", "grace", grace.String())
	deadline := time.Now().Add(grace)
	waitFor := func(stage string, wg *sync.WaitGroup) {
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(time.Until(deadline)):
			logger.Warn("shutdown stage did not finish within the grace period", "stage", stage)
		}
	}
	stopOps()
	waitFor("smpp", &opsWG)
	stopIngest()
	waitFor("ingest", &ingestWG)
	stopWork()
	waitFor("router", &workWG)
	hctx, cancel := context.WithTimeout(context.Background(), time.Until(deadline)+time.Second)
	defer cancel()
	if err := d.http.Shutdown(hctx); err != nil {
		logger.Warn("http shutdown", "err", err)
	}
	logger.Info("sms1708 stopped")
	return runErr
}

// reload re-reads the configuration on SIGHUP and swaps what can change
// live (the reply templates). A bad file keeps the running configuration.
func (d *daemon) reload() {
	cfg, err := loadConfig(d.cfg.path)
	if err != nil {
		d.reloadOK.Set(0)
		d.logger.Error("reload: keeping the running configuration", "err", err)
		return
	}
	// Both were validated by loadConfig; messages in flight finish with
	// the old ones, the next batch uses the new ones.
	d.processor.SetTemplates(cfg.templates)
	d.processor.SetClassifier(cfg.classifier)
	d.reloadOK.Set(1)
	d.reloadTime.SetToCurrentTime()
	d.logger.Info("reload: reply templates and routing updated")
}

// retry calls f until it succeeds or ctx ends, backing off up to 10s.
func retry(ctx context.Context, logger *slog.Logger, what string, f func() error) error {
	wait := 250 * time.Millisecond
	for {
		err := f()
		if err == nil {
			return nil
		}
		logger.Warn(what+": retrying", "err", err, "in", wait.String())
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", what, err)
		case <-time.After(wait):
		}
		wait = min(2*wait, 10*time.Second)
	}
}

func (d *daemon) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.reg, promhttp.HandlerOpts{Registry: d.reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", d.readyz)
	// Profiles for the operations staff, on the same loopback listener as
	// /metrics: nothing in them is a citizen's data.
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return mux
}

// readyz says whether this instance can take SMS: PostgreSQL answers and
// at least one bind is up. Redis down is reported but does not make the
// instance unready: it only holds what is expendable (DESIGN.md).
func (d *daemon) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	type check struct {
		OK     bool   `json:"ok"`
		Detail string `json:"detail,omitempty"`
	}
	checks := map[string]check{}
	ready := true
	if err := d.db.Ping(ctx); err != nil {
		checks["postgres"] = check{false, "unreachable"}
		ready = false
	} else {
		checks["postgres"] = check{OK: true}
	}
	if err := d.redis.Ping(ctx); err != nil {
		checks["redis"] = check{false, "unreachable: degraded"}
	} else {
		checks["redis"] = check{OK: true}
	}
	up := 0
	for _, op := range d.operators {
		n := op.BindsUp()
		up += n
		c := check{OK: n > 0}
		if n == 0 {
			c.Detail = "no bind up"
		}
		checks["smpp_"+op.Name()] = c
	}
	if up == 0 {
		ready = false
	}
	w.Header().Set("Content-Type", "application/json")
	if !ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"ready": ready, "checks": checks})
}
