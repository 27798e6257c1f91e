package delivery

import (
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/activity"
	"github.com/kgsim/kgsim/simulator/protocol"
	"github.com/tidwall/gjson"
)

// KitLayout is how a kit sync's body is laid out on the wire. The
// signature covers the canonical form either way (kit-sync.md §2.2).
type KitLayout string

const (
	// KitDocument sends the members in the order of the spec's tables with
	// ": " and ", " between tokens, as the docs' examples do: a merchant
	// that signs the raw bytes instead of the canonical form fails here as
	// it would in production. The default.
	KitDocument KitLayout = "document"
	// KitCanonical sends exactly the signed bytes.
	KitCanonical KitLayout = "canonical"
)

// ParseKitLayout reads the kit.bodyLayout setting; empty means document.
func ParseKitLayout(s string) (KitLayout, error) {
	switch l := KitLayout(s); l {
	case "":
		return KitDocument, nil
	case KitDocument, KitCanonical:
		return l, nil
	}
	return "", simulator.Errorf(simulator.EINVALID, "kit.bodyLayout", "%q is neither document nor canonical", s)
}

// kitPath is where every kit call goes under the merchant's production
// address (kit-sync.md §1); the call's name follows.
const kitPath = "/produceAPI/v2/"

// NewKitRequest signs a kit sync to address, the merchant's production
// address: a POST to {address}/produceAPI/v2/{call} whose x-sign covers
// the canonical form of body (members sorted at every level), body being
// the call's JSON object in the order of the spec's table. A query in
// address stays after the path, unsigned.
func NewKitRequest(address, call, kitKey string, body []byte, now time.Time, nonce string, layout KitLayout) (*Request, error) {
	base, query, err := splitURL(address)
	if err != nil {
		return nil, err
	}
	reqParams, err := protocol.CanonicalJSON(body, protocol.SortAllLevels)
	if err != nil {
		return nil, err
	}
	ts := protocol.MillisTimestamp(now)
	sign := protocol.KitSign(kitKey, nonce, ts, reqParams)
	wire := reqParams
	if layout != KitCanonical {
		if wire, err = documentLayout(body); err != nil {
			return nil, err
		}
	}
	u := strings.TrimRight(base, "/") + kitPath + call
	if query != "" {
		u += "?" + query
	}
	h := http.Header{"Content-Type": {v2ContentType}, "Accept": {"application/json"}}
	h.Set(protocol.KitSignHeader, sign)
	h.Set(protocol.KitTimestampHeader, ts)
	h.Set(protocol.KitNonceHeader, nonce)
	return &Request{
		Method: http.MethodPost, URL: u, Header: h, Body: wire,
		Timestamp: ts, Nonce: nonce, Canonical: "<kitKey>" + nonce + ts + string(reqParams), Signature: sign,
	}, nil
}

// documentLayout writes a JSON object in its own member order with ": "
// and ", " between tokens, values as they are.
func documentLayout(body []byte) ([]byte, error) {
	if !gjson.ValidBytes(body) {
		return nil, &protocol.MalformedError{Field: "body", Reason: "is not valid JSON"}
	}
	var write func(out []byte, v gjson.Result) []byte
	write = func(out []byte, v gjson.Result) []byte {
		if !v.IsObject() && !v.IsArray() {
			return append(out, v.Raw...)
		}
		open, close := byte('['), byte(']')
		if v.IsObject() {
			open, close = '{', '}'
		}
		out = append(out, open)
		first := true
		v.ForEach(func(k, e gjson.Result) bool {
			if !first {
				out = append(out, ", "...)
			}
			first = false
			if v.IsObject() {
				out = append(append(out, k.Raw...), ": "...)
			}
			out = write(out, e)
			return true
		})
		return append(out, close)
	}
	return write(make([]byte, 0, len(body)+len(body)/8), gjson.ParseBytes(body)), nil
}

// kitTimeStampMember is the body member that carries the time of the
// request: renewed on every attempt (kitDialect.request).
const kitTimeStampMember = "timeStamp"

// Result codes of kit answers with a meaning of their own (kit-sync.md §5).
var kitCodes = map[string]string{
	"000001": "authentication failed: the merchant rejected x-sign or x-timestamp",
	"000002": "invalid request parameters",
	"000003": "instance id not found; a merchant must not answer this to a delete (kit-sync.md §8)",
	"000004": "processing: kit calls have no polling, so this counts as a failure",
	"000005": "internal error at the merchant",
	"000101": "clientSecret cannot be decrypted, though this call carries none",
}

// codeSecretUndecryptable is the merchant saying it could not decrypt
// applicationSync's clientSecret.
const codeSecretUndecryptable = "000101"

// judgeKit judges a kit answer (kit-sync.md §3): a failure is no answer, a
// status other than 200, a body that is not a JSON object with a string
// resultCode, or a resultCode other than 000000. No Body-Sign is needed and
// the content type only draws a warning.
func judgeKit(c Call, a Answer) Judgement {
	if j, failed := transportFailure(a); failed {
		return j
	}
	var warnings []string
	if a.Elapsed > slowAnswer {
		warnings = append(warnings, fmt.Sprintf("SLOW_RESPONSE: answered in %.1f s; answer within 5 s", a.Elapsed.Seconds()))
	}
	fail := func(v simulator.Verdict, detail string) Judgement {
		return Judgement{Verdict: v, Detail: detail, Warnings: warnings}
	}
	if a.Status != http.StatusOK {
		return fail(simulator.HTTPStatus, fmt.Sprintf("HTTP status %d, want 200 (redirects are not followed)", a.Status))
	}
	if ct := a.Header.Get("Content-Type"); ct != "" {
		if media, _, err := mime.ParseMediaType(ct); err != nil || media != "application/json" {
			warnings = append(warnings, fmt.Sprintf("CONTENT_TYPE: %q; answer application/json", ct))
		}
	}
	body := gjson.ParseBytes(a.Body)
	if !gjson.ValidBytes(a.Body) || !body.IsObject() {
		return fail(simulator.BodyParse, `the body is not a JSON object; answer {"resultCode":"000000","resultMsg":"success"}`)
	}
	code := body.Get("resultCode")
	switch {
	case code.Type != gjson.String:
		return fail(simulator.BodyParse, `the body has no string member resultCode; answer {"resultCode":"000000","resultMsg":"success"}`)
	case code.Str == codeSuccess:
		return Judgement{Verdict: simulator.Success, Warnings: warnings}
	case code.Str == codeSecretUndecryptable && c.Activity == string(activity.ApplicationSync):
		return fail(simulator.ResultCode, "resultCode 000101: the merchant could not decrypt the clientSecret (kit-sync.md §4.2, §6). "+
			"clientSecret is Base64 of RSA-OAEP under the public key uploaded with the app; decrypt it with the matching private key "+
			"and the same OAEP and MGF1 hashes as kgsim (kit.oaepHash, SHA-256 by default); kgsim crypto rsa-decrypt names the setting that works")
	}
	meaning, known := kitCodes[code.Str]
	if !known {
		meaning = "not a kit result code"
	}
	return fail(simulator.ResultCode, "resultCode "+strconv.Quote(code.Str)+" ("+meaning+"), want \"000000\"")
}
