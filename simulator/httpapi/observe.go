package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"
	"github.com/kgsim/kgsim/simulator"
	"github.com/prometheus/client_golang/prometheus"
)

// unmatched is the route label of requests no route matched: their raw
// paths would make the label's values unbounded.
const unmatched = "unmatched"

// httpMetrics counts and times requests by route template.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// outboxTimeout bounds one scrape's count of the outbox; the handler's
// MaxRequestsInFlight bounds how many run at once.
const outboxTimeout = 2 * time.Second

func newHTTPMetrics(reg prometheus.Registerer, store simulator.OutboxTx, log *slog.Logger) (*httpMetrics, error) {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kgsim_http_requests_total",
			Help: "HTTP requests answered, by route template, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kgsim_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route template.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
	}
	// The depth is counted through the pending-messages index, so a scrape
	// costs the depth, not the history; a store that does not answer in
	// time gives NaN (unknown) rather than a stale or zero value.
	depth := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "kgsim_outbox_depth",
		Help: "Callbacks not yet delivered, stopped or failed: the outbox's pending messages.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), outboxTimeout)
		defer cancel()
		n, err := store.Pending(ctx)
		if err != nil {
			log.Error("counting the outbox for /metrics failed", "err", err)
			return math.NaN()
		}
		return float64(n)
	})
	for _, c := range []prometheus.Collector{m.requests, m.duration, depth} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("registering the HTTP metrics: %w", err)
		}
	}
	return m, nil
}

// requestKey holds a request's facts in its context, filled as the request
// goes through: the router writes the matched route into it.
type requestKey struct{}

type requestFacts struct {
	id    string
	route string
}

func factsOf(r *http.Request) *requestFacts {
	if f, ok := r.Context().Value(requestKey{}).(*requestFacts); ok {
		return f
	}
	return &requestFacts{route: unmatched}
}

func routeOf(r *http.Request) string   { return factsOf(r).route }
func requestID(r *http.Request) string { return factsOf(r).id }

// nameRoute is router middleware: it records the matched route's template
// for the metrics and the access log, which are written outside the router.
func nameRoute(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if t, err := mux.CurrentRoute(r).GetPathTemplate(); err == nil {
			factsOf(r).route = t
		}
		next.ServeHTTP(w, r)
	})
}

// recorder remembers the status and size of an answer.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (rec *recorder) WriteHeader(status int) {
	if rec.status == 0 {
		rec.status = status
	}
	rec.ResponseWriter.WriteHeader(status)
}

func (rec *recorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	n, err := rec.ResponseWriter.Write(b)
	rec.bytes += n
	return n, err
}

func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

// observe wraps the whole router: every request, matched or not, gets a
// request ID, is counted, timed and logged, and a panic becomes a 500. The
// log line names the route, path and status, never a body or a query
// (which is where a careless client would put a secret).
func (a *api) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		facts := &requestFacts{id: newRequestID(), route: unmatched}
		r = r.WithContext(context.WithValue(r.Context(), requestKey{}, facts))
		rec := &recorder{ResponseWriter: w}
		rec.Header().Set("X-Request-Id", facts.id)
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				a.log.ErrorContext(r.Context(), "handler panicked", "route", facts.route, "requestId", facts.id, "panic", fmt.Sprint(p))
				if rec.status == 0 {
					a.writeError(rec, r, errors.New("panic"))
				}
			}
			elapsed := time.Since(start)
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			a.metrics.requests.WithLabelValues(facts.route, methodLabel(r.Method), strconv.Itoa(status)).Inc()
			a.metrics.duration.WithLabelValues(facts.route).Observe(elapsed.Seconds())
			level := slog.LevelInfo
			if facts.route == "/metrics" || facts.route == "/healthz" {
				level = slog.LevelDebug // every few seconds, from a machine
			}
			a.log.LogAttrs(r.Context(), level, "http request",
				slog.String("requestId", facts.id), slog.String("method", r.Method), slog.String("route", facts.route),
				slog.String("path", r.URL.Path), slog.Int("status", status), slog.Int("bytes", rec.bytes),
				slog.Duration("elapsed", elapsed), slog.String("remote", r.RemoteAddr))
		}()
		next.ServeHTTP(rec, r)
	})
}

// methodLabel is a request's method as a label value: a client may send
// any token as a method, and each would be a new series.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}

// newRequestID returns 8 random bytes in hex: enough to find one request
// in a log.
func newRequestID() string {
	var b [8]byte
	rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}
