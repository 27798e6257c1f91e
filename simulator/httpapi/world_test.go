package httpapi

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tidwall/gjson"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/market"
	"github.com/kgsim/kgsim/simulator/merchanttest"
	"github.com/kgsim/kgsim/simulator/store/sqlite"
)

// t0 is 08:00 in Beijing, before the day's first dial tests.
var t0 = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)

// The access key of the test products: long, so it can only appear in an
// answer by leaking.
const accessKey = "kgsim-test-key-8f2c41d9e7b6a053"

// orderNotifyKey is a generic product's key, which signs its orderNotify
// (callbacks.md §5.15).
const orderNotifyKey = "kgsim-notify-key-3b9e51c7a2d84f60"

// echo makes the world's merchant misbehave: the key comes back in its
// answers and as the instanceId.
func (w *world) echo() {
	leak := func(key string, fields map[string]any) merchanttest.Reply {
		fields["resultMsg"] = "your key is " + key
		return merchanttest.Reply{Fields: fields, Header: http.Header{"X-Debug-Key": {key}}}
	}
	w.merchant.Answer("", leak(accessKey, map[string]any{}))
	w.merchant.Answer("newInstance", leak(accessKey, map[string]any{"instanceId": accessKey}))
	w.merchant.Answer("orderNotify", leak(orderNotifyKey, map[string]any{}))
}

// world is a running kgsim, wired as kgsim serve wires it but on a virtual
// clock, with its admin API on loopback and one merchant.
type world struct {
	t        testing.TB
	store    *sqlite.DB
	merchant *merchanttest.Merchant // V2, checking every callback's signature
	mURL     string
	// kit is the merchant's side of the kit syncs, at kitURL.
	kit    *merchanttest.Merchant
	kitURL string
	api    *httptest.Server
	logs   *syncBuffer
	// secrets must appear in no answer and no log line, like the access
	// key: kit keys, client secrets, passwords.
	secrets []string
	// token is the admin token that call sends, if any.
	token string
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newWorld(t testing.TB, clock simulator.Clock) *world {
	t.Helper()
	return newGuardedWorld(t, clock, Access{})
}

// newGuardedWorld is a world whose admin API is guarded by access.
func newGuardedWorld(t testing.TB, clock simulator.Clock, access Access) *world {
	t.Helper()
	return newWorldOn(t, clock, access, func(db *sqlite.DB) simulator.Store { return db })
}

// newWorldOn is a world whose parts use the store wrap makes of its
// database; configure, if any, changes its HTTP surface's Config.
func newWorldOn(t testing.TB, clock simulator.Clock, access Access, wrap func(*sqlite.DB) simulator.Store, configure ...func(*Config)) *world {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "kgsim.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	store := wrap(db)
	m := &merchanttest.Merchant{T: t, Key: accessKey, ActivityKeys: map[string]string{"orderNotify": orderNotifyKey}}
	mURL := m.Start()

	km := &merchanttest.Merchant{T: t, KitKey: kitKey, Private: merchanttest.Key(t)}
	kitURL := km.Start()

	reg := prometheus.NewRegistry()
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	mk, err := market.New(ctx, market.Config{Store: store, Clock: clock, Timeout: 5 * time.Second, Registry: reg, Logger: log,
		Base: "http://kgsim.test"})
	if err != nil {
		t.Fatal(err)
	}
	c := Config{Market: mk, Registry: reg, Logger: log, Access: access}
	for _, f := range configure {
		f(&c)
	}
	h, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(h)
	t.Cleanup(api.Close)
	w := &world{t: t, store: db, merchant: m, mURL: mURL, kit: km, kitURL: kitURL, api: api, logs: logs, secrets: []string{kitKey}, token: access.Token}
	if access.Token != "" {
		w.secrets = append(w.secrets, access.Token)
	}
	t.Cleanup(func() {
		for _, s := range append(w.secrets, accessKey) {
			if strings.Contains(logs.String(), s) {
				t.Errorf("the log holds the secret %q", s)
			}
		}
	})
	return w
}

// answer is an admin API answer.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) get(path string) gjson.Result { return gjson.GetBytes(a.body, path) }

// call makes an admin API request. Every answer of every test comes
// through here and is checked for the access key.
func (w *world) call(method, path, body string) answer {
	w.t.Helper()
	return w.do(w.request(method, path, body))
}

// request is an admin request as a client sends it: a body as JSON, and
// the world's admin token if it has one.
func (w *world) request(method, path, body string) *http.Request {
	w.t.Helper()
	req, err := http.NewRequest(method, w.api.URL+path, strings.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if w.token != "" {
		req.Header.Set("Authorization", "Bearer "+w.token)
	}
	return req
}

// do sends req as it is and checks the answer for secrets.
func (w *world) do(req *http.Request) answer {
	w.t.Helper()
	method, path := req.Method, req.URL.Path
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		w.t.Fatal(err)
	}
	if bytes.Contains(b, []byte(accessKey)) {
		w.t.Errorf("%s %s: the answer holds the access key:\n%s", method, path, b)
	}
	for _, s := range w.secrets {
		if bytes.Contains(b, []byte(s)) {
			w.t.Errorf("%s %s: the answer holds the secret %q:\n%s", method, path, s, b)
		}
	}
	for name, vs := range resp.Header {
		if strings.Contains(name+strings.Join(vs, ","), accessKey) {
			w.t.Errorf("%s %s: header %s holds the access key", method, path, name)
		}
	}
	return answer{resp.StatusCode, resp.Header, b}
}

// must makes a request that must answer want.
func (w *world) must(want int, method, path, body string) answer {
	w.t.Helper()
	a := w.call(method, path, body)
	if a.status != want {
		w.t.Fatalf("%s %s = %d, want %d:\n%s", method, path, a.status, want, a.body)
	}
	return a
}

// productJSON is a V2 yearly product at the world's merchant.
func (w *world) productJSON(id string, extra string) string {
	return `{"skuCode":"` + id + `-basic","name":"Test ` + id + `","chargingMode":"PERIOD","periodType":"year",` +
		`"url":"` + w.mURL + `/produce","protocol":"v2","accessKey":"` + accessKey + `","dialTests":false,` +
		`"noticeTo":["ops@merchant.test"]` + extra + `}`
}

// catalogue puts product p1 and customer c1 through the API.
func (w *world) catalogue() {
	w.t.Helper()
	w.must(http.StatusCreated, "PUT", "/admin/v1/products/p1", w.productJSON("p1", ""))
	w.must(http.StatusCreated, "POST", "/admin/v1/customers", `{"customerId":"c1","customerName":"Acme Ltd","email":"ops@acme.example"}`)
}

// active buys a year of p1 for c1 and has it provisioned; it returns the
// order.
func (w *world) active() gjson.Result {
	w.t.Helper()
	a := w.must(http.StatusCreated, "POST", "/admin/v1/orders", `{"productId":"p1","customerId":"c1","periodNumber":1,"amount":"120.5"}`)
	w.must(http.StatusOK, "POST", "/admin/v1/clock/advance", `{"by":"1m"}`)
	return a.get("order")
}
