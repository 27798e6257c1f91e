package notice

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kgsim/kgsim/simulator"
	"github.com/tidwall/gjson"
)

// Call is one callback and everything attempted so far.
type Call struct {
	Message  simulator.Message
	Attempts []simulator.Attempt
	// Key is the key that signed the call when it is not one of its
	// product's, a kit sync's app key: redacted like them.
	Key string
}

// CallRecord is the call record of callbacks.md §12, as a notice carries it
// and kgsim replay reads it. Times are RFC 3339 UTC with milliseconds.
// Bodies are the exact bytes, as a string when they are valid UTF-8 and in
// base64 (with the matching flag set) when they are not.
type CallRecord struct {
	CallID      string `json:"callId"`
	Kind        string `json:"kind"`     // LIFECYCLE, DEBUG, DIAL_TEST, POLL or DETAILS
	Protocol    string `json:"protocol"` // V1, V2 or KIT
	Activity    string `json:"activity"`
	ProductID   string `json:"productId,omitempty"`
	SKUCode     string `json:"skuCode,omitempty"`
	OrderID     string `json:"orderId,omitempty"`
	OrderLineID string `json:"orderLineId,omitempty"`
	InstanceID  string `json:"instanceId,omitempty"`
	CustomerID  string `json:"customerId,omitempty"`
	URL         string `json:"url"` // the production URL as configured
	Method      string `json:"method"`
	// Redacted is set when the product's access key appeared in what was
	// sent or received and was replaced by <accessKey>: those bytes are no
	// longer exact.
	Redacted      bool            `json:"accessKeyRedacted,omitempty"`
	Attempts      []AttemptRecord `json:"attempts"`
	NextAttemptAt *string         `json:"nextAttemptAt"`
	Outcome       string          `json:"outcome"`
}

// AttemptRecord is one attempt of a CallRecord.
type AttemptRecord struct {
	N               int             `json:"n"`
	StartedAt       string          `json:"startedAt"`
	FinishedAt      string          `json:"finishedAt"`
	Request         RequestRecord   `json:"request"`
	Response        *ResponseRecord `json:"response"` // nil when no answer came
	Error           *string         `json:"error"`
	Verdict         string          `json:"verdict"`
	VerdictDetail   string          `json:"verdictDetail"`
	DebuggerMessage string          `json:"debuggerMessage"`
	Warnings        []string        `json:"warnings"`
}

// RequestRecord is an attempt's request exactly as sent.
type RequestRecord struct {
	FullURL    string      `json:"fullUrl"`
	Headers    http.Header `json:"headers"`
	Body       string      `json:"body"`
	BodyBase64 bool        `json:"bodyBase64,omitempty"`
	Signing    Signing     `json:"signing"`
	BusinessID string      `json:"businessId,omitempty"`
}

// Signing holds the inputs and intermediates of an attempt's signature,
// never the key: V1 TimeStamp, CanonicalString and AuthToken; V2
// Timestamp, Nonce, BodyHMACHex, CanonicalRequest (the key shown as
// <accessKey>) and Signature.
type Signing struct {
	TimeStamp        string `json:"timeStamp,omitempty"`
	CanonicalString  string `json:"canonicalString,omitempty"`
	AuthToken        string `json:"authToken,omitempty"`
	Timestamp        string `json:"timestamp,omitempty"`
	Nonce            string `json:"nonce,omitempty"`
	BodyHMACHex      string `json:"bodyHmacHex,omitempty"`
	CanonicalRequest string `json:"canonicalRequest,omitempty"`
	Signature        string `json:"signature,omitempty"`
}

// ResponseRecord is the answer an attempt received, its body cut at
// MaxRecordedBody.
type ResponseRecord struct {
	Status        int         `json:"status"`
	Headers       http.Header `json:"headers"`
	Body          string      `json:"body"`
	BodyBase64    bool        `json:"bodyBase64,omitempty"`
	BodyTruncated bool        `json:"bodyTruncated"`
}

// DialRunRecord is what a dial-test notice carries: the run and the call
// record of every probe.
type DialRunRecord struct {
	RunID     string       `json:"runId"`
	ProductID string       `json:"productId"`
	At        string       `json:"at"`
	Passed    bool         `json:"passed"`
	Calls     []CallRecord `json:"calls"`
}

// MaxRecordedBody is how much of an answer's body a record keeps
// (callbacks.md §12).
const MaxRecordedBody = 64 << 10

// recordTime is RFC 3339 with milliseconds; times are put in UTC first.
const recordTime = "2006-01-02T15:04:05.000Z07:00"

// Record returns the call record of callbacks.md §12 as JSON: what
// Notice.Record holds and kgsim replay reads. The attempts must already
// hold <accessKey> in place of the key, as delivery records them.
func Record(c Call) ([]byte, error) {
	return marshal(NewCallRecord(c))
}

