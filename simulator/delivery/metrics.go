package delivery

import (
	"slices"

	"github.com/kgsim/kgsim/simulator"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts recorded attempts, their latency, exhausted retries and
// failure notices. An attempt rolled back (a settler failed) is not
// counted: the metrics agree with the attempt records.
type Metrics struct {
	callbacks *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	exhausted *prometheus.CounterVec
	notices   *prometheus.CounterVec
}

// NewMetrics registers the delivery metrics with reg. It panics if they
// are registered already, which is a wiring mistake.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		callbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kgsim_callbacks_total",
			Help: "Callback attempts recorded, by activity and verdict.",
		}, []string{"activity", "verdict"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kgsim_callback_duration_seconds",
			Help: "Time from sending a callback to its complete answer or failure, by activity.",
			// Up to the 5 s the V2 docs ask for and the 20 s timeout.
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 20},
		}, []string{"activity"}),
		exhausted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kgsim_retries_exhausted_total",
			Help: "Callbacks whose retries ran out, by activity and the outcome it led to.",
		}, []string{"activity", "outcome"}),
		notices: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kgsim_notices_total",
			Help: "Failure notices raised by callback attempts, by kind.",
		}, []string{"kind"}),
	}
	reg.MustRegister(m.callbacks, m.duration, m.exhausted, m.notices)
	return m
}

// recorded counts an attempt once it is committed with the notices it
// raised. Retries run out exactly when the final notice is raised.
func (m *Metrics) recorded(msg simulator.Message, a simulator.Attempt, notices []simulator.NoticeKind) {
	if m == nil {
		return
	}
	m.callbacks.WithLabelValues(msg.Activity, string(a.Verdict)).Inc()
	m.duration.WithLabelValues(msg.Activity).Observe(a.FinishedAt.Sub(a.StartedAt).Seconds())
	if slices.Contains(notices, simulator.NoticeFinal) {
		m.exhausted.WithLabelValues(msg.Activity, string(msg.Outcome)).Inc()
	}
	for _, k := range notices {
		m.notices.WithLabelValues(string(k)).Inc()
	}
}
