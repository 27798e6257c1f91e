package openapi_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/tidwall/gjson"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/openapi"
	"github.com/kgsim/kgsim/simulator/schedule"
	"github.com/kgsim/kgsim/simulator/store/sqlite"
)

// world is a marketplace's open APIs on a loopback server, over a SQLite
// store filled directly, with a virtual scheduling clock and a wall clock
// the test sets.
type world struct {
	t      testing.TB
	router *mux.Router
	store  *sqlite.DB
	clock  *schedule.Virtual
	wall   time.Time
	reg    *prometheus.Registry
	srv    *httptest.Server
}

// Two sellers, each with an on-demand product, a package product and a
// period product, and instances of them.
const (
	ak1, sk1 = "AK-SELLER-1", "sk-of-seller-1"
	ak2, sk2 = "AK-SELLER-2", "sk-of-seller-2"
	key1     = "basic-key-seller-1"
	key2     = "basic-key-seller-2"
)

var start = time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)

func newWorld(t testing.TB) *world {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "kgsim.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w := &world{t: t, store: db, clock: schedule.NewVirtual(start), wall: start, reg: prometheus.NewRegistry()}
	s, err := openapi.New(openapi.Config{Store: db, Clock: w.clock, Wall: func() time.Time { return w.wall }, Registry: w.reg})
	if err != nil {
		t.Fatal(err)
	}
	w.router = mux.NewRouter()
	s.Register(w.router)
	w.srv = httptest.NewServer(w.router)
	t.Cleanup(w.srv.Close)

	ctx := t.Context()
	for _, sl := range []simulator.Seller{{ID: "S1", Name: "Seller one", AK: ak1, SK: sk1}, {ID: "S2", Name: "Seller two", AK: ak2, SK: sk2}} {
		w.check(db.PutSeller(ctx, sl))
	}
	for _, p := range []struct {
		id, seller, key string
		mode            simulator.ChargingMode
	}{
		{"P1-DEMAND", "S1", key1, simulator.OnDemand}, {"P1-PKG", "S1", key1, simulator.OnDemandPkg}, {"P1-PERIOD", "S1", key1, simulator.Period},
		{"P2-DEMAND", "S2", key2, simulator.OnDemand},
	} {
		pr := simulator.Product{ID: p.id, SKUCode: "sku-" + p.id, Name: "Product " + p.id, ChargingMode: p.mode, URL: "http://127.0.0.1:1/produce",
			Protocol: simulator.V2, AccessKey: p.key, SellerID: p.seller}
		if p.mode == simulator.Period {
			pr.PeriodType = "month"
		}
		w.check(db.PutProduct(ctx, pr))
	}
	for _, i := range []struct{ key, id, product string }{
		{"K1", "i-demand-1", "P1-DEMAND"}, {"K2", "i-pkg-1", "P1-PKG"}, {"K3", "i-period-1", "P1-PERIOD"}, {"K4", "i-demand-2", "P2-DEMAND"},
	} {
		w.check(db.PutInstance(ctx, simulator.Instance{Key: i.key, ID: i.id, ProductID: i.product, CustomerID: "C1", OrderID: "O-" + i.key,
			OrderLineID: i.key, State: simulator.Active, CreatedAt: start, UpdatedAt: start}))
	}
	return w
}

func (w *world) check(err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

// request is an open-API call before it is signed. Headers are sent as
// given; Host is the server's unless set.
type request struct {
	method, path string
	query        [][2]string
	header       [][2]string
	body         []byte
	host         string
}

// answer is what the server answered.
type answer struct {
	status int
	body   string
	json   gjson.Result
}

// send signs req with ak/sk over every header it carries plus Host and
// X-Sdk-Date (as the Huawei SDKs do), lets tamper change the signed
// request, and sends it.
func (w *world) send(req request, ak, sk string, tamper func(*http.Request)) answer {
	w.t.Helper()
	if req.host == "" {
		req.host = strings.TrimPrefix(w.srv.URL, "http://")
	}
	if !slices.ContainsFunc(req.header, func(h [2]string) bool { return strings.EqualFold(h[0], "X-Sdk-Date") }) {
		req.header = append(req.header, [2]string{"X-Sdk-Date", w.wall.UTC().Format("20060102T150405Z")})
	}
	auth := signAPIG(ak, sk, req)
	r := w.httpRequest(req)
	r.Header.Set("Authorization", auth)
	if tamper != nil {
		tamper(r)
	}
	return w.do(r)
}

func (w *world) httpRequest(req request) *http.Request {
	w.t.Helper()
	q := url.Values{}
	for _, p := range req.query {
		q.Add(p[0], p[1])
	}
	u := w.srv.URL + req.path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	r, err := http.NewRequestWithContext(w.t.Context(), req.method, u, bytes.NewReader(req.body))
	if err != nil {
		w.t.Fatal(err)
	}
	r.Host = req.host
	for _, h := range req.header {
		r.Header.Add(h[0], h[1])
	}
	return r
}

func (w *world) do(r *http.Request) answer {
	w.t.Helper()
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		w.t.Fatal(err)
	}
	return answer{status: res.StatusCode, body: string(b), json: gjson.ParseBytes(b)}
}

