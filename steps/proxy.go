package steps

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/activity"
	"github.com/tidwall/gjson"
)

// fault is how the proxy makes the merchant look down.
type fault int

const (
	noFault     fault = iota
	unavailable       // answers 503 Service Unavailable
	refused           // drops the connection without an answer
)

// proxy stands between the marketplace and the merchant on loopback, so
// that a scenario can take the merchant down for a while (on the scheduling
// clock) without touching it. It forwards every request, as received, to
// the one URL the merchant configured, and its answer back unchanged. It
// never follows a redirect: a 3xx goes back to the marketplace, which
// judges it.
type proxy struct {
	server *http.Server
	ln     net.Listener
	target *url.URL
	clock  simulator.Clock
	tr     *http.Transport

	mu    sync.Mutex
	fault fault
	until time.Time // the fault ends here on the scheduling clock; zero: until lifted
	// holdNext holds the merchant's answer to the next purchase call
	// until the marketplace stops waiting; late is that answer's body,
	// nil when the merchant gave none before the marketplace hung up.
	holdNext bool
	late     []byte
	seen     []sighting
	// injected are the faults the scenario set, in words, for reports.
	injected []string
}

// sighting is a request the proxy received: when on the scheduling clock,
// the activity and order it named, and the request itself (its method
// and URL, which carry each attempt's own signature).
type sighting struct {
	at                       time.Time
	activity, order, request string
}

// startProxy listens on a free loopback port in front of target.
func startProxy(target string, clock simulator.Clock) (*proxy, error) {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
		return nil, errors.New("the merchant's URL " + target + " is not an absolute http(s) URL without a #fragment")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &proxy{ln: ln, target: u, clock: clock,
		tr: http.DefaultTransport.(*http.Transport).Clone()}
	forward := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			// Always the configured URL: its scheme, host and path; the
			// query is the marketplace's (which starts with the
			// configured one).
			r.Out.URL.Scheme, r.Out.URL.Host, r.Out.URL.Path, r.Out.URL.RawPath = u.Scheme, u.Host, u.Path, u.RawPath
			r.Out.Host = u.Host
		},
		Transport: p.tr,
		// A merchant that cannot be reached through the proxy must look
		// unreachable to the marketplace too, not like a proxy's 502.
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) { hangUp(w) },
	}
	p.server = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if name := p.note(r); name == string(activity.NewInstance) && p.takeHold() {
			p.hold(r)
			return
		}
		switch p.current() {
		case unavailable:
			http.Error(w, "merchant down for the scenario", http.StatusServiceUnavailable)
		case refused:
			hangUp(w)
		default:
			forward.ServeHTTP(w, r)
		}
	}), ReadHeaderTimeout: 10 * time.Second}
	go p.server.Serve(ln)
	return p, nil
}

// url is the production URL the marketplace is given: the proxy, with the
// merchant's path and query.
func (p *proxy) url() string {
	u := *p.target
	u.Scheme, u.Host, u.User = "http", p.ln.Addr().String(), nil
	return u.String()
}

// down makes the merchant look down with f until the scheduling clock
// reaches until (zero: until up is called).
func (p *proxy) down(f fault, until time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fault, p.until = f, until
	what := map[fault]string{unavailable: "answered 503 Service Unavailable", refused: "refused every connection"}[f]
	if what == "" {
		return
	}
	if until.IsZero() {
		p.injected = append(p.injected, what+" in the merchant's place until the scenario ended")
	} else {
		p.injected = append(p.injected, fmt.Sprintf("%s in the merchant's place for %s of the scenario's clock", what, until.Sub(p.clock.Now())))
	}
}

// faults says, for a report, that the scenario's requests went through
// the proxy and what it did in the merchant's place; "" when it only
// forwarded them, which a report need not mention.
func (p *proxy) faults() string {
	if p == nil {
		return ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.injected) == 0 {
		return ""
	}
	return fmt.Sprintf("the marketplace's requests went to kgsim's fault-injecting proxy at http://%s, which %s; the merchant is at %s",
		p.ln.Addr(), strings.Join(p.injected, ", then "), p.target.Redacted())
}

// unproxied is text with the proxy's address replaced by the merchant's:
// a report shows the URL the merchant configured, not a port that changes
// with every scenario.
func (p *proxy) unproxied(text string) string {
	if p == nil {
		return text
	}
	return strings.ReplaceAll(text, "http://"+p.ln.Addr().String(), p.target.Scheme+"://"+p.target.Host)
}

func (p *proxy) current() fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fault != noFault && !p.until.IsZero() && !p.clock.Now().Before(p.until) {
		p.fault = noFault
	}
	return p.fault
}

// maxBody bounds how much of a request the proxy reads to note its
// activity; callbacks are a few hundred bytes.
const maxBody = 1 << 20

// holdNextAnswer makes the proxy hold the merchant's answer to the next
// purchase call until the marketplace stops waiting for it.
func (p *proxy) holdNextAnswer() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.holdNext, p.late = true, nil
	p.injected = append(p.injected, "held the merchant's answer to the purchase's first attempt until the marketplace stopped waiting")
}

func (p *proxy) takeHold() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	held := p.holdNext
	p.holdNext = false
	return held
}

// hold forwards r to the merchant and keeps its answer from the
// marketplace, which gives up at its time limit. The request to the
// merchant ends with the marketplace's: a merchant still working when the
// marketplace hangs up sees its caller go, as it would after 20 s.
func (p *proxy) hold(r *http.Request) {
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.URL.Scheme, out.URL.Host, out.URL.Path, out.URL.RawPath = p.target.Scheme, p.target.Host, p.target.Path, p.target.RawPath
	out.Host = p.target.Host
	if resp, err := p.tr.RoundTrip(out); err == nil {
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		resp.Body.Close()
		if err == nil {
			p.mu.Lock()
			p.late = body
			p.mu.Unlock()
		}
	}
	<-r.Context().Done()
}

// lateAnswer is the body of the answer hold kept from the marketplace;
// nil when there was none.
func (p *proxy) lateAnswer() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.late
}

// note records a request and returns its activity: V1 names its activity
// and order in the query, V2 in the body, which is put back byte for byte
// for the merchant.
func (p *proxy) note(r *http.Request) string {
	q := r.URL.Query()
	activity, order := q.Get("activity"), q.Get("orderId")
	if r.Method == http.MethodPost {
		body, _ := io.ReadAll(io.LimitReader(r.Body, maxBody))
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
		activity, order = gjson.GetBytes(body, "activity").String(), gjson.GetBytes(body, "orderId").String()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen = append(p.seen, sighting{p.clock.Now(), activity, order, r.Method + " " + r.URL.String()})
	return activity
}

// sightings returns the attempts received for an activity about an
// order, oldest first. A request received twice is one attempt: Go's
// transport sends a GET again, unchanged, when the proxy hangs up on a
// kept-alive connection; every attempt of the marketplace is signed anew.
func (p *proxy) sightings(activity, order string) []time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []time.Time
	seen := map[string]bool{}
	for _, s := range p.seen {
		if s.activity == activity && s.order == order && !seen[s.request] {
			seen[s.request] = true
			out = append(out, s.at)
		}
	}
	return out
}

func (p *proxy) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	p.server.Shutdown(ctx)
	p.tr.CloseIdleConnections()
}

// hangUp closes the connection without an answer.
func hangUp(w http.ResponseWriter) {
	if h, ok := w.(http.Hijacker); ok {
		if conn, _, err := h.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}
