package main

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/protocol"
)

func verifyCommand() *command {
	return &command{
		name:    "verify",
		summary: "check a signature that was sent or received (v1, v2, bodysign, kit, usage, apig)",
		help: `Usage: kgsim verify SCHEME [FLAGS] [ARGS]

Checks a signature against what kgsim computes. Prints "valid" (exit 0), or
"invalid" with the exact string kgsim signed, the expected and received
values and the likely cause (exit 1).`,
		sub: []*command{
			{name: "v1", summary: "authToken of a V1 callback URL", run: verifyV1, help: `Usage: kgsim verify v1 --access-key KEY URL|QUERY

Checks the authToken of a V1 callback as received: the full URL or its query
string, URL-encoded as it was on the wire.

Example:
  kgsim verify v1 --access-key xxxxxxx 'https://isv.example.com/produce?activity=newInstance&businessId=61e834ba-7b97-4418-b8f7-e5345137278c&customerId=68cbc86abc2018ab880d92f36422fa0e&expireTime=20200727153156&orderId=CS1906666666ABCDE&productId=00301-666666-0--0&testFlag=1&timeStamp=20200727073711903&authToken=Gzbfjf9LHRBcI3bFVi%2B%2BsLinCNOBF6qa7is1fvjEgYQ%3D'`},
			{name: "v2", summary: "signature of a V2 callback (URL and body)", run: verifyV2, help: `Usage: kgsim verify v2 --access-key KEY --body FILE [--at TIME] URL|QUERY

Checks the signature, timestamp and nonce of a V2 callback: URL|QUERY carries
them, FILE holds the exact request body bytes (--body - for standard input).
The timestamp must be within 60 s of now, or of --at TIME (Unix epoch
milliseconds or RFC 3339) for a request captured earlier.

Example:
  kgsim verify v2 --access-key xxxxxxx --body body.json --at 1680508066618 \
    'https://isv.example.com/produce?signature=5CBA99CD...&timestamp=1680508066618&nonce=50D83FDE...'`},
			{name: "bodysign", summary: "Body-Sign header of a V1 response", run: verifyBodySign, help: `Usage: kgsim verify bodysign --access-key KEY --header VALUE --body FILE

Checks a V1 response's Body-Sign header value against the exact response body
bytes, as the marketplace does: both values double-quoted, sign_type
HMAC-SHA256, signature = Base64(HMAC-SHA256(key, body)).

Example:
  kgsim verify bodysign --access-key xxxxxxx --body response.json \
    --header 'sign_type="HMAC-SHA256", signature= "6V+IIfRS/87Kefne/yfkmA/Ph7+4f1X2ieSZFGQrrAw="'`},
			{name: "kit", summary: "x-sign of a kit sync", run: verifyKit, help: `Usage: kgsim verify kit --access-key KITKEY --sign X-SIGN --timestamp X-TIMESTAMP --nonce X-NONCE --body FILE [--at TIME]

Checks a kit sync's x-sign headers against its body (signed in canonical
form: members sorted at every level, compact), and x-timestamp within 60 s
of now or of --at TIME.

Example:
  kgsim verify kit --access-key xxxxxxx --sign b03cec2e... --timestamp 1680508066618 --nonce 50D83FDE... --body tenantSync.json --at 1680508066618`},
			{name: "usage", summary: "body signature of a usage push", run: verifyUsage, help: `Usage: kgsim verify usage --access-key KEY --signature SIG --timestamp TS --nonce N --body FILE

Checks the signature header of a usage push against its body, as the
marketplace does: over the canonical JSON (members sorted at every level).

Example:
  kgsim verify usage --access-key xxxxxxx --signature 9uDWUOgN8yTg4Z9v2pYo0ajKT8gmoyw4VceTnKYqIGc= --timestamp 1716363778801 --nonce RLLUammMSInlrNWb --body usage.json`},
			{name: "apig", summary: "Authorization of an open-API call (AK/SK)", run: verifyAPIG, help: `Usage: kgsim verify apig --ak AK --sk SK --url URL [--method GET] --header 'Authorization: ...' --header 'X-Sdk-Date: ...' [--header ...] [--body FILE] [--at TIME]

Checks an open-API request's SDK-HMAC-SHA256 Authorization header. Give every
header the request carried; X-Sdk-Date must be within 15 minutes of now or
of --at TIME.

Example:
  kgsim verify apig --ak test --sk 123 --method POST --url https://mkt.myhuaweicloud.com/api/mkp-openapi-public/global/v1/license/activate \
    --header 'Content-Type: application/json' --header 'x-stage: RELEASE' --header 'X-Sdk-Date: 20240317T144237Z' \
    --header 'Authorization: SDK-HMAC-SHA256 Access=test, SignedHeaders=content-type;host;x-sdk-date;x-stage, Signature=77595ad6...' --at 20240317T144237Z`},
		},
	}
}