// signAPIG is a second implementation of SDK-HMAC-SHA256 (open-api.md
// §2), written from the spec apart from protocol.SignAPIG, so that the
// two cannot share a mistake.
func signAPIG(ak, sk string, req request) string {
	return fmt.Sprintf("SDK-HMAC-SHA256 Access=%s, SignedHeaders=%s, Signature=%s", ak, signedNames(req), signatureOf(sk, req))
}

func signedNames(req request) string {
	names := []string{"host"}
	for _, h := range req.header {
		names = append(names, strings.ToLower(h[0]))
	}
	slices.Sort(names)
	return strings.Join(slices.Compact(names), ";")
}

func canonicalRequest(req request) string {
	enc := func(s string) string {
		var b strings.Builder
		for _, c := range []byte(s) {
			if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
				b.WriteByte(c)
			} else {
				fmt.Fprintf(&b, "%%%02X", c)
			}
		}
		return b.String()
	}
	segs := strings.Split(req.path, "/")
	for i := range segs {
		segs[i] = enc(segs[i])
	}
	uri := strings.Join(segs, "/")
	if !strings.HasSuffix(uri, "/") {
		uri += "/"
	}
	var pairs []string
	for _, p := range req.query {
		pairs = append(pairs, enc(p[0])+"="+enc(p[1]))
	}
	slices.SortFunc(pairs, func(a, b string) int {
		an, av, _ := strings.Cut(a, "=")
		bn, bv, _ := strings.Cut(b, "=")
		if an != bn {
			return strings.Compare(an, bn)
		}
		return strings.Compare(av, bv)
	})
	values := map[string]string{"host": req.host}
	for _, h := range req.header {
		values[strings.ToLower(h[0])] = strings.TrimSpace(h[1])
	}
	names := strings.Split(signedNames(req), ";")
	var headers strings.Builder
	for _, n := range names {
		headers.WriteString(n + ":" + values[n] + "\n")
	}
	sum := sha256.Sum256(req.body)
	return req.method + "\n" + uri + "\n" + strings.Join(pairs, "&") + "\n" + headers.String() + "\n" + strings.Join(names, ";") + "\n" + hex.EncodeToString(sum[:])
}

func signatureOf(sk string, req request) string {
	date := ""
	for _, h := range req.header {
		if strings.EqualFold(h[0], "X-Sdk-Date") {
			date = h[1]
		}
	}
	return signatureOfCanonical(sk, date, canonicalRequest(req))
}

func signatureOfCanonical(sk, date, canonical string) string {
	hash := sha256.Sum256([]byte(canonical))
	m := hmac.New(sha256.New, []byte(sk))
	m.Write([]byte("SDK-HMAC-SHA256\n" + date + "\n" + hex.EncodeToString(hash[:])))
	return hex.EncodeToString(m.Sum(nil))
}

// usageSignature is a second implementation of the usage push's body
// signature (open-api.md §4.1): the body must already be canonical.
func usageSignature(key, ts, nonce string, body []byte) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte("ts=" + ts + "&nonce=" + nonce + "&body="))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// usagePush is a new-API push of body, body-signed with key and signed
// with ak/sk.
func (w *world) usagePush(body, key, ak, sk string) answer {
	w.t.Helper()
	return w.send(newPush(body, key), ak, sk, nil)
}

func newPush(body, key string) request {
	ts, nonce := "1716363778801", "RLLUammMSInlrNWb"
	return request{method: http.MethodPost, path: openapi.UsagePath, body: []byte(body), header: [][2]string{
		{"Content-Type", "application/json;charset=UTF-8"},
		{"ts", ts}, {"nonce", nonce}, {"signature", usageSignature(key, ts, nonce, []byte(body))},
	}}
}

func oldPush(body string) request {
	return request{method: http.MethodPost, path: openapi.OldUsagePath, body: []byte(body), header: [][2]string{{"Content-Type", "application/json"}}}
}

// stored returns every accepted usage record.
func (w *world) stored() []simulator.UsageRecord {
	w.t.Helper()
	u, err := w.store.Usage(context.WithoutCancel(w.t.Context()), simulator.UsageFilter{})
	w.check(err)
	return u
}

func readCloser(s string) io.ReadCloser { return io.NopCloser(strings.NewReader(s)) }

// usageMetric is kgsim_usage_records_total{result}, read from the
// world's registry: 0 when the series does not exist.
func (w *world) usageMetric(result string) float64 {
	w.t.Helper()
	families, err := w.reg.Gather()
	w.check(err)
	for _, f := range families {
		if f.GetName() != "kgsim_usage_records_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
