package protocol

import "time"

// Kit sync headers (kit-sync.md §1). HTTP header names are case-insensitive;
// these are the docs' spelling.
const (
	KitSignHeader      = "x-sign"
	KitTimestampHeader = "x-timestamp"
	KitNonceHeader     = "x-nonce"
)

// KitSign returns the x-sign of a joint-operation kit call:
// hex(HMAC-SHA256(kitKey, kitKey + nonce + timestamp + reqParams)), where
// reqParams is the body's canonical form with members sorted at every level
// (kit-sync.md §2). Unlike the basic V2 rule there is no inner body HMAC.
func KitSign(kitKey, nonce, timestamp string, reqParams []byte) string {
	return hmacHex(kitKey, []byte(kitKey), []byte(nonce), []byte(timestamp), reqParams)
}

// VerifyKit checks a kit call's x-sign over the canonical form of body (the
// wire body may be laid out differently from what was signed, kit-sync.md
// §2.2), then the freshness of x-timestamp.
func VerifyKit(kitKey, sign, timestamp, nonce string, body []byte, now time.Time, window time.Duration) error {
	for _, h := range [][2]string{{KitSignHeader, sign}, {KitTimestampHeader, timestamp}, {KitNonceHeader, nonce}} {
		if h[1] == "" {
			return malformed(h[0], "header is missing")
		}
	}
	signed, err := parseMillis(KitTimestampHeader, timestamp)
	if err != nil {
		return err
	}
	if err := checkHexSignature(KitSignHeader, sign); err != nil {
		return err
	}
	reqParams, err := CanonicalJSON(body, SortAllLevels)
	if err != nil {
		return err
	}
	expected := KitSign(kitKey, nonce, timestamp, reqParams)
	if !equalHex(expected, sign) {
		return &Mismatch{
			Scheme:    "kit",
			Canonical: "<kitKey>" + nonce + timestamp + string(reqParams),
			Expected:  expected,
			Received:  sign,
			Cause:     diagnoseKit(kitKey, nonce, timestamp, body, reqParams, sign),
		}
	}
	return checkFresh(KitTimestampHeader, signed, now, window)
}

func diagnoseKit(kitKey, nonce, timestamp string, body, reqParams []byte, received string) string {
	suspects := keySuspects(kitKey, func(k string) string { return KitSign(k, nonce, timestamp, reqParams) })
	suspects = append(suspects,
		suspect{"x-sign was computed over the body bytes as sent; it is over the canonical form (compact, members sorted at every level)", func() string {
			return KitSign(kitKey, nonce, timestamp, body)
		}},
		suspect{"x-sign was computed with only the top-level members sorted; kit calls sort members at every level", func() string {
			b, err := CanonicalJSON(body, SortTopLevel)
			if err != nil {
				return ""
			}
			return KitSign(kitKey, nonce, timestamp, b)
		}},
		suspect{"x-sign was computed with the basic-interface V2 rule (inner body HMAC); kit calls sign kitKey + nonce + timestamp + reqParams directly", func() string {
			return SignV2(kitKey, timestamp, nonce, reqParams).Signature
		}},
	)
	return diagnose(received, equalHex, suspects...)
}
