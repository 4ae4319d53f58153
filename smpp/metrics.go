package smpp

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Label values of the SMPP series; every one comes from a fixed set (never a number or text).
const (
	// bind_state_changes_total{state}
	stateBound  = "bound"  // a connection finished its bind
	stateClosed = "closed" // a bound connection went away (either side, or an error)
	stateFailed = "failed" // a dial or bind attempt failed (bind refused, timeout, TCP error)

	// bind_failures_total{reason}
	failDial         = "dial"          // TCP connect failed
	failTLS          = "tls"           // TLS handshake failed or timed out
	failTimeout      = "timeout"       // no bind_resp within BindTimeout
	failRefused      = "refused"       // bind_resp with an error status (password, system_id…)
	failAlreadyBound = "already_bound" // ESME_RALYBND: the SMSC still counts an old bind
	failClosed       = "closed"        // the connection closed before the bind_resp
	failOther        = "other"         // anything else (a write or deadline error)

	// pdus_total{direction}
	dirIn  = "in"
	dirOut = "out"

	// mo_received_total{kind}
	kindMO      = "mo"      // a citizen's message (or a part of one)
	kindReceipt = "receipt" // esm_class says delivery receipt or notification
	kindDead    = "dead"    // undecodable: handed over raw as a dead letter

	// submits_total{outcome}
	outcomeOK        = "ok"
	outcomeRejected  = "rejected"   // the SMSC answered with another error status
	outcomeThrottled = "throttled"  // ESME_RTHROTTLED
	outcomeQueueFull = "queue_full" // ESME_RMSGQFUL
	outcomeTimeout   = "timeout"    // no submit_sm_resp within ResponseTimeout
	outcomeLost      = "lost"       // the connection closed before the response
	outcomeCanceled  = "canceled"   // the caller gave up before the response
	outcomeError     = "error"      // could not be sent (encoding, undecodable response)
)

var (
	allStates   = []string{stateBound, stateClosed, stateFailed}
	allKinds    = []string{kindMO, kindReceipt, kindDead}
	allFailures = []string{failDial, failTLS, failTimeout, failRefused, failAlreadyBound, failClosed, failOther}
	allOutcomes = []string{outcomeOK, outcomeRejected, outcomeThrottled, outcomeQueueFull,
		outcomeTimeout, outcomeLost, outcomeCanceled, outcomeError}
	// The commands a session exchanges; pdus_total exists at zero for each.
	allCommands = []uint32{
		CmdBindTransceiver, CmdBindTransceiver | RespBit, CmdBindTransmitter, CmdBindTransmitter | RespBit,
		CmdBindReceiver, CmdBindReceiver | RespBit, CmdSubmitSM, CmdSubmitSM | RespBit,
		CmdDeliverSM, CmdDeliverSM | RespBit, CmdDataSM, CmdDataSM | RespBit,
		CmdEnquireLink, CmdEnquireLink | RespBit, CmdUnbind, CmdUnbind | RespBit, CmdGenericNack,
	}
)

// Metrics are the SMPP layer's Prometheus series. Build them once per registry with NewMetrics
// and share them between the operators of one process (the operator label tells them apart).
type Metrics struct {
	bindsUp          *prometheus.GaugeVec
	bindStateChanges *prometheus.CounterVec
	bindFailures     *prometheus.CounterVec
	reconnects       *prometheus.CounterVec
	pdus             *prometheus.CounterVec
	moReceived       *prometheus.CounterVec
	submits          *prometheus.CounterVec
	submitSeconds    *prometheus.HistogramVec
	windowInFlight   *prometheus.GaugeVec
	throttled        *prometheus.CounterVec
}

// NewMetrics registers the SMPP series on reg (nil: build them unregistered, as tests of other
// packages may want). NewOperator creates each operator's series at zero.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	return &Metrics{
		bindsUp: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sms1708_smpp_binds_up",
			Help: "Binds fully bound (a transceiver, or both halves of a transmitter+receiver pair).",
		}, []string{"operator"}),
		bindStateChanges: f.NewCounterVec(prometheus.CounterOpts{
			Name: "sms1708_smpp_bind_state_changes_total",
			Help: "Connection state changes: bound, closed, failed (dial or bind refused).",
		}, []string{"operator", "bind", "state"}),
		bindFailures: f.NewCounterVec(prometheus.CounterOpts{
			Name: "sms1708_smpp_bind_failures_total",
			Help: "Failed dial or bind attempts, by reason: dial, tls, timeout, refused, already_bound, closed, other.",
		}, []string{"operator", "bind", "reason"}),
		reconnects: f.NewCounterVec(prometheus.CounterOpts{
			Name: "sms1708_smpp_reconnects_total",
			Help: "Dial attempts after a connection closed or an attempt failed.",
		}, []string{"operator", "bind"}),
		pdus: f.NewCounterVec(prometheus.CounterOpts{
			Name: "sms1708_smpp_pdus_total",
			Help: "PDUs read (in) and written (out), by command.",
		}, []string{"operator", "command", "direction"}),
		moReceived: f.NewCounterVec(prometheus.CounterOpts{
			Name: "sms1708_smpp_mo_received_total",
			Help: "deliver_sm and data_sm handed to the handler: mo, receipt, or dead (undecodable).",
		}, []string{"operator", "kind"}),
		submits: f.NewCounterVec(prometheus.CounterOpts{
			Name: "sms1708_smpp_submits_total",
			Help: "submit_sm sent, by outcome.",
		}, []string{"operator", "outcome"}),
		submitSeconds: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sms1708_smpp_submit_seconds",
			Help:    "Time from writing submit_sm to its response.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"operator"}),
		windowInFlight: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sms1708_smpp_window_in_flight",
			Help: "submit_sm awaiting a response, per connection (at most the window).",
		}, []string{"operator", "bind"}),
		throttled: f.NewCounterVec(prometheus.CounterOpts{
			Name: "sms1708_smpp_throttled_total",
			Help: "submit_sm answered ESME_RTHROTTLED or ESME_RMSGQFUL; sending pauses.",
		}, []string{"operator"}),
	}
}

