package dialtest

import "github.com/prometheus/client_golang/prometheus"

// Metrics counts dial-test runs and failed probes by product.
type Metrics struct {
	runs     *prometheus.CounterVec
	failures *prometheus.CounterVec
}

// NewMetrics registers the dial-test metrics with reg. It panics if they
// are registered already, which is a wiring mistake.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kgsim_dial_test_runs_total",
			Help: "Dial-test runs judged, by product and result (passed or failed).",
		}, []string{"product", "result"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kgsim_dial_test_failures_total",
			Help: "Dial-test probes (replayed debug cases) that failed, by product.",
		}, []string{"product"}),
	}
	reg.MustRegister(m.runs, m.failures)
	return m
}

// judged counts a run that ended with failed probes out of its probes.
func (m *Metrics) judged(product string, failed int) {
	if m == nil {
		return
	}
	result := "passed"
	if failed > 0 {
		result = "failed"
	}
	m.runs.WithLabelValues(product, result).Inc()
	m.failures.WithLabelValues(product).Add(float64(failed))
}