// atFlag returns the moment freshness is checked at: --at, or now.
func atFlag(e *env, at string) (time.Time, error) {
	if at == "" {
		return e.now(), nil
	}
	if ms, err := strconv.ParseInt(at, 10, 64); err == nil {
		return time.UnixMilli(ms), nil
	}
	for _, layout := range []string{time.RFC3339Nano, sdkDateLayout} {
		if t, err := time.Parse(layout, at); err == nil {
			return t, nil
		}
	}
	return time.Time{}, simulator.Errorf(simulator.EINVALID, "--at", "%q is neither Unix epoch milliseconds nor RFC 3339 (e.g. 1680508066618 or 2023-04-03T07:47:46Z)", at)
}

func queryOf(urlOrQuery string) string {
	q := urlOrQuery
	if _, after, ok := strings.Cut(q, "?"); ok {
		q = after
	}
	q, _, _ = strings.Cut(q, "#")
	return q
}

// report prints the verdict of a verification and returns verdictError when
// it is negative. valid describes a positive verdict.
func report(e *env, scheme string, err error, valid string) error {
	w := e.stdout
	if err == nil {
		fmt.Fprintf(w, "valid: %s\n", valid)
		return nil
	}
	if m, ok := errors.AsType[*protocol.Mismatch](err); ok {
		fmt.Fprintf(w, "invalid: %s signature mismatch\n", scheme)
		fmt.Fprintf(w, "  signed string: %s\n", truncate(m.Canonical, 2000))
		fmt.Fprintf(w, "  expected:      %s\n", sameHexCase(m.Expected, m.Received))
		fmt.Fprintf(w, "  received:      %s\n", m.Received)
		cause := m.Cause
		if cause == "" {
			cause = "none of the common mistakes matches: check that both sides use the same key, and that the input given here is exactly what was sent"
		}
		fmt.Fprintf(w, "  likely cause:  %s\n", cause)
		return verdictError{}
	}
	var data *protocol.MalformedError
	var stale *protocol.StaleError
	var unknown *protocol.UnknownAKError
	if !errors.As(err, &data) && !errors.As(err, &stale) && !errors.As(err, &unknown) {
		return err
	}
	fmt.Fprintf(w, "invalid: %v\n", err)
	return verdictError{}
}

// sameHexCase writes an expected hex signature in the case of the one
// received, which the comparison ignores: side by side, they differ only
// where the signatures do. Anything but two hex strings is left as it is.
func sameHexCase(expected, received string) string {
	if _, err := hex.DecodeString(expected); err != nil {
		return expected
	}
	if _, err := hex.DecodeString(received); err != nil {
		return expected
	}
	if strings.ToUpper(received) == received && strings.ToLower(received) != received {
		return strings.ToUpper(expected)
	}
	return strings.ToLower(expected)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + fmt.Sprintf("... (%d bytes in all)", len(s))
}

func verifyV1(e *env, args []string) error {
	f := newFlags()
	key := f.string("access-key", "KEY", "the merchant's access key")
	pos, err := f.parse(args, 1, "URL|QUERY (the callback URL as received, with its authToken)")
	if err != nil {
		return err
	}
	if err := f.need("access-key", *key); err != nil {
		return err
	}
	// What is no query at all is bad input (exit 2); a callback that lacks
	// its authToken is an invalid one (exit 1).
	q := queryOf(pos[0])
	if !strings.Contains(q, "=") {
		return simulator.Errorf(simulator.EINVALID, "URL|QUERY", "%q is not a callback URL or query (name=value pairs joined by &): give it as the merchant received it", truncate(pos[0], 200))
	}
	return report(e, "v1", protocol.VerifyV1(*key, q), "authToken matches")
}

