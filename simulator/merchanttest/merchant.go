// Package merchanttest is a merchant for tests: an http.Handler that
// checks every call kgsim sends as a careful merchant does (V1 authToken,
// V2 signature within the freshness window, kit x-sign with a nonce never
// seen before), answers as a correct merchant does unless the test scripts
// otherwise per activity (a resultCode, an HTTP failure, 000004, a hold
// until the test releases it), and records what it got. kgsim never sends
// a call that does not verify, so one fails the test.
package merchanttest

import (
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/activity"
	"github.com/kgsim/kgsim/simulator/protocol"
	"github.com/tidwall/gjson"
)

// Merchant answers V1 callbacks (GET), V2 callbacks (POST) and kit syncs
// (POST under /produceAPI/v2/). T is required, and Key for callbacks,
// KitKey and Private for kit syncs; set the fields before Start.
type Merchant struct {
	T   testing.TB
	Key string // the product's access key: checks callbacks, signs answers
	// ActivityKeys are the keys of the activities signed with another
	// (orderNotify: a generic product's orderNotifyKey, callbacks.md §5.15).
	ActivityKeys map[string]string
	// Now is the merchant's clock, which checks the freshness of V2 and
	// kit signatures and dates the calls; time.Now when nil.
	Now func() time.Time

	KitKey  string
	Private *rsa.PrivateKey // decrypts applicationSync's clientSecret
	// OAEPHash is the merchant's OAEP setting; empty means SHA-256. A
	// setting other than kgsim's makes every clientSecret undecryptable,
	// answered 000101.
	OAEPHash protocol.OAEPHash

	mu      sync.Mutex
	calls   []Call
	nonces  map[string]bool
	scripts map[string][]Reply
	holding []*Held
	arrived chan *Held
}

// Call is one call as the merchant received and judged it.
type Call struct {
	Protocol simulator.Protocol // V1, V2 or Kit
	// Activity is the callback's activity, or the kit sync's name
	// (tenantSync, applicationSync, authSync, singleOrgSync, allOrgSync).
	Activity string
	// Params are V1's query parameters, or the top-level members of a V2
	// or kit body: strings as their text, other values as JSON.
	Params map[string]string
	Query  url.Values
	Header http.Header
	Body   []byte
	At     time.Time // by the merchant's clock
	// Secret is applicationSync's clientSecret decrypted; empty when it
	// did not decrypt.
	Secret string
	Code   string // the resultCode answered; empty for an HTTP failure
	Err    error  // why the merchant refused the call, if it did
}

// Reply is how the merchant answers a call instead of as a correct
// merchant does. The zero Reply is a correct merchant's answer.
type Reply struct {
	// Status other than 0 and 200 answers with that HTTP status and a
	// plain-text body, as a merchant that is down does.
	Status int
	Code   string         // resultCode; empty means the merchant's own judgement
	Fields map[string]any // members added to the answer, or replacing its own
	Header http.Header    // added to the answer
	// Unsigned leaves out the answer's Body-Sign, which a V2 merchant
	// may (callbacks.md §4.6).
	Unsigned bool
	// Hold keeps the call waiting, announced to Next, until the test
	// releases it.
	Hold bool
}

// Codes the merchant answers of itself (callbacks.md §4, kit-sync.md §5).
const (
	CodeSuccess             = "000000"
	CodeAuthFailed          = "000001"
	CodeBadRequest          = "000002"
	CodeSecretUndecryptable = "000101"
)

// KitPath is where the kit syncs arrive.
const KitPath = "/produceAPI/v2/"

// Start serves the merchant on loopback until the test ends and returns
// its URL.
func (m *Merchant) Start() string {
	m.T.Helper()
	srv := httptest.NewServer(m)
	m.T.Cleanup(func() {
		m.ReleaseAll() // whatever a failed test left held
		srv.Close()
	})
	return srv.URL
}

// Transport delivers requests straight to the merchant, without a socket:
// inside a testing/synctest bubble, where the clock moves only once every
// goroutine waits, a request on loopback would keep it from moving.
func (m *Merchant) Transport() http.RoundTripper { return transport{m} }

type transport struct{ h http.Handler }

func (t transport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// Answer scripts the calls of the activity name (every activity without a
// script of its own when name is empty): each takes the next of replies,
// the last one again and again. No replies returns to a correct merchant's
// answers.
func (m *Merchant) Answer(name string, replies ...Reply) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.scripts == nil {
		m.scripts = map[string][]Reply{}
	}
	m.scripts[name] = replies
	if len(replies) == 0 {
		delete(m.scripts, name)
	}
}

// Reset forgets every script: the merchant answers as a correct merchant
// does again.
func (m *Merchant) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.scripts = nil
}

// Down makes the merchant answer every call with HTTP 503, or answer
// again when down is false. Calls with scripts of their own follow them.
func (m *Merchant) Down(down bool) {
	if down {
		m.Answer("", Reply{Status: http.StatusServiceUnavailable})
		return
	}
	m.Answer("")
}

// Calls returns the calls received so far, in order.
func (m *Merchant) Calls() []Call {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Call(nil), m.calls...)
}

// Take returns the calls received since the last Take, and forgets them.
func (m *Merchant) Take() []Call {
	m.mu.Lock()
	defer m.mu.Unlock()
	calls := m.calls
	m.calls = nil
	return calls
}

