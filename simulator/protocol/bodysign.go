package protocol

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"strings"
)

// BodySignHeaderName is the V1 response signature header. HTTP header names
// are case-insensitive; the docs' warning that "Body-sign" fails is about
// their own gateway, which kgsim cannot observe (callbacks.md §15 Q6).
const BodySignHeaderName = "Body-Sign"

const bodySignType = "HMAC-SHA256"

// BodySign returns Base64(HMAC-SHA256(accessKey, body)) over the exact
// response bytes, whitespace included (callbacks.md §3.4).
func BodySign(accessKey string, body []byte) string {
	return hmacBase64(accessKey, body)
}

// BodySignHeader renders the header value exactly as the docs print it,
// including the space after "signature=".
func BodySignHeader(signature string) string {
	return `sign_type="` + bodySignType + `", signature= "` + signature + `"`
}

// ParseBodySign extracts the signature from a Body-Sign header value. It
// accepts the spacing variants real merchants send (spaces around "," and
// "=", items in any order, extra items) but requires both sign_type and
// signature, double-quoted, and sign_type exactly HMAC-SHA256: the
// marketplace's debugger rejects unquoted values as a format error.
func ParseBodySign(header string) (string, error) {
	if strings.TrimSpace(header) == "" {
		return "", malformed(BodySignHeaderName, "header is missing; every V1 response must carry %s", BodySignHeader("<Base64 HMAC of the body>"))
	}
	items := map[string]string{}
	rest := header
	for {
		rest = strings.TrimLeft(rest, " \t")
		name, after, ok := strings.Cut(rest, "=")
		if !ok {
			return "", malformed(BodySignHeaderName, "item %q has no '=' (want sign_type=\"HMAC-SHA256\", signature= \"...\")", strings.TrimSpace(rest))
		}
		name = strings.TrimSpace(name)
		after = strings.TrimLeft(after, " \t")
		var value string
		if strings.HasPrefix(after, `"`) {
			v, tail, ok := strings.Cut(after[1:], `"`)
			if !ok {
				return "", malformed(BodySignHeaderName, "%s: closing '\"' is missing", name)
			}
			value, rest = v, tail
		} else {
			v, tail, _ := strings.Cut(after, ",")
			if name == "sign_type" || name == "signature" {
				return "", malformed(BodySignHeaderName, "%s value %s is not double-quoted (want %s=\"...\")", name, strings.TrimSpace(v), name)
			}
			value, rest = v, ","+tail
		}
		if _, dup := items[name]; dup {
			return "", malformed(BodySignHeaderName, "%s appears twice", name)
		}
		items[name] = value
		rest = strings.TrimLeft(rest, " \t")
		if rest == "" || rest == "," {
			break
		}
		if rest[0] != ',' {
			return "", malformed(BodySignHeaderName, "unexpected %q after %s (items are separated by ',')", rest, name)
		}
		rest = rest[1:]
	}
	signType, ok := items["sign_type"]
	if !ok {
		return "", malformed(BodySignHeaderName, "sign_type is missing (want sign_type=\"HMAC-SHA256\")")
	}
	if signType != bodySignType {
		return "", malformed(BodySignHeaderName, "sign_type is %q, want \"HMAC-SHA256\" (case-sensitive)", signType)
	}
	sig, ok := items["signature"]
	if !ok || sig == "" {
		return "", malformed(BodySignHeaderName, "signature is missing or empty (want signature= \"<Base64 HMAC of the body>\")")
	}
	return sig, nil
}

// VerifyBodySign checks a V1 response's Body-Sign header against the raw
// body bytes as received: no re-serialisation, no trimming, no charset
// conversion.
func VerifyBodySign(accessKey, header string, body []byte) error {
	received, err := ParseBodySign(header)
	if err != nil {
		return err
	}
	expected := BodySign(accessKey, body)
	if equalBase64(expected, received) {
		return nil
	}
	return &Mismatch{
		Scheme:    "bodysign",
		Canonical: string(body),
		Expected:  expected,
		Received:  received,
		Cause:     diagnoseBodySign(accessKey, body, received),
	}
}

func diagnoseBodySign(accessKey string, body []byte, received string) string {
	if _, err := hex.DecodeString(received); err == nil && len(received) == 64 {
		return "the signature is hex; it must be the Base64 of the HMAC"
	}
	suspects := keySuspects(accessKey, func(k string) string { return BodySign(k, body) })
	suspects = append(suspects,
		suspect{"the signature covers the body without its leading/trailing whitespace; it must cover the exact bytes sent", func() string {
			return BodySign(accessKey, bytes.TrimSpace(body))
		}},
		suspect{"the signature covers a re-serialised (compact) copy of the body, not the bytes sent; sign the exact bytes you write to the response", func() string {
			return bodySignOf(accessKey, body, compactJSON)
		}},
		suspect{"the signature covers a re-serialised copy of the body with sorted members, not the bytes sent; sign the exact bytes you write to the response", func() string {
			return bodySignOf(accessKey, body, func(b []byte) ([]byte, error) { return CanonicalJSON(b, SortAllLevels) })
		}},
	)
	return diagnose(received, equalBase64, suspects...)
}

func bodySignOf(accessKey string, body []byte, transform func([]byte) ([]byte, error)) string {
	b, err := transform(body)
	if err != nil {
		return ""
	}
	return BodySign(accessKey, b)
}

func compactJSON(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	err := json.Compact(&buf, b)
	return buf.Bytes(), err
}
