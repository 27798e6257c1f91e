package protocol

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// V2 query parameter names.
const (
	V2Signature = "signature"
	V2Timestamp = "timestamp"
	V2Nonce     = "nonce"
)

// FreshnessWindow is how far a signed V2 or kit timestamp may be from the
// verifier's clock, either way (callbacks.md §4.1; exactly 60 s is fresh).
const FreshnessWindow = 60 * time.Second

// V2Signed is a V2 signature with its intermediates, as the call record and
// the toolbox show them.
type V2Signed struct {
	BodyHMAC  string // lower-case hex HMAC of reqParams
	Canonical string // the canonical request with the key shown as <accessKey>
	Signature string // lower-case hex
}

// SignV2 signs reqParams, the exact body bytes sent (callbacks.md §4.2):
//
//	bodyHMAC  = hex(HMAC-SHA256(accessKey, reqParams))
//	signature = hex(HMAC-SHA256(accessKey, accessKey + nonce + timestamp + bodyHMAC))
func SignV2(accessKey, timestamp, nonce string, reqParams []byte) V2Signed {
	bodyHMAC := hmacHex(accessKey, reqParams)
	return V2Signed{
		BodyHMAC:  bodyHMAC,
		Canonical: "<accessKey>" + nonce + timestamp + bodyHMAC,
		Signature: signV2Outer(accessKey, timestamp, nonce, bodyHMAC),
	}
}

func signV2Outer(accessKey, timestamp, nonce, bodyHMAC string) string {
	return hmacHex(accessKey, []byte(accessKey), []byte(nonce), []byte(timestamp), []byte(bodyHMAC))
}

// V2Query renders the three signing parameters in the order the docs'
// examples use. They contain only [0-9A-Za-z], so they need no encoding.
func V2Query(signature, timestamp, nonce string) string {
	return V2Signature + "=" + signature + "&" + V2Timestamp + "=" + timestamp + "&" + V2Nonce + "=" + nonce
}

// MillisTimestamp renders t as the decimal Unix epoch milliseconds that V2
// and kit calls sign.
func MillisTimestamp(t time.Time) string {
	return strconv.FormatInt(t.UnixMilli(), 10)
}

// NewNonce returns 64 upper-case hex characters (32 bytes from random), the
// nonce form of the docs' examples.
func NewNonce(random io.Reader) (string, error) {
	var b [32]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		return "", err
	}
	return strings.ToUpper(hex.EncodeToString(b[:])), nil
}

// parseMillis parses a signed millisecond timestamp. A 10-digit value is
// refused with its own message because sending seconds is the most common
// mistake (two doc pages say "单位秒").
func parseMillis(field, s string) (time.Time, error) {
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil || ms < 0 || strings.HasPrefix(s, "+") {
		return time.Time{}, malformed(field, "%q is not a Unix epoch time in milliseconds", s)
	}
	if ms < 1e11 {
		return time.Time{}, malformed(field, "%s looks like seconds; it must be Unix epoch milliseconds (13 digits)", s)
	}
	return time.UnixMilli(ms), nil
}

// checkHexSignature refuses a received signature that cannot be a
// hex HMAC-SHA256 at all, before it is compared.
func checkHexSignature(field, sig string) error {
	if _, err := hex.DecodeString(sig); err != nil || len(sig) != 64 {
		return malformed(field, "%q is not 64 hex characters (a hex HMAC-SHA256)", sig)
	}
	return nil
}

// VerifyV2 checks a V2 request: the signature, timestamp and nonce query
// parameters against body, the exact request bytes as received, then the
// timestamp's freshness against now.
func VerifyV2(accessKey string, query url.Values, body []byte, now time.Time, window time.Duration) error {
	for _, name := range []string{V2Signature, V2Timestamp, V2Nonce} {
		if query.Get(name) == "" {
			return malformed(name, "query parameter is missing")
		}
	}
	received, ts, nonce := query.Get(V2Signature), query.Get(V2Timestamp), query.Get(V2Nonce)
	signed, err := parseMillis(V2Timestamp, ts)
	if err != nil {
		return err
	}
	if err := checkHexSignature(V2Signature, received); err != nil {
		return err
	}
	s := SignV2(accessKey, ts, nonce, body)
	if !equalHex(s.Signature, received) {
		return &Mismatch{
			Scheme:    "v2",
			Canonical: s.Canonical,
			Expected:  s.Signature,
			Received:  received,
			Cause:     diagnoseV2(accessKey, ts, nonce, body, received),
		}
	}
	return checkFresh(V2Timestamp, signed, now, window)
}

func diagnoseV2(accessKey, ts, nonce string, body []byte, received string) string {
	sign := func(b []byte) string { return SignV2(accessKey, ts, nonce, b).Signature }
	transformed := func(f func([]byte) ([]byte, error)) func() string {
		return func() string {
			b, err := f(body)
			if err != nil {
				return ""
			}
			return sign(b)
		}
	}
	suspects := keySuspects(accessKey, func(k string) string { return SignV2(k, ts, nonce, body).Signature })
	suspects = append(suspects,
		suspect{"the signature matches the body without its trailing line break: the body given here is not the exact bytes that were signed (editors add a final newline to files)", func() string {
			return sign(bytes.TrimRight(body, "\r\n"))
		}},
		suspect{"the signature matches a compact copy of the body: the body was re-serialised after signing or before verifying; verify over the raw request bytes", transformed(compactJSON)},
		suspect{"the signature matches the body with its top-level members sorted: the body was re-serialised after signing or before verifying; verify over the raw request bytes", transformed(func(b []byte) ([]byte, error) { return CanonicalJSON(b, SortTopLevel) })},
		suspect{"the signature matches the body with members sorted at every level: the body was re-serialised; verify over the raw request bytes", transformed(func(b []byte) ([]byte, error) { return CanonicalJSON(b, SortAllLevels) })},
		suspect{"the inner body HMAC was upper-case hex; it must be lower case", func() string {
			return signV2Outer(accessKey, ts, nonce, strings.ToUpper(hmacHex(accessKey, body)))
		}},
		suspect{"the body was hashed with plain SHA-256; it must be HMAC-SHA256 keyed with the access key", func() string {
			h := sha256.Sum256(body)
			return signV2Outer(accessKey, ts, nonce, hex.EncodeToString(h[:]))
		}},
		suspect{"timestamp and nonce were concatenated in the wrong order; the canonical request is accessKey + nonce + timestamp + bodyHMAC", func() string {
			return signV2Outer(accessKey, nonce, ts, hmacHex(accessKey, body))
		}},
		suspect{"the kit x-sign rule was used (no inner body HMAC); basic interfaces sign accessKey + nonce + timestamp + hex(HMAC(body))", func() string {
			return KitSign(accessKey, nonce, ts, body)
		}},
	)
	return diagnose(received, equalHex, suspects...)
}