func verifyV2(e *env, args []string) error {
	f := newKeyBodyFlags("KEY", "the merchant's access key", "the exact request body")
	at := f.string("at", "TIME (Unix ms or RFC 3339)", "check freshness as of TIME")
	pos, body, err := f.load(e, args, 1, "URL|QUERY (with signature, timestamp and nonce)")
	if err != nil {
		return err
	}
	now, err := atFlag(e, *at)
	if err != nil {
		return err
	}
	params, err := protocol.ParseV1Query(queryOf(pos[0]))
	if err != nil {
		return invalid("URL|QUERY", err)
	}
	q := map[string][]string{}
	for _, p := range params {
		q[p.Name] = []string{p.Value}
	}
	err = protocol.VerifyV2(*f.key, q, body, now, protocol.FreshnessWindow)
	return report(e, "v2", err, "signature matches and the timestamp is inside the 60 s window")
}

func verifyBodySign(e *env, args []string) error {
	f := newKeyBodyFlags("KEY", "the merchant's access key", "the exact response body")
	header := f.string("header", `'sign_type="HMAC-SHA256", signature= "..."'`, "the Body-Sign header value")
	_, body, err := f.load(e, args, 0, "")
	if err != nil {
		return err
	}
	// An empty value is allowed: it checks what a response without the
	// header gets.
	if !f.given("header") {
		return f.need("header", "")
	}
	value := *header
	if name, rest, ok := strings.Cut(value, ":"); ok && strings.EqualFold(strings.TrimSpace(name), protocol.BodySignHeaderName) {
		value = rest
	}
	err = protocol.VerifyBodySign(*f.key, value, body)
	if m, ok := errors.AsType[*protocol.Mismatch](err); ok && bytes.HasSuffix(body, []byte("\n")) && protocol.VerifyBodySign(*f.key, value, bytes.TrimRight(body, "\r\n")) == nil {
		m.Cause = "the signature matches the body without its final line break: if the answer had none, the line break comes from how the body was saved " +
			"(an editor, echo or a copy from a terminal adds one); save the bytes as received (curl -o FILE) and verify again"
	}
	return report(e, "bodysign", err, "Body-Sign matches the body bytes")
}

func verifyKit(e *env, args []string) error {
	f := newKeyBodyFlags("KITKEY", "the kit key", "the request body")
	sign := f.string("sign", "X-SIGN (hex)", "the x-sign header")
	ts := f.string("timestamp", "X-TIMESTAMP (Unix ms)", "the x-timestamp header")
	nonce := f.string("nonce", "X-NONCE", "the x-nonce header")
	at := f.string("at", "TIME (Unix ms or RFC 3339)", "check freshness as of TIME")
	_, body, err := f.load(e, args, 0, "")
	if err != nil {
		return err
	}
	now, err := atFlag(e, *at)
	if err != nil {
		return err
	}
	err = protocol.VerifyKit(*f.key, *sign, *ts, *nonce, body, now, protocol.FreshnessWindow)
	return report(e, "kit", err, "x-sign matches and x-timestamp is inside the 60 s window")
}

func verifyUsage(e *env, args []string) error {
	f := newKeyBodyFlags("KEY", "the basic-interface access key", "the request body")
	sig := f.string("signature", "SIG (Base64)", "the signature header")
	ts := f.string("timestamp", "TS (Unix ms)", "the ts header")
	nonce := f.string("nonce", "N", "the nonce header")
	_, body, err := f.load(e, args, 0, "")
	if err != nil {
		return err
	}
	return report(e, "usage", protocol.VerifyUsage(*f.key, *ts, *nonce, *sig, body), "signature matches the canonical body")
}

func verifyAPIG(e *env, args []string) error {
	f := newAPIGFlags()
	at := f.string("at", "TIME (Unix ms, RFC 3339 or yyyyMMddTHHmmssZ)", "check X-Sdk-Date as of TIME")
	r, err := f.load(e, args)
	if err != nil {
		return err
	}
	if *f.date != "" {
		r.Header.Set("X-Sdk-Date", *f.date)
	}
	now, err := atFlag(e, *at)
	if err != nil {
		return err
	}
	lookup := func(ak string) (string, bool) { return *f.sk, ak == *f.ak }
	_, err = protocol.VerifyAPIG(lookup, r, now)
	return report(e, "apig", err, "Authorization matches and X-Sdk-Date is inside the 15-minute window")
}
