// Package openapi serves the marketplace's open APIs, the ones a merchant
// calls (open-api.md): the order query, the usage pushes and the License
// APIs, each signed with its seller's AK/SK (APIG SDK-HMAC-SHA256, §2).
//
//	GET  /api/mkp-openapi-public/global/v1/order/query?orderId&orderLineId   §3
//	POST /api/mkp-openapi-public/global/v1/isv/usage-data                    §4.1 (plus the ts/nonce/signature body signature)
//	POST /rest/marketplace/v1/isv/usage-data                                 §4.2
//	POST /api/mkp-openapi-public/global/v1/license/activate                  §5.1 {"license","real_effect_time"}
//	POST /api/mkp-openapi-public/global/v1/license/heartbeat                 §5.2 {"license","heartbeatInfo"}
//	POST /api/mkp-openapi-public/global/v2/license/activate                  batch: {"licenses":[{"license","real_effect_time"}]}
//	POST /api/mkp-openapi-public/global/v2/license/heartbeat                 batch: {"licenses":[{"license"}]}
//
// A License API answers {"error_code":"920200xx","error_msg","data"}; a
// v2 batch answers 92020000 once its body is read, with each code's own
// result in data.results[] ({"license","error_code","error_msg", and
// "license_code_info" or "license_info"}).
//
// Every call is verified before it is routed: a refusal has the APIG
// gateway's shape and status, {"error_code":"APIGW.0301","error_msg",
// "request_id"}, plus a "kgsim" member that explains it: the problem, the
// likely cause, and the canonical request and string to sign kgsim
// computed, so that the merchant can compare them with its own. Neither
// the SK nor the signature kgsim expected is ever shown: the expected
// signature would let anyone who can send a request have it signed.
// Refusals of the APIs themselves carry their own codes (MKT.xxxx) and the
// same "kgsim" member.
package openapi

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kgsim/kgsim/simulator"
)

// Paths of the open APIs (open-api.md §1).
const (
	OrderQueryPath = "/api/mkp-openapi-public/global/v1/order/query"
	UsagePath      = "/api/mkp-openapi-public/global/v1/isv/usage-data"
	OldUsagePath   = "/rest/marketplace/v1/isv/usage-data"
)

// Tx is the part of the store the open APIs touch: the sellers who call
// them and the usage they push, the License codes they move, and what
// they read of the catalogue, orders and instances.
type Tx interface {
	simulator.SellersTx
	simulator.LicenseTx
	simulator.CatalogueTx
	simulator.OrdersTx
}

// Store is the open APIs' store: its Tx, one method at a time or grouped
// in one transaction.
type Store interface {
	Tx
	simulator.Updater
}

// Config is what the open APIs are served from. Store and Clock are
// required.
type Config struct {
	Store Store
	// Clock is the scheduling clock: an order's createTime, the 21-day
	// limit of usage, when usage was accepted.
	Clock simulator.Clock
	// Wall is what X-Sdk-Date is checked against: the merchant signs with
	// its own clock. Nil means time.Now.
	Wall     func() time.Time
	Logger   *slog.Logger          // nil means none
	Registry prometheus.Registerer // receives kgsim_usage_records_total; nil means none
	// Observe, when set, is told of every call to an open API and its
	// answer, once answered: certification reports them.
	Observe func(Exchange)
}

// Server answers the open APIs.
type Server struct {
	store   Store
	clock   simulator.Clock
	wall    func() time.Time
	log     *slog.Logger
	usage   *prometheus.CounterVec
	observe func(Exchange)
}

