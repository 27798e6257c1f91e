package protocol

import (
	"errors"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator/vectors"
)

func TestV2Vectors(t *testing.T) {
	for _, v := range vectors.Of(t, "callbacks.json", "v2_signature") {
		t.Run(v.Get("id").String(), func(t *testing.T) {
			in := v.Get("inputs")
			key, ts, nonce := in.Get("accessKey").String(), in.Get("timestamp").String(), in.Get("nonce").String()
			body := []byte(in.Get("reqParams").String())
			s := SignV2(key, ts, nonce, body)
			if want := v.Get("intermediate.bodyHmacHex").String(); s.BodyHMAC != want {
				t.Errorf("bodyHMAC = %s, want %s", s.BodyHMAC, want)
			}
			if want := v.Get("intermediate.canonicalRequest"); want.Exists() {
				if got := strings.Replace(s.Canonical, "<accessKey>", key, 1); got != want.String() {
					t.Errorf("canonical request = %s, want %s", got, want)
				}
			}
			if want := v.Get("expected").String(); s.Signature != want {
				t.Errorf("signature = %s, want %s", s.Signature, want)
			}
			if strings.Contains(s.Canonical, key) {
				t.Error("the canonical request shown in records contains the access key")
			}
			// Upper case on the wire verifies too (S3's expectedUpper).
			sig := s.Signature
			if up := v.Get("expectedUpper"); up.Exists() {
				if up.String() != strings.ToUpper(s.Signature) {
					t.Errorf("upper = %s", up)
				}
				sig = up.String()
			}
			signedAt := time.UnixMilli(mustInt(t, ts))
			q := url.Values{V2Signature: {sig}, V2Timestamp: {ts}, V2Nonce: {nonce}}
			if err := VerifyV2(key, q, body, signedAt.Add(FreshnessWindow), FreshnessWindow); err != nil {
				t.Errorf("VerifyV2 = %v", err)
			}
		})
	}
	// S1's unredacted doc body, kept out of the repository: only its
	// expected value is checked through the redacted one above.
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	ms, err := parseMillis("t", s)
	if err != nil {
		t.Fatal(err)
	}
	return ms.UnixMilli()
}

func TestVerifyV2(t *testing.T) {
	const key, ts, nonce = "SimKey-2024-0001", "1735732800123", "Q7mZ2xv9LkP4sT1wBn8RcD5hJ0yFaE3u"
	body := []byte(`{"activity":"releaseInstance","instanceId":"i-1","testFlag":"1"}`)
	signed := time.UnixMilli(1735732800123)
	sig := SignV2(key, ts, nonce, body).Signature
	q := func(kv ...string) url.Values {
		v := url.Values{V2Signature: {sig}, V2Timestamp: {ts}, V2Nonce: {nonce}}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				v.Del(kv[i])
			} else {
				v.Set(kv[i], kv[i+1])
			}
		}
		return v
	}
	tests := []struct {
		name  string
		query url.Values
		body  []byte
		now   time.Time
		want  any // nil, *MalformedError, *StaleError or *Mismatch
		cause string
	}{
		{name: "fresh", query: q(), body: body, now: signed},
		{name: "60 s old is fresh", query: q(), body: body, now: signed.Add(60 * time.Second)},
		{name: "60 s ahead is fresh", query: q(), body: body, now: signed.Add(-60 * time.Second)},
		{name: "upper-case signature", query: q(V2Signature, strings.ToUpper(sig)), body: body, now: signed},
		{name: "stale by 120 s", query: q(), body: body, now: signed.Add(120 * time.Second), want: &StaleError{}},
		{name: "61 s in the future", query: q(), body: body, now: signed.Add(-61 * time.Second), want: &StaleError{}},
		{name: "missing signature", query: q(V2Signature, ""), body: body, now: signed, want: &MalformedError{}},
		{name: "missing timestamp", query: q(V2Timestamp, ""), body: body, now: signed, want: &MalformedError{}},
		{name: "missing nonce", query: q(V2Nonce, ""), body: body, now: signed, want: &MalformedError{}},
		{name: "timestamp in seconds", query: q(V2Timestamp, "1735732800"), body: body, now: signed, want: &MalformedError{}},
		{name: "timestamp not a number", query: q(V2Timestamp, "17357328001x3"), body: body, now: signed, want: &MalformedError{}},
		{name: "signature not hex", query: q(V2Signature, "zz"+sig[2:]), body: body, now: signed, want: &MalformedError{}},
		{name: "forged signature", query: q(V2Signature, SignV2("other", ts, nonce, body).Signature), body: body, now: signed, want: &Mismatch{}},
		{name: "body with trailing newline", query: q(), body: append(body, '\n'), now: signed, want: &Mismatch{}, cause: "trailing line break"},
		{name: "pretty-printed body", query: q(), body: []byte("{\n  \"activity\": \"releaseInstance\",\n  \"instanceId\": \"i-1\",\n  \"testFlag\": \"1\"\n}"), now: signed, want: &Mismatch{}, cause: "compact copy"},
		{name: "members reordered", query: q(), body: []byte(`{"testFlag":"1","activity":"releaseInstance","instanceId":"i-1"}`), now: signed, want: &Mismatch{}, cause: "top-level members sorted"},
		{name: "upper-case inner hex", query: q(V2Signature, signV2Outer(key, ts, nonce, strings.ToUpper(hmacHex(key, body)))), body: body, now: signed, want: &Mismatch{}, cause: "upper-case hex"},
		{name: "timestamp and nonce swapped", query: q(V2Signature, signV2Outer(key, nonce, ts, hmacHex(key, body))), body: body, now: signed, want: &Mismatch{}, cause: "wrong order"},
		{name: "kit rule", query: q(V2Signature, KitSign(key, nonce, ts, body)), body: body, now: signed, want: &Mismatch{}, cause: "kit x-sign rule"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyV2(key, tt.query, tt.body, tt.now, FreshnessWindow)
			checkErrType(t, err, tt.want)
			if m, ok := errors.AsType[*Mismatch](err); ok && !strings.Contains(m.Cause, tt.cause) {
				t.Errorf("cause = %q, want it to mention %q", m.Cause, tt.cause)
			}
		})
	}
}

