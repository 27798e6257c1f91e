package protocol

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator/vectors"
)

func TestKitVectors(t *testing.T) {
	for _, v := range vectors.Of(t, "identity.json", "kit-x-sign") {
		t.Run(v.Get("id").String(), func(t *testing.T) {
			in := v.Get("inputs")
			key, ts, nonce := in.Get("kitKey").String(), in.Get("x-timestamp").String(), in.Get("x-nonce").String()
			body := []byte(in.Get("reqParams").String())
			got := KitSign(key, nonce, ts, body)
			if want := v.Get("expected").String(); got != want {
				t.Errorf("x-sign = %s, want %s", got, want)
			}
			now := time.UnixMilli(mustInt(t, ts))
			if err := VerifyKit(key, strings.ToUpper(got), ts, nonce, body, now, FreshnessWindow); err != nil {
				t.Errorf("VerifyKit = %v", err)
			}
		})
	}
	// callbacks.json carries X1 too, with its own field names.
	for _, v := range vectors.Of(t, "callbacks.json", "kit_x_sign") {
		in := v.Get("inputs")
		if got := KitSign(in.Get("kitKey").String(), in.Get("xNonce").String(), in.Get("xTimestamp").String(), []byte(in.Get("reqParams").String())); got != v.Get("expected").String() {
			t.Errorf("%s: x-sign = %s, want %s", v.Get("id"), got, v.Get("expected"))
		}
	}
}

// X1-wrong-rule is the value an implementation gets by applying the basic
// V2 rule to a kit body: KitSign must not produce it, and a merchant that
// does is told so.
func TestKitWrongRuleVector(t *testing.T) {
	for _, v := range vectors.Of(t, "identity.json", "kit-x-sign-negative") {
		in := v.Get("inputs")
		key, ts, nonce := in.Get("kitKey").String(), in.Get("x-timestamp").String(), in.Get("x-nonce").String()
		body := []byte(in.Get("reqParams").String())
		wrong := v.Get("expected").String()
		if SignV2(key, ts, nonce, body).Signature != wrong {
			t.Fatalf("%s: the basic V2 rule does not give the negative vector", v.Get("id"))
		}
		if KitSign(key, nonce, ts, body) == wrong {
			t.Fatalf("%s: KitSign gives the wrong-rule value", v.Get("id"))
		}
		err := VerifyKit(key, wrong, ts, nonce, body, time.UnixMilli(mustInt(t, ts)), FreshnessWindow)
		m, ok := errors.AsType[*Mismatch](err)
		if !ok || !strings.Contains(m.Cause, "basic-interface V2 rule") {
			t.Errorf("err = %v, want a mismatch naming the basic V2 rule", err)
		}
	}
}

func TestVerifyKit(t *testing.T) {
	const key, ts, nonce = "kit-key", "1704081600000", "RLLUammMSInlrNWb"
	now := time.UnixMilli(1704081600000)
	canonical := []byte(`{"instanceId":"i-1","orgInfoList":[{"orgCode":"1","orgName":"总部"}],"tenantId":"t-1","testFlag":0}`)
	// The wire body in document layout: different bytes, same content.
	wire := []byte(`{"tenantId": "t-1", "instanceId": "i-1", "orgInfoList": [{"orgName": "总部", "orgCode": "1"}], "testFlag": 0}`)
	sig := KitSign(key, nonce, ts, canonical)
	tests := []struct {
		name                   string
		sign, timestamp, nonce string
		body                   []byte
		now                    time.Time
		want                   any
		cause                  string
	}{
		{"document layout verifies", sig, ts, nonce, wire, now, nil, ""},
		{"canonical body verifies", sig, ts, nonce, canonical, now, nil, ""},
		{"stale", sig, ts, nonce, wire, now.Add(61 * time.Second), &StaleError{}, ""},
		{"missing x-sign", "", ts, nonce, wire, now, &MalformedError{}, ""},
		{"missing x-nonce", sig, ts, "", wire, now, &MalformedError{}, ""},
		{"seconds", sig, "1704081600", nonce, wire, now, &MalformedError{}, ""},
		{"body not JSON", sig, ts, nonce, []byte("tenantId=t-1"), now, &MalformedError{}, ""},
		{"signed over raw bytes", KitSign(key, nonce, ts, wire), ts, nonce, wire, now, &Mismatch{}, "body bytes as sent"},
		{"top level sorted only", KitSign(key, nonce, ts, mustCanonical(t, wire, SortTopLevel)), ts, nonce, wire, now, &Mismatch{}, "top-level"},
		{"tampered", sig, ts, nonce, []byte(`{"instanceId":"i-2"}`), now, &Mismatch{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyKit(key, tt.sign, tt.timestamp, tt.nonce, tt.body, tt.now, FreshnessWindow)
			checkErrType(t, err, tt.want)
			if m, ok := errors.AsType[*Mismatch](err); ok && !strings.Contains(m.Cause, tt.cause) {
				t.Errorf("cause = %q, want it to mention %q", m.Cause, tt.cause)
			}
		})
	}
}

func mustCanonical(t *testing.T, body []byte, depth SortDepth) []byte {
	t.Helper()
	b, err := CanonicalJSON(body, depth)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