// opMetrics is Metrics curried for one operator. The series touched per PDU (pdus_total,
// mo_received_total, submits_total, submit_seconds, window_in_flight) are looked up once, by
// init, and kept: WithLabelValues hashes every label value and takes a lock on each call,
// which cost ~5% of the CPU per PDU.
type opMetrics struct {
	m  *Metrics
	op string

	pdus     map[uint32]*[2]prometheus.Counter // by command id: [in, out]
	kinds    map[string]prometheus.Counter     // mo_received_total by kind
	outcomes map[string]prometheus.Counter     // submits_total by outcome
	seconds  prometheus.Observer               // submit_seconds
	gauges   map[string]prometheus.Gauge       // window_in_flight by connection
	throttle prometheus.Counter
}

// newOpMetrics curries m for operator op and creates every series of the operator at zero,
// so that dashboards and alerts see them before the first event; conns names its connections.
func newOpMetrics(m *Metrics, op string, conns []string) *opMetrics {
	om := &opMetrics{
		m: m, op: op,
		pdus:     make(map[uint32]*[2]prometheus.Counter, len(allCommands)),
		kinds:    make(map[string]prometheus.Counter, len(allKinds)),
		outcomes: make(map[string]prometheus.Counter, len(allOutcomes)),
		gauges:   make(map[string]prometheus.Gauge, len(conns)),
	}
	m.bindsUp.WithLabelValues(op).Set(0)
	for _, c := range conns {
		for _, s := range allStates {
			m.bindStateChanges.WithLabelValues(op, c, s)
		}
		for _, r := range allFailures {
			m.bindFailures.WithLabelValues(op, c, r)
		}
		m.reconnects.WithLabelValues(op, c)
		g := m.windowInFlight.WithLabelValues(op, c)
		g.Set(0)
		om.gauges[c] = g
	}
	for _, c := range allCommands {
		om.pdus[c] = &[2]prometheus.Counter{
			m.pdus.WithLabelValues(op, CommandName(c), dirIn),
			m.pdus.WithLabelValues(op, CommandName(c), dirOut),
		}
	}
	for _, k := range allKinds {
		om.kinds[k] = m.moReceived.WithLabelValues(op, k)
	}
	for _, o := range allOutcomes {
		om.outcomes[o] = m.submits.WithLabelValues(op, o)
	}
	om.seconds = m.submitSeconds.WithLabelValues(op)
	om.throttle = m.throttled.WithLabelValues(op)
	return om
}

func (m *opMetrics) pdu(cmd uint32, dir string) {
	i := 0
	if dir == dirOut {
		i = 1
	}
	if c, ok := m.pdus[cmd]; ok {
		c[i].Inc()
		return
	}
	// A command outside the fixed set (an SMSC's query_sm, garbage): CommandName keeps the
	// label set fixed.
	m.m.pdus.WithLabelValues(m.op, CommandName(cmd), dir).Inc()
}

func (m *opMetrics) state(conn, state string) {
	m.m.bindStateChanges.WithLabelValues(m.op, conn, state).Inc()
}

func (m *opMetrics) bindFailure(conn, reason string) {
	m.m.bindFailures.WithLabelValues(m.op, conn, reason).Inc()
}

func (m *opMetrics) reconnect(conn string) { m.m.reconnects.WithLabelValues(m.op, conn).Inc() }

func (m *opMetrics) bindsUp(n int) { m.m.bindsUp.WithLabelValues(m.op).Set(float64(n)) }

func (m *opMetrics) inFlight(conn string, n int) {
	if g, ok := m.gauges[conn]; ok {
		g.Set(float64(n))
		return
	}
	m.m.windowInFlight.WithLabelValues(m.op, conn).Set(float64(n))
}

func (m *opMetrics) mo(kind string) {
	if c, ok := m.kinds[kind]; ok {
		c.Inc()
		return
	}
	m.m.moReceived.WithLabelValues(m.op, kind).Inc()
}

func (m *opMetrics) submit(outcome string, d time.Duration) {
	if c, ok := m.outcomes[outcome]; ok {
		c.Inc()
	} else {
		m.m.submits.WithLabelValues(m.op, outcome).Inc()
	}
	if d > 0 {
		m.seconds.Observe(d.Seconds())
	}
}

func (m *opMetrics) throttled() { m.throttle.Inc() }
