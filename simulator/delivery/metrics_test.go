package delivery

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// series reads every gathered sample as name{label=value,...} -> value;
// a histogram gives its sample count.
func series(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.Metric {
			var labels []string
			for _, l := range m.Label {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			slices.Sort(labels)
			name := f.GetName() + "{" + strings.Join(labels, ",") + "}"
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				out[name] = m.Counter.GetValue()
			case dto.MetricType_HISTOGRAM:
				out[name] = float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return out
}

func TestMetricsAfterAKnownSequence(t *testing.T) {
	ctx := context.Background()
	d, clock, m, url := setup(t)
	reg := prometheus.NewRegistry()
	d.Metrics = NewMetrics(reg)
	// A purchase that fails four times, a release that fails five times
	// and is then restarted successfully, and a probe that fails once.
	probe := newInstanceMessage("03", "run1", url, t0)
	probe.Kind = simulator.KindDialTest
	if err := d.Store.Enqueue(ctx, newInstanceMessage("01", "CS1", url, t0), releaseMessage("02", url), probe); err != nil {
		t.Fatal(err)
	}
	for step := 0; step <= 12; step++ { // every 15 minutes for 3 hours
		advance(t, d, clock, t0.Add(time.Duration(step)*15*time.Minute))
	}
	m.Down(false)
	if _, err := d.Restart(ctx, "02"); err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		"kgsim_callbacks_total{activity=newInstance,verdict=HTTP_STATUS}":                                 4 + 1,
		"kgsim_callbacks_total{activity=releaseInstance,verdict=HTTP_STATUS}":                             5,
		"kgsim_callbacks_total{activity=releaseInstance,verdict=SUCCESS}":                                 1,
		"kgsim_callback_duration_seconds{activity=newInstance}":                                           5,
		"kgsim_callback_duration_seconds{activity=releaseInstance}":                                       6,
		"kgsim_retries_exhausted_total{activity=newInstance,outcome=ORDER_FAILED_UNSUBSCRIBED}":           1,
		"kgsim_retries_exhausted_total{activity=releaseInstance,outcome=STOPPED_AWAITING_MANUAL_RESTART}": 1,
		"kgsim_notices_total{kind=ATTEMPT_FAILED}":                                                        4 + 5,
		"kgsim_notices_total{kind=FINAL}":                                                                 2,
	}
	got := series(t, reg)
	for name, v := range want {
		if got[name] != v {
			t.Errorf("%s = %v, want %v", name, got[name], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("series %v, want exactly %v", got, want)
	}
	// The notices counted are the notices stored.
	if ns, _ := d.Store.Notices(ctx, simulator.NoticeFilter{}); len(ns) != 4+5+2 {
		t.Errorf("%d notices stored, want 11", len(ns))
	}
}