// Body returns the exact bytes of a recorded request body.
func (r RequestRecord) BodyBytes() ([]byte, error) { return decodeBody(r.Body, r.BodyBase64) }

// BodyBytes returns the exact recorded bytes of an answer's body.
func (r ResponseRecord) BodyBytes() ([]byte, error) { return decodeBody(r.Body, r.BodyBase64) }

// NewCallRecord returns the call record of c (what Record serialises).
func NewCallRecord(c Call) CallRecord {
	m := c.Message
	params := gjson.ParseBytes(m.Params)
	r := CallRecord{
		CallID: m.ID, Kind: m.Kind, Protocol: strings.ToUpper(string(m.Protocol)), Activity: m.Activity,
		ProductID: m.ProductID, SKUCode: skuCode(params), OrderID: m.OrderID, OrderLineID: m.OrderLineID,
		InstanceID: m.InstanceID, CustomerID: m.CustomerID, URL: m.URL, Method: method(c),
		Attempts: make([]AttemptRecord, 0, len(c.Attempts)),
		Outcome:  string(m.Outcome),
	}
	if !m.NextAttemptAt.IsZero() {
		at := stamp(m.NextAttemptAt)
		r.NextAttemptAt = &at
	}
	for _, a := range c.Attempts {
		r.Attempts = append(r.Attempts, newAttemptRecord(m.Protocol, a))
	}
	return r
}

func newAttemptRecord(p simulator.Protocol, a simulator.Attempt) AttemptRecord {
	body, b64 := encodeBody(a.Body)
	ar := AttemptRecord{
		N: a.N, StartedAt: stamp(a.StartedAt), FinishedAt: stamp(a.FinishedAt),
		Request: RequestRecord{
			FullURL: a.URL, Headers: nonNil(a.Header), Body: body, BodyBase64: b64,
			BusinessID: businessID(a),
		},
		Verdict: string(a.Verdict), VerdictDetail: a.Detail, DebuggerMessage: a.Message,
		Warnings: append([]string{}, a.Warnings...),
	}
	if p == simulator.V1 {
		ar.Request.Signing = Signing{TimeStamp: a.TimeStamp, CanonicalString: a.Canonical, AuthToken: a.Signature}
	} else {
		ar.Request.Signing = Signing{Timestamp: a.Timestamp, Nonce: a.Nonce, BodyHMACHex: a.BodyHMAC, CanonicalRequest: a.Canonical, Signature: a.Signature}
	}
	if a.Status != 0 {
		rb := a.ResponseBody
		truncated := a.ResponseTruncated || len(rb) > MaxRecordedBody
		if truncated {
			rb = rb[:MaxRecordedBody]
		}
		body, b64 := encodeBody(rb)
		ar.Response = &ResponseRecord{Status: a.Status, Headers: nonNil(a.ResponseHeader), Body: body, BodyBase64: b64, BodyTruncated: truncated}
	}
	if a.Error != "" {
		ar.Error = &a.Error
	}
	return ar
}

// method is the HTTP method of the call: as the attempts sent it, else as
// the protocol prescribes (V1 GET, V2 POST).
func method(c Call) string {
	if n := len(c.Attempts); n > 0 && c.Attempts[n-1].Method != "" {
		return c.Attempts[n-1].Method
	}
	if c.Message.Protocol == simulator.V1 {
		return http.MethodGet
	}
	return http.MethodPost
}

// skuCode finds the spec code in a callback's parameters: top level (V1,
// upgrade) or in the first product of the rich V2 newInstance and of
// changeInstanceCheck.
func skuCode(params gjson.Result) string {
	for _, path := range []string{"skuCode", "orderInfo.0.productInfo.0.skuCode", "productInfo.skuCode"} {
		if v := params.Get(path); v.Exists() {
			return v.String()
		}
	}
	return ""
}

// businessID is the businessId an attempt carried: in the query (V1) or the
// body (V2, thin or rich).
func businessID(a simulator.Attempt) string {
	if len(a.Body) > 0 {
		body := gjson.ParseBytes(a.Body)
		for _, path := range []string{"businessId", "orderInfo.0.businessId"} {
			if v := body.Get(path); v.Exists() {
				return v.String()
			}
		}
	}
	if u, err := url.Parse(a.URL); err == nil {
		return u.Query().Get("businessId")
	}
	return ""
}

func stamp(t time.Time) string { return t.UTC().Format(recordTime) }

func nonNil(h http.Header) http.Header {
	if h == nil {
		return http.Header{}
	}
	return h
}

func encodeBody(b []byte) (string, bool) {
	if utf8.Valid(b) {
		return string(b), false
	}
	return base64.StdEncoding.EncodeToString(b), true
}

func decodeBody(s string, b64 bool) ([]byte, error) {
	if b64 {
		return base64.StdEncoding.DecodeString(s)
	}
	return []byte(s), nil
}

// marshal writes v as indented JSON for people to read, without escaping
// <, > and & (so "<accessKey>" reads as itself).
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