// New returns the open APIs' server and registers its metrics.
func New(c Config) (*Server, error) {
	if c.Store == nil || c.Clock == nil {
		return nil, errors.New("openapi: Config needs Store and Clock")
	}
	s := &Server{store: c.Store, clock: c.Clock, wall: c.Wall, log: c.Logger, observe: c.Observe}
	if s.wall == nil {
		s.wall = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.usage = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kgsim_usage_records_total",
		Help: "Usage records pushed by merchants and past the signature check: accepted (stored), duplicate (already accepted, not stored again) or refused (in a push refused whole).",
	}, []string{"result"})
	if c.Registry != nil {
		if err := c.Registry.Register(s.usage); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Register mounts the open APIs on r. Their paths are matched for every
// method: APIG knows an API by method and path, so another method is an
// API that does not exist (404 APIGW.0101), not a 405.
func (s *Server) Register(r *mux.Router) {
	for _, a := range []struct {
		path, method string
		h            func(w http.ResponseWriter, r *http.Request, c call)
	}{
		{OrderQueryPath, http.MethodGet, s.orderQuery},
		{UsagePath, http.MethodPost, s.usageHandler(simulator.UsageNew)},
		{OldUsagePath, http.MethodPost, s.usageHandler(simulator.UsageOld)},
		{LicenseActivatePath, http.MethodPost, s.licenseHandler(true, false)},
		{LicenseHeartbeatPath, http.MethodPost, s.licenseHandler(false, false)},
		{LicenseActivateV2Path, http.MethodPost, s.licenseHandler(true, true)},
		{LicenseHeartbeatV2Path, http.MethodPost, s.licenseHandler(false, true)},
	} {
		r.Handle(a.path, s.observed(s.apig(a.method, a.h)))
	}
	for _, prefix := range []string{"/api/mkp-openapi-public/", "/rest/marketplace/"} {
		r.PathPrefix(prefix).Handler(http.HandlerFunc(s.noAPI))
	}
}

// paths are the open APIs' paths.
func paths() []string {
	return []string{OrderQueryPath, UsagePath, OldUsagePath, LicenseActivatePath, LicenseHeartbeatPath, LicenseActivateV2Path, LicenseHeartbeatV2Path}
}

// APIName is what an open API's path is called in reports; "" for a path
// that is none.
func APIName(path string) string {
	return map[string]string{
		OrderQueryPath: "order query", UsagePath: "usage push", OldUsagePath: "usage push (old API)",
		LicenseActivatePath: "License activation", LicenseHeartbeatPath: "License heartbeat",
		LicenseActivateV2Path: "License activation (batch)", LicenseHeartbeatV2Path: "License heartbeat (batch)",
	}[path]
}

// explanation is the "kgsim" member of every refusal: what is wrong and
// what kgsim computed, for the merchant to compare with its own.
type explanation struct {
	Problem           string `json:"problem"`
	Field             string `json:"field,omitempty"`
	LikelyCause       string `json:"likely_cause,omitempty"`
	CanonicalRequest  string `json:"canonical_request,omitempty"`
	StringToSign      string `json:"string_to_sign,omitempty"`
	ReceivedSignature string `json:"received_signature,omitempty"`
	Spec              string `json:"spec,omitempty"`
}

// apigwError is the APIG gateway's refusal (open-api.md §2.3).
type apigwError struct {
	ErrorCode string       `json:"error_code"`
	ErrorMsg  string       `json:"error_msg"`
	RequestID string       `json:"request_id"`
	Kgsim     *explanation `json:"kgsim,omitempty"`
}

// APIG gateway codes and messages (open-api.md §2.3).
const (
	apigwAuth        = "APIGW.0301"
	apigwNoAPI       = "APIGW.0101"
	apigwTooLarge    = "APIGW.0201"
	msgVerifyFail    = "Incorrect IAM authentication information: verify aksk signature fail"
	msgNoAPI         = "The API does not exist or has not been published in the environment"
	msgTooLarge      = "Request entity too large"
	msgInternalError = "System internal error."
)

// noAPI answers a path under the open APIs' prefixes that is none of
// them, as the gateway does.
func (s *Server) noAPI(w http.ResponseWriter, r *http.Request) {
	e := &explanation{Problem: "no open API is served at " + r.URL.Path, Spec: "open-api.md §1"}
	for _, p := range paths() {
		if r.URL.Path == p+"/" {
			e.LikelyCause = `the path ends with "/": send the request to ` + p + `; only the canonical URI that is signed gets a final "/"`
		}
	}
	s.refuseAPIG(w, r, http.StatusNotFound, apigwNoAPI, msgNoAPI, e)
}

func (s *Server) refuseAPIG(w http.ResponseWriter, r *http.Request, status int, code, msg string, e *explanation) {
	s.log.InfoContext(r.Context(), "open API call refused", "path", r.URL.Path, "code", code, "problem", e.Problem, "cause", e.LikelyCause)
	writeJSON(w, status, apigwError{ErrorCode: code, ErrorMsg: msg, RequestID: requestID(w), Kgsim: e})
}

// requestID is the X-Request-Id the HTTP surface gave the answer, or a
// new one.
func requestID(w http.ResponseWriter) string {
	if id := w.Header().Get("X-Request-Id"); id != "" {
		return id
	}
	var b [8]byte
	rand.Read(b[:]) // crypto/rand.Read never fails
	id := hex.EncodeToString(b[:])
	w.Header().Set("X-Request-Id", id)
	return id
}

// writeJSON answers compact JSON, as the marketplace does.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error_code":"MKT.0999","error_msg":"System internal error."}` + "\n")
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}
