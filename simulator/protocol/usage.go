package protocol

// Usage-push body-signature headers (open-api.md §4.1).
const (
	UsageTimestampHeader = "ts"
	UsageNonceHeader     = "nonce"
	UsageSignatureHeader = "signature"
)

// UsageSignature returns the body signature of an on-demand usage push:
// Base64(HMAC-SHA256(basicKey, "ts={ts}&nonce={nonce}&body={body}")), where
// body is the canonical JSON with members sorted at every level and
// basicKey is the merchant's basic-interface access key, not its APIG SK.
func UsageSignature(basicKey, ts, nonce string, body []byte) string {
	return hmacBase64(basicKey, []byte("ts="+ts+"&nonce="+nonce+"&body="), body)
}

// VerifyUsage checks a usage push's signature header over the canonical
// form of the received body. The docs set no freshness window for ts, so
// none is applied; replays are caught by metering_sn.
func VerifyUsage(basicKey, ts, nonce, signature string, body []byte) error {
	for _, h := range [][2]string{{UsageTimestampHeader, ts}, {UsageNonceHeader, nonce}, {UsageSignatureHeader, signature}} {
		if h[1] == "" {
			return malformed(h[0], "header is missing")
		}
	}
	canonical, err := CanonicalJSON(body, SortAllLevels)
	if err != nil {
		return err
	}
	expected := UsageSignature(basicKey, ts, nonce, canonical)
	if equalBase64(expected, signature) {
		return nil
	}
	suspects := keySuspects(basicKey, func(k string) string { return UsageSignature(k, ts, nonce, canonical) })
	suspects = append(suspects,
		suspect{"the signature covers the body bytes as sent, which are not in canonical form; send the canonical body (compact, members sorted at every level) and sign exactly that", func() string {
			return UsageSignature(basicKey, ts, nonce, body)
		}},
		suspect{"the signature is hex; it must be the Base64 of the HMAC", func() string {
			return hmacHex(basicKey, []byte("ts="+ts+"&nonce="+nonce+"&body="), canonical)
		}},
	)
	return &Mismatch{
		Scheme:    "usage",
		Canonical: "ts=" + ts + "&nonce=" + nonce + "&body=" + string(canonical),
		Expected:  expected,
		Received:  signature,
		Cause:     diagnose(signature, func(a, b string) bool { return equalBase64(a, b) || equalHex(a, b) }, suspects...),
	}
}
