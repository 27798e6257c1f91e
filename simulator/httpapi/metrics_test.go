package httpapi

import (
	"net/http"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/kgsim/kgsim/simulator/schedule"
)

// scrape reads /metrics as Prometheus does.
func (w *world) scrape() map[string]*dto.MetricFamily {
	w.t.Helper()
	a := w.must(http.StatusOK, "GET", "/metrics", "")
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(a.body)))
	if err != nil {
		w.t.Fatalf("parsing /metrics: %v\n%s", err, a.body)
	}
	return fams
}

// value is the value of the sample of a family with exactly these labels;
// ok is false when there is none.
func value(fams map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		for _, l := range m.GetLabel() {
			if labels[l.GetName()] != l.GetValue() {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

func TestMetrics(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	w.catalogue()
	// The merchant is down for the first attempt and back for the retry
	// an hour later (newInstance: T0, +1h, +2h, +3h).
	w.merchant.Down(true)
	bought := w.must(http.StatusCreated, "POST", "/admin/v1/orders", `{"productId":"p1","customerId":"c1"}`)
	w.must(http.StatusOK, "POST", "/admin/v1/clock/advance", `{"by":"30m"}`)
	for range 2 {
		w.must(http.StatusOK, "GET", "/admin/v1/orders/"+bought.get("order.orderId").String(), "")
	}
	w.must(http.StatusOK, "GET", "/admin/v1/instances/"+bought.get("instance.instanceKey").String(), "")
	w.must(http.StatusNotFound, "GET", "/admin/v1/orders/CS404", "")
	w.must(http.StatusNotFound, "GET", "/no/such/path", "")
	w.must(http.StatusBadRequest, "GET", "/admin/v1/orders?limit=0", "")
	w.must(http.StatusMethodNotAllowed, "BREW", "/admin/v1/orders", "")

	fams := w.scrape()
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"kgsim_http_requests_total", map[string]string{"route": "/admin/v1/orders", "method": "POST", "status": "201"}, 1},
		{"kgsim_http_requests_total", map[string]string{"route": "/admin/v1/orders/{id}", "method": "GET", "status": "200"}, 2},
		{"kgsim_http_requests_total", map[string]string{"route": "/admin/v1/orders/{id}", "method": "GET", "status": "404"}, 1},
		{"kgsim_http_requests_total", map[string]string{"route": "/admin/v1/instances/{key}", "method": "GET", "status": "200"}, 1},
		{"kgsim_http_requests_total", map[string]string{"route": "/admin/v1/orders", "method": "GET", "status": "400"}, 1},
		{"kgsim_http_requests_total", map[string]string{"route": "/admin/v1/clock/advance", "method": "POST", "status": "200"}, 1},
		{"kgsim_http_requests_total", map[string]string{"route": "unmatched", "method": "GET", "status": "404"}, 1},
		{"kgsim_http_requests_total", map[string]string{"route": "unmatched", "method": "OTHER", "status": "405"}, 1},
		{"kgsim_http_requests_total", map[string]string{"route": "/admin/v1/products/{id}", "method": "PUT", "status": "201"}, 1},
		{"kgsim_http_request_duration_seconds", map[string]string{"route": "/admin/v1/orders/{id}"}, 3},
		{"kgsim_callbacks_total", map[string]string{"activity": "newInstance", "verdict": "HTTP_STATUS"}, 1},
		{"kgsim_outbox_depth", map[string]string{}, 1},
	}
	for _, c := range checks {
		if got, ok := value(fams, c.name, c.labels); !ok || got != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	if _, ok := value(fams, "kgsim_callbacks_total", map[string]string{"activity": "newInstance", "verdict": "SUCCESS"}); ok {
		t.Error("a success counted while the merchant was down")
	}
	for _, m := range fams["kgsim_http_requests_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "route" && (strings.Contains(l.GetValue(), "CS") || strings.Contains(l.GetValue(), "/no/")) {
				t.Errorf("a raw path as a route label: %q", l.GetValue())
			}
		}
	}

	w.merchant.Down(false)
	w.must(http.StatusOK, "POST", "/admin/v1/clock/advance", `{"by":"1h"}`)
	fams = w.scrape()
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"kgsim_callbacks_total", map[string]string{"activity": "newInstance", "verdict": "HTTP_STATUS"}, 1},
		{"kgsim_callbacks_total", map[string]string{"activity": "newInstance", "verdict": "SUCCESS"}, 1},
		{"kgsim_outbox_depth", map[string]string{}, 0},
		{"kgsim_http_requests_total", map[string]string{"route": "/admin/v1/clock/advance", "method": "POST", "status": "200"}, 2},
		{"kgsim_http_requests_total", map[string]string{"route": "/metrics", "method": "GET", "status": "200"}, 1},
	} {
		if got, ok := value(fams, c.name, c.labels); !ok || got != c.want {
			t.Errorf("after the retry: %s%v = %v (present %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
}