// Activities returns the activity of each call received so far, in order.
func (m *Merchant) Activities() []string {
	var out []string
	for _, c := range m.Calls() {
		out = append(out, c.Activity)
	}
	return out
}

// Named returns the calls received so far of the activity name.
func (m *Merchant) Named(name string) []Call {
	var out []Call
	for _, c := range m.Calls() {
		if c.Activity == name {
			out = append(out, c)
		}
	}
	return out
}

func (m *Merchant) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c := Call{Query: r.URL.Query(), Header: r.Header.Clone(), Body: body, At: m.now(), Params: map[string]string{}}
	name, kit := strings.CutPrefix(r.URL.Path, KitPath)
	switch {
	case r.Method == http.MethodGet:
		c.Protocol = simulator.V1
	case kit && r.Method == http.MethodPost:
		c.Protocol = simulator.Kit
	case r.Method == http.MethodPost:
		c.Protocol = simulator.V2
	default:
		http.Error(w, "not a call kgsim sends", http.StatusMethodNotAllowed)
		return
	}
	for k, v := range c.Query {
		c.Params[k] = v[0]
	}
	gjson.ParseBytes(body).ForEach(func(k, v gjson.Result) bool {
		c.Params[k.Str] = v.String()
		if v.Type != gjson.String {
			c.Params[k.Str] = v.Raw
		}
		return true
	})
	c.Activity = c.Params["activity"]
	switch c.Protocol {
	case simulator.V1:
		if err := protocol.VerifyV1(m.key(c.Activity), r.URL.RawQuery); err != nil {
			c.Code, c.Err = CodeAuthFailed, err
		}
	case simulator.V2:
		if err := protocol.VerifyV2(m.key(c.Activity), c.Query, body, c.At, protocol.FreshnessWindow); err != nil {
			c.Code, c.Err = CodeAuthFailed, err
		}
	case simulator.Kit:
		c.Activity = name
		m.judgeKit(&c)
	}
	if c.Code == CodeAuthFailed {
		m.T.Errorf("merchant: %s %s does not verify: %v", c.Protocol, c.Activity, c.Err)
	}

	m.mu.Lock()
	reply := m.next(c.Activity)
	if reply.Code != "" {
		c.Code = reply.Code
	}
	if c.Code == "" && (reply.Status == 0 || reply.Status == http.StatusOK) {
		c.Code = CodeSuccess
	}
	if reply.Status != 0 && reply.Status != http.StatusOK {
		c.Code = ""
	}
	m.calls = append(m.calls, c)
	var h *Held
	if reply.Hold {
		h = &Held{Call: c, release: make(chan struct{})}
		for _, o := range m.holding {
			h.Others = append(h.Others, o.Call)
		}
		m.holding = append(m.holding, h)
	}
	m.mu.Unlock()
	if h != nil {
		select {
		case m.arrivals() <- h:
		case <-h.release: // released before the test looked for it
		}
		<-h.release
		m.mu.Lock()
		for i, o := range m.holding {
			if o == h {
				m.holding = append(m.holding[:i], m.holding[i+1:]...)
				break
			}
		}
		m.mu.Unlock()
	}
	m.answer(w, c, reply)
}

// next takes the reply scripted for the next call of the activity name;
// m.mu is held.
func (m *Merchant) next(name string) Reply {
	key := name
	replies, ok := m.scripts[key]
	if !ok {
		key = ""
		replies = m.scripts[key]
	}
	if len(replies) == 0 {
		return Reply{}
	}
	if len(replies) > 1 {
		m.scripts[key] = replies[1:]
	}
	return replies[0]
}

// answer writes the answer to c: a correct merchant's (the same instance
// for the same order, callbacks.md §10), changed by reply. Callback
// answers carry Body-Sign.
func (m *Merchant) answer(w http.ResponseWriter, c Call, reply Reply) {
	for k, vs := range reply.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if reply.Status != 0 && reply.Status != http.StatusOK {
		http.Error(w, "down for maintenance", reply.Status)
		return
	}
	msg := "success"
	if c.Err != nil {
		msg = c.Err.Error()
	}
	answer := map[string]any{"resultCode": c.Code, "resultMsg": msg}
	if c.Protocol != simulator.Kit {
		switch c.Activity {
		case string(activity.NewInstance):
			id := "ins-" + c.Params["orderId"]
			answer["instanceId"] = id
			answer["appInfo"] = appInfo(id)
		case string(activity.QueryInstance):
			id := c.Params["instanceId"]
			answer["info"] = []any{map[string]any{"instanceId": id, "appInfo": appInfo(id)}}
		}
	}
	for k, v := range reply.Fields {
		answer[k] = v
	}
	out, err := json.Marshal(answer)
	if err != nil {
		m.T.Errorf("merchant: the scripted answer: %v", err)
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	if c.Protocol != simulator.Kit && !reply.Unsigned {
		w.Header().Set(protocol.BodySignHeaderName, protocol.BodySignHeader(protocol.BodySign(m.key(c.Activity), out)))
	}
	w.Write(out)
}

func (m *Merchant) key(name string) string {
	if k, ok := m.ActivityKeys[name]; ok {
		return k
	}
	return m.Key
}

// appInfo is where the merchant's instance id is used.
func appInfo(id string) map[string]string {
	return map[string]string{"frontEndUrl": "https://app.merchant.test/" + id}
}

func (m *Merchant) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}
