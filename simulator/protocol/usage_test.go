package protocol

import (
	"errors"
	"strings"
	"testing"

	"github.com/kgsim/kgsim/simulator/vectors"
)

func TestUsageVectors(t *testing.T) {
	for _, v := range vectors.Of(t, "identity.json", "usage-push-body-signature") {
		t.Run(v.Get("id").String(), func(t *testing.T) {
			in := v.Get("inputs")
			key, ts, nonce := in.Get("basicKey").String(), in.Get("ts").String(), in.Get("nonce").String()
			body := []byte(in.Get("body").String())
			want := v.Get("expected").String()
			if got := UsageSignature(key, ts, nonce, body); got != want {
				t.Errorf("signature = %s, want %s", got, want)
			}
			if got := "ts=" + ts + "&nonce=" + nonce + "&body=" + string(body); got != in.Get("stringToSign").String() {
				t.Errorf("string to sign differs from the vector's")
			}
			if err := VerifyUsage(key, ts, nonce, want, body); err != nil {
				t.Errorf("VerifyUsage = %v", err)
			}
		})
	}
}

func TestVerifyUsage(t *testing.T) {
	const key, ts, nonce = "basic-key", "1716363778801", "n1"
	canonical := []byte(`{"usage_records":[{"instance_id":"i-1","metering_sn":"1","usage_value":"9"}]}`)
	unsorted := []byte(`{"usage_records":[{"usage_value":"9","instance_id":"i-1","metering_sn":"1"}]}`)
	sig := UsageSignature(key, ts, nonce, canonical)
	tests := []struct {
		name, sig, ts string
		body          []byte
		want          any
		cause         string
	}{
		{"canonical", sig, ts, canonical, nil, ""},
		{"unsorted body, canonical signature", sig, ts, unsorted, nil, ""},
		{"signed as sent", UsageSignature(key, ts, nonce, unsorted), ts, unsorted, &Mismatch{}, "canonical body"},
		{"hex", hmacHex(key, []byte("ts="+ts+"&nonce="+nonce+"&body="), canonical), ts, canonical, &Mismatch{}, "hex"},
		{"missing ts", sig, "", canonical, &MalformedError{}, ""},
		{"wrong key", UsageSignature("other", ts, nonce, canonical), ts, canonical, &Mismatch{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyUsage(key, tt.ts, nonce, tt.sig, tt.body)
			checkErrType(t, err, tt.want)
			if m, ok := errors.AsType[*Mismatch](err); ok && !strings.Contains(m.Cause, tt.cause) {
				t.Errorf("cause = %q, want it to mention %q", m.Cause, tt.cause)
			}
		})
	}
}
