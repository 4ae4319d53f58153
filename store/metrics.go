package store

import (
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Ingest outcomes, the fixed label set of sms1708_ingest_records_total.
const (
	OutcomeCommitted  = "committed"  // stored; Done(nil)
	OutcomeDead       = "dead"       // stored as a dead letter; Done(ErrDeadLetter)
	OutcomeFailed     = "failed"     // not stored (or not known to be); Done(ErrNotCommitted or ErrClosed)
	OutcomeOverloaded = "overloaded" // refused at Submit; Done(ErrOverloaded)
)

// Metrics are the store's Prometheus metrics. Build them once per registry
// with NewMetrics and share them between the ingests of one process.
type Metrics struct {
	commitSeconds prometheus.Histogram
	batchRecords  prometheus.Histogram
	records       *prometheus.CounterVec
	queueDepth    prometheus.Gauge
	undecodable   prometheus.Counter

	partsPending       prometheus.Gauge
	assemblyTimeouts   prometheus.Counter
	assemblyCompleted  prometheus.Counter
	assemblyDuplicates prometheus.Counter
	assemblyLate       prometheus.Counter

	dlr          *prometheus.CounterVec
	dlrUnmatched prometheus.Gauge

	outboxRows   *prometheus.GaugeVec
	outboxOldest prometheus.Gauge
}

// DLR states, the fixed label set of sms1708_dlr_total: the SMPP 3.4
// §5.2.28 state names in lower case, "none" for a receipt that named no
// state, and "unparsable" for one without a message id.
var dlrStates = []string{"delivered", "undeliverable", "rejected", "expired", "deleted",
	"accepted", "enroute", "unknown", "none", "unparsable"}

// SetOperators creates the per-operator series at zero, so that they are
// there before the first receipt. Other operator names still count.
func (m *Metrics) SetOperators(names []string) {
	for _, op := range names {
		for _, st := range dlrStates {
			m.dlr.WithLabelValues(op, st)
		}
	}
}

// countDLR counts one committed receipt.
func (m *Metrics) countDLR(operator, state string, parsed bool) {
	st := "unparsable"
	if parsed {
		st = strings.ToLower(state)
		if st == "" {
			st = "none"
		} else if !slices.Contains(dlrStates, st) {
			st = "unknown"
		}
	}
	m.dlr.WithLabelValues(operator, st).Inc()
}

// OutboxRows returns the gauge of the replies not yet done in state
// (pending or sending), as WatchOutbox last set it.
func (m *Metrics) OutboxRows(state string) prometheus.Gauge {
	return m.outboxRows.WithLabelValues(state)
}

// NewMetrics registers the store's metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	m := &Metrics{
		commitSeconds: f.NewHistogram(prometheus.HistogramOpts{
			Name: "sms1708_ingest_commit_seconds",
			Help: "Time to store one ingest batch (one statement, committed), including waiting for a connection.",
			// A durable commit is a WAL flush: sub-millisecond on good
			// disks, tens of milliseconds on poor ones, seconds when
			// something is wrong.
			Buckets: []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .25, .5, 1, 2.5, 5},
		}),
		batchRecords: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "sms1708_ingest_batch_records",
			Help:    "Records per ingest flush; batching grows with the queue depth.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024},
		}),
		records: f.NewCounterVec(prometheus.CounterOpts{
			Name: "sms1708_ingest_records_total",
			Help: "Inbound records by outcome: committed, dead (stored as a dead letter), failed (not stored; the SMSC will retry), overloaded (queue full).",
		}, []string{"outcome"}),
		queueDepth: f.NewGauge(prometheus.GaugeOpts{
			Name: "sms1708_ingest_queue_records",
			Help: "Records waiting in the ingest queue.",
		}),
		undecodable: f.NewCounter(prometheus.CounterOpts{
			Name: "sms1708_ingest_undecodable_chars_total",
			Help: "Characters of committed MO that could not be decoded and were stored as U+FFFD (the raw PDU keeps the original bytes).",
		}),
		partsPending: f.NewGauge(prometheus.GaugeOpts{
			Name: "sms1708_assembly_parts_pending",
			Help: "Parts of long MO waiting for the rest of their message: not yet assembled, or in an open assembly. Counted in PostgreSQL, so every instance reports the same number.",
		}),
		assemblyTimeouts: f.NewCounter(prometheus.CounterOpts{
			Name: "sms1708_assembly_timeouts_total",
			Help: "Long MO made into a message with gap markers because parts were missing after the timeout (or their reference was reused).",
		}),
		assemblyCompleted: f.NewCounter(prometheus.CounterOpts{
			Name: "sms1708_assembly_completed_total",
			Help: "Long MO assembled with every part.",
		}),
		assemblyDuplicates: f.NewCounter(prometheus.CounterOpts{
			Name: "sms1708_assembly_duplicate_parts_total",
			Help: "Parts byte-identical to one already assembled (redelivered); kept, not joined.",
		}),
		assemblyLate: f.NewCounter(prometheus.CounterOpts{
			Name: "sms1708_assembly_late_parts_total",
			Help: "Parts that arrived after their message was made with a gap; they joined its text or its ticket.",
		}),
		dlr: f.NewCounterVec(prometheus.CounterOpts{
			Name: "sms1708_dlr_total",
			Help: "Delivery receipts stored, by operator and the state they report (unparsable: no message id).",
		}, []string{"operator", "state"}),
		dlrUnmatched: f.NewGauge(prometheus.GaugeOpts{
			Name: "sms1708_dlr_unmatched_recent",
			Help: "Receipts of the last match window not matched to any outbox row (yet): receipts before their submit_sm_resp, or for messages we did not send.",
		}),
	}
	m.outboxRows = f.NewGaugeVec(prometheus.GaugeOpts{
		Name: "sms1708_outbox_rows",
		Help: "Replies not yet done, by state: pending (waiting for their first or next attempt) and sending (leased to a dispatcher). Counted in PostgreSQL, so every instance reports the same number.",
	}, []string{"state"})
	m.outboxOldest = f.NewGauge(prometheus.GaugeOpts{
		Name: "sms1708_outbox_oldest_seconds",
		Help: "Age of the oldest reply not yet done (pending or sending); 0 when there is none. Counted in PostgreSQL.",
	})
	for _, st := range []string{"pending", "sending"} {
		m.outboxRows.WithLabelValues(st)
	}
	for _, o := range []string{OutcomeCommitted, OutcomeDead, OutcomeFailed, OutcomeOverloaded} {
		m.records.WithLabelValues(o)
	}
	return m
}
