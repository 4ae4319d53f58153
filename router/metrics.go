package router

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Metrics are the router's Prometheus series.
type Metrics struct {
	messages       *prometheus.CounterVec
	tickets        prometheus.Counter
	processSeconds prometheus.Histogram
	processErrors  prometheus.Counter
	mt             *prometheus.CounterVec
}

// MT outcomes (a fixed set: a metric label).
const (
	MTSent    = "sent"
	MTRetry   = "retry"
	MTFailed  = "failed"
	MTNoRoute = "no_route"
)

// NewMetrics registers the router's series on reg. Operators are named so
// that the MT series exist at zero for each from the start.
func NewMetrics(reg prometheus.Registerer, operators []string) *Metrics {
	f := promauto.With(reg)
	m := &Metrics{
		messages: f.NewCounterVec(prometheus.CounterOpts{
			Name: "sms1708_router_messages_total",
			Help: "Messages processed, by outcome.",
		}, []string{"outcome"}),
		tickets: f.NewCounter(prometheus.CounterOpts{
			Name: "sms1708_router_tickets_created_total",
			Help: "Tickets created.",
		}),
		processSeconds: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "sms1708_router_process_batch_seconds",
			Help:    "Time to process one batch of messages in one transaction.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		processErrors: f.NewCounter(prometheus.CounterOpts{
			Name: "sms1708_router_process_errors_total",
			Help: "Processing transactions that failed and will be retried.",
		}),
		mt: f.NewCounterVec(prometheus.CounterOpts{
			Name: "sms1708_router_mt_total",
			Help: "Outbox sends by operator and outcome.",
		}, []string{"operator", "outcome"}),
	}
	for _, o := range Outcomes {
		m.messages.WithLabelValues(o)
		m.messages.WithLabelValues(o + HeldSuffix)
	}
	for _, op := range operators {
		for _, o := range []string{MTSent, MTRetry, MTFailed, MTNoRoute} {
			m.mt.WithLabelValues(op, o)
		}
	}
	return m
}
