// Package kittest is the merchant's side of the kit syncs, for tests: an
// http.Handler that checks each call as a careful merchant does (x-sign
// over the canonical body, a fresh x-timestamp, a nonce never seen before),
// decrypts applicationSync's clientSecret with its private key, records
// every call and answers with a resultCode (kit-sync.md §2, §3, §5, §6).
package kittest

import (
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator/activity"
	"github.com/kgsim/kgsim/simulator/protocol"
	"github.com/kgsim/kgsim/simulator/vectors"
	"github.com/tidwall/gjson"
)

// Merchant answers kit syncs under /produceAPI/v2/. KitKey and Key are
// required; set its fields before serving.
type Merchant struct {
	KitKey string
	Key    *rsa.PrivateKey // decrypts clientSecret
	// OAEPHash is the merchant's OAEP setting; empty means SHA-256. A
	// setting other than the simulator's makes every clientSecret
	// undecryptable, answered 000101.
	OAEPHash protocol.OAEPHash
	Now      func() time.Time // the merchant's clock; time.Now when nil

	mu      sync.Mutex
	calls   []Call
	nonces  map[string]bool
	answers map[string]answer
}

// Call is one kit call as the merchant received and judged it.
type Call struct {
	Name   string // tenantSync, applicationSync, authSync, singleOrgSync or allOrgSync
	Header http.Header
	Body   []byte
	// Secret is applicationSync's clientSecret decrypted; empty when it
	// did not decrypt.
	Secret string
	Code   string // the resultCode answered
	Err    error  // why the call was refused, if it was
}

type answer struct {
	status int
	code   string
}

// Answer makes the merchant answer every later call named call (any call
// without an answer of its own when call is empty) with HTTP status and
// resultCode code. Status 0 means 200; an empty code is the merchant's own
// judgement. Answer(call, 0, "") returns to normal.
func (m *Merchant) Answer(call string, status int, code string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.answers == nil {
		m.answers = map[string]answer{}
	}
	m.answers[call] = answer{status, code}
	if status == 0 && code == "" {
		delete(m.answers, call)
	}
}

// Calls returns the calls received so far, in order.
func (m *Merchant) Calls() []Call {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Call(nil), m.calls...)
}

// Named returns the calls received so far with the given name.
func (m *Merchant) Named(name string) []Call {
	var out []Call
	for _, c := range m.Calls() {
		if c.Name == name {
			out = append(out, c)
		}
	}
	return out
}

// kitPath is where the kit calls arrive.
const kitPath = "/produceAPI/v2/"

// Codes the merchant answers (kit-sync.md §5).
const (
	CodeSuccess             = "000000"
	CodeAuthFailed          = "000001"
	CodeBadRequest          = "000002"
	CodeSecretUndecryptable = "000101"
)

func (m *Merchant) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, kitPath)
	if !ok || r.Method != http.MethodPost {
		http.Error(w, "not a kit call", http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c := Call{Name: name, Header: r.Header.Clone(), Body: body}
	status := http.StatusOK
	c.Code, c.Secret, c.Err = m.judge(name, r.Header, body)

	m.mu.Lock()
	a, ok := m.answers[name]
	if !ok {
		a, ok = m.answers[""]
	}
	if ok {
		status = max(a.status, http.StatusOK)
		if a.code != "" {
			c.Code = a.code
		}
	}
	m.calls = append(m.calls, c)
	m.mu.Unlock()

	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	msg := "success"
	if c.Err != nil {
		msg = c.Err.Error()
	}
	json.NewEncoder(w).Encode(struct {
		ResultCode string `json:"resultCode"`
		ResultMsg  string `json:"resultMsg"`
	}{c.Code, msg})
}

// judge checks one call and returns the resultCode for it, with the
// decrypted clientSecret of an applicationSync.
func (m *Merchant) judge(name string, h http.Header, body []byte) (code, secret string, err error) {
	now := time.Now()
	if m.Now != nil {
		now = m.Now()
	}
	nonce := h.Get(protocol.KitNonceHeader)
	if err := protocol.VerifyKit(m.KitKey, h.Get(protocol.KitSignHeader), h.Get(protocol.KitTimestampHeader), nonce, body, now, protocol.FreshnessWindow); err != nil {
		return CodeAuthFailed, "", err
	}
	m.mu.Lock()
	replayed := m.nonces[nonce]
	if m.nonces == nil {
		m.nonces = map[string]bool{}
	}
	m.nonces[nonce] = true
	m.mu.Unlock()
	if replayed {
		return CodeAuthFailed, "", errors.New("x-nonce " + nonce + " was used before")
	}
	params := gjson.ParseBytes(body)
	if !params.IsObject() {
		return CodeBadRequest, "", errors.New("the body is not a JSON object")
	}
	if name != string(activity.ApplicationSync) {
		return CodeSuccess, "", nil
	}
	hash := m.OAEPHash
	if hash == "" {
		hash = protocol.OAEPSHA256
	}
	secret, err = protocol.DecryptSecret(m.Key, hash, params.Get("clientSecret").String())
	if err != nil {
		return CodeSecretUndecryptable, "", err
	}
	return CodeSuccess, secret, nil
}

// Key returns the private key of the spec's vector R1: a merchant's
// 3072-bit key ready at once, whose public half the test's apps upload.
func Key(tb testing.TB) *rsa.PrivateKey {
	tb.Helper()
	pem := vectors.Of(tb, "identity.json", "rsa-oaep-decrypt")[0].Get("inputs.privateKeyPkcs8Pem").String()
	k, err := protocol.ParsePrivateKeyPEM([]byte(pem))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}