// checkErrType fails unless err is nil (want nil) or has want's type.
func checkErrType(t *testing.T, err error, want any) {
	t.Helper()
	var ok bool
	switch want.(type) {
	case nil:
		ok = err == nil
	case *MalformedError:
		_, ok = errors.AsType[*MalformedError](err)
	case *StaleError:
		_, ok = errors.AsType[*StaleError](err)
	case *Mismatch:
		_, ok = errors.AsType[*Mismatch](err)
	}
	if !ok {
		t.Fatalf("err = %v (%T), want %T", err, err, want)
	}
}

func TestStaleErrorMessage(t *testing.T) {
	err := VerifyV2("k", url.Values{V2Signature: {SignV2("k", "1735732800000", "n", nil).Signature}, V2Timestamp: {"1735732800000"}, V2Nonce: {"n"}},
		nil, time.UnixMilli(1735732800000).Add(125*time.Second), FreshnessWindow)
	if got, want := err.Error(), "timestamp is 125 s old, outside the 60 s window"; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
}

func TestV2RoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	seeded := rand.NewChaCha8([32]byte{5, 6})
	now := time.UnixMilli(1735732800123)
	for range 300 {
		body, err := CanonicalJSON(randomObject(r, 0), SortTopLevel)
		if err != nil {
			t.Fatal(err)
		}
		key := randomValue(r, 16)
		nonce, _ := NewNonce(seeded)
		ts := MillisTimestamp(now)
		s := SignV2(key, ts, nonce, body)
		q, _ := url.ParseQuery(V2Query(strings.ToUpper(s.Signature), ts, nonce))
		if err := VerifyV2(key, q, body, now, FreshnessWindow); err != nil {
			t.Fatalf("body %s: %v", body, err)
		}
		if err := VerifyV2(key, q, append(body, ' '), now, FreshnessWindow); err == nil {
			t.Fatalf("body %s: a changed body verified", body)
		}
	}
}

func TestNewNonce(t *testing.T) {
	r := rand.NewChaCha8([32]byte{7, 8})
	a, _ := NewNonce(r)
	b, _ := NewNonce(r)
	if len(a) != 64 || a == b || strings.ToUpper(a) != a {
		t.Errorf("nonces %q, %q: want two different 64-character upper-case hex strings", a, b)
	}
}
