package protocol

import (
	"cmp"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Param is one query parameter of a V1 request, URL-decoded.
type Param struct {
	Name, Value string
}

// V1 parameter names with a role in signing.
const (
	V1AuthToken = "authToken"
	V1TimeStamp = "timeStamp"
)

// ParseV1Query splits a raw query string into its parameters in wire order,
// URL-decoding names and values the way a Java servlet does ("+" is a
// space). A parameter given twice is refused: the marketplace never sends
// one, and which value a merchant's framework signs would be a guess.
func ParseV1Query(raw string) ([]Param, error) {
	var params []Param
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		rawName, rawValue, _ := strings.Cut(part, "=")
		name, err := url.QueryUnescape(rawName)
		if err != nil {
			return nil, malformed("query", "parameter name %q is not URL-encoded correctly: %v", rawName, err)
		}
		value, err := url.QueryUnescape(rawValue)
		if err != nil {
			return nil, malformed("query", "parameter %s: value %q is not URL-encoded correctly: %v", name, rawValue, err)
		}
		if slices.ContainsFunc(params, func(p Param) bool { return p.Name == name }) {
			return nil, malformed("query", "parameter %s appears twice", name)
		}
		params = append(params, Param{name, value})
	}
	return params, nil
}

// sortedParams returns params without authToken, sorted by name in byte
// order (Java TreeMap order, callbacks.md §3.2).
func sortedParams(params []Param) []Param {
	out := make([]Param, 0, len(params))
	for _, p := range params {
		if p.Name != V1AuthToken {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b Param) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// V1Canonical returns the string a V1 authToken signs: every parameter but
// authToken, URL-decoded, sorted by name, joined as name=value with "&". An
// empty value still contributes "name=".
func V1Canonical(params []Param) string {
	return joinParams(sortedParams(params))
}

func joinParams(params []Param) string {
	var b strings.Builder
	for i, p := range params {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.Name)
		b.WriteByte('=')
		b.WriteString(p.Value)
	}
	return b.String()
}

// ParamValue returns the value of the named parameter.
func ParamValue(params []Param, name string) (string, bool) {
	i := slices.IndexFunc(params, func(p Param) bool { return p.Name == name })
	if i < 0 {
		return "", false
	}
	return params[i].Value, true
}

// V1Timestamp renders t as a V1 timeStamp: UTC yyyyMMddHHmmssSSS.
func V1Timestamp(t time.Time) string {
	t = t.UTC()
	return t.Format("20060102150405") + fmt.Sprintf("%03d", t.Nanosecond()/1e6)
}

// SignV1 returns the authToken of a V1 request:
// Base64(HMAC-SHA256(accessKey + timeStamp, V1Canonical(params))). params
// must include timeStamp.
func SignV1(accessKey string, params []Param) (string, error) {
	ts, ok := ParamValue(params, V1TimeStamp)
	if !ok {
		return "", malformed("query", "no timeStamp parameter; the authToken key is accessKey + timeStamp")
	}
	return signV1(accessKey, ts, V1Canonical(params)), nil
}

func signV1(accessKey, timeStamp, canonical string) string {
	return hmacBase64(accessKey+timeStamp, []byte(canonical))
}

// EncodeV1Query renders params as the marketplace puts them on the wire:
// sorted by name, form-encoded (space as "+", everything outside
// A-Z a-z 0-9 - _ . ~ as upper-case %XX), authToken appended last
// (callbacks.md §3.1).
func EncodeV1Query(params []Param, authToken string) string {
	var b strings.Builder
	for _, p := range sortedParams(params) {
		b.WriteString(url.QueryEscape(p.Name))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(p.Value))
		b.WriteByte('&')
	}
	b.WriteString(V1AuthToken + "=")
	b.WriteString(url.QueryEscape(authToken))
	return b.String()
}

// VerifyV1 checks the authToken of a V1 request's raw query string. A
// mismatch is a *Mismatch naming the likely cause when it is one of the
// common mistakes.
func VerifyV1(accessKey, rawQuery string) error {
	params, err := ParseV1Query(rawQuery)
	if err != nil {
		return err
	}
	received, ok := ParamValue(params, V1AuthToken)
	if !ok {
		return malformed(V1AuthToken, "parameter is missing")
	}
	ts, ok := ParamValue(params, V1TimeStamp)
	if !ok {
		return malformed(V1TimeStamp, "parameter is missing; the authToken key is accessKey + timeStamp")
	}
	canonical := V1Canonical(params)
	expected := signV1(accessKey, ts, canonical)
	if equalBase64(expected, received) {
		return nil
	}
	return &Mismatch{
		Scheme:    "v1",
		Canonical: canonical,
		Expected:  expected,
		Received:  received,
		Cause:     diagnoseV1(accessKey, ts, rawQuery, params, expected, received),
	}
}

func diagnoseV1(accessKey, ts, rawQuery string, params []Param, expected, received string) string {
	if _, err := hex.DecodeString(received); err == nil && len(received) == 64 {
		return "the authToken is hex; it must be the Base64 of the HMAC"
	}
	canonical := V1Canonical(params)
	suspects := keySuspects(accessKey, func(k string) string { return signV1(k, ts, canonical) })
	suspects = append(suspects,
		suspect{"a \"+\" in the authToken arrived as a space: the authToken was not URL-encoded on the wire, or was decoded twice", func() string {
			return strings.ReplaceAll(expected, "+", " ")
		}},
		suspect{"the parameters were signed in the order they were sent instead of sorted by name", func() string {
			var unsorted []Param
			for _, p := range params {
				if p.Name != V1AuthToken {
					unsorted = append(unsorted, p)
				}
			}
			return signV1(accessKey, ts, joinParams(unsorted))
		}},
		suspect{"the values were signed URL-encoded; they must be URL-decoded before signing", func() string {
			return signV1(accessKey, ts, rawCanonical(rawQuery, false))
		}},
		suspect{"the values were URL-decoded twice before signing (a value was encoded twice, or decoded by both the framework and the code)", func() string {
			return signV1(accessKey, ts, rawCanonical(rawQuery, true))
		}},
		suspect{"the HMAC key was the access key alone; it must be accessKey + timeStamp", func() string {
			return hmacBase64(accessKey, []byte(canonical))
		}},
	)
	return diagnose(received, equalBase64, suspects...)
}

// rawCanonical is the canonical string built from the raw, still-encoded
// values (twice=false) or from values decoded twice (twice=true).
func rawCanonical(rawQuery string, twice bool) string {
	var params []Param
	for part := range strings.SplitSeq(rawQuery, "&") {
		name, value, _ := strings.Cut(part, "=")
		if part == "" || name == V1AuthToken {
			continue
		}
		if twice {
			for range 2 {
				if v, err := url.QueryUnescape(value); err == nil {
					value = v
				}
			}
		}
		params = append(params, Param{name, value})
	}
	return V1Canonical(params)
}
