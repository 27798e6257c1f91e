package protocol

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/kgsim/kgsim/simulator/vectors"
)

func TestBodySignVectors(t *testing.T) {
	for _, v := range vectors.Of(t, "callbacks.json", "v1_body_sign") {
		t.Run(v.Get("id").String(), func(t *testing.T) {
			in := v.Get("inputs")
			key, body := in.Get("accessKey").String(), []byte(in.Get("body").String())
			if hexBody := in.Get("bodyHex"); hexBody.Exists() && hex.EncodeToString(body) != hexBody.String() {
				t.Fatal("body differs from bodyHex")
			}
			sig := BodySign(key, body)
			if want := v.Get("expected").String(); sig != want {
				t.Errorf("signature = %s, want %s", sig, want)
			}
			header := BodySignHeader(sig)
			if want := v.Get("expectedHeader").String(); header != want {
				t.Errorf("header = %s, want %s", header, want)
			}
			if err := VerifyBodySign(key, header, body); err != nil {
				t.Errorf("VerifyBodySign = %v", err)
			}
		})
	}
}

// Header variants seen in real merchants: the parser accepts these and
// extracts the same signature.
func TestParseBodySignVariants(t *testing.T) {
	const sig = "6V+IIfRS/87Kefne/yfkmA/Ph7+4f1X2ieSZFGQrrAw="
	for _, h := range []string{
		`sign_type="HMAC-SHA256", signature= "` + sig + `"`,
		`sign_type="HMAC-SHA256",signature="` + sig + `"`,
		`sign_type = "HMAC-SHA256" , signature = "` + sig + `"`,
		`signature="` + sig + `", sign_type="HMAC-SHA256"`,
		` sign_type="HMAC-SHA256",	signature="` + sig + `", charset=UTF-8`,
		`sign_type="HMAC-SHA256", signature="` + sig + `",`,
	} {
		got, err := ParseBodySign(h)
		if err != nil || got != sig {
			t.Errorf("ParseBodySign(%q) = %q, %v", h, got, err)
		}
	}
}

func TestParseBodySignRejects(t *testing.T) {
	const sig = "6V+IIfRS/87Kefne/yfkmA/Ph7+4f1X2ieSZFGQrrAw="
	for _, h := range []string{
		``,
		`   `,
		`signature="` + sig + `"`,
		`sign_type="HMAC-SHA256"`,
		`sign_type=HMAC-SHA256, signature="` + sig + `"`,
		`sign_type="HMAC-SHA256", signature=` + sig,
		`sign_type="hmac-sha256", signature="` + sig + `"`,
		`sign_type="HMAC-SHA1", signature="` + sig + `"`,
		`sign_type="HMAC-SHA256", signature="` + sig,
		`sign_type="HMAC-SHA256" signature="` + sig + `"`,
		`sign_type="HMAC-SHA256", signature=""`,
		`sign_type="HMAC-SHA256", signature="a", signature="b"`,
		sig,
	} {
		if _, err := ParseBodySign(h); err == nil {
			t.Errorf("ParseBodySign(%q) accepted", h)
		} else if _, ok := errors.AsType[*MalformedError](err); !ok {
			t.Errorf("ParseBodySign(%q) = %T, want *MalformedError", h, err)
		}
	}
}

func TestVerifyBodySignDiagnosis(t *testing.T) {
	const key = "xxxxxxx"
	sent := []byte("{\n  \"resultCode\" : \"000000\",\n  \"resultMsg\" : \"ok\"\n}\n")
	tests := []struct {
		name, key string
		signed    []byte
		cause     string
	}{
		{"trimmed", key, []byte("{\n  \"resultCode\" : \"000000\",\n  \"resultMsg\" : \"ok\"\n}"), "leading/trailing whitespace"},
		{"compacted", key, []byte(`{"resultCode":"000000","resultMsg":"ok"}`), "compact"},
		{"sorted", key, []byte(`{"resultCode":"000000","resultMsg":"ok"}`), ""},
		{"key with whitespace", " " + key, sent, "whitespace"},
		{"other body", key, []byte(`{}`), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig := BodySign(strings.TrimSpace(tt.key), tt.signed)
			err := VerifyBodySign(tt.key, BodySignHeader(sig), sent)
			if tt.name == "key with whitespace" {
				sig = BodySign(key, sent)
				err = VerifyBodySign(tt.key, BodySignHeader(sig), sent)
			}
			m, ok := errors.AsType[*Mismatch](err)
			if !ok {
				t.Fatalf("err = %v, want *Mismatch", err)
			}
			if !strings.Contains(m.Cause, tt.cause) || tt.name == "other body" && m.Cause != "" {
				t.Errorf("cause = %q, want it to mention %q", m.Cause, tt.cause)
			}
		})
	}
	hexSig := hmacHex(key, sent)
	m, _ := errors.AsType[*Mismatch](VerifyBodySign(key, BodySignHeader(hexSig), sent))
	if m == nil || !strings.Contains(m.Cause, "hex") {
		t.Errorf("hex signature: %v", m)
	}
}

func FuzzParseBodySign(f *testing.F) {
	f.Add(`sign_type="HMAC-SHA256", signature= "6V+IIfRS/87Kefne/yfkmA/Ph7+4f1X2ieSZFGQrrAw="`)
	f.Add(`signature="x",sign_type="HMAC-SHA256",extra=1`)
	f.Add(`sign_type=HMAC-SHA256, signature=abc`)
	f.Add(`sign_type="HMAC-SHA256", signature="`)
	f.Fuzz(func(t *testing.T, h string) {
		sig, err := ParseBodySign(h)
		if err != nil {
			return
		}
		// Whatever is accepted renders back to the canonical header, which
		// parses to the same signature.
		if strings.Contains(sig, `"`) {
			t.Fatalf("signature %q contains a quote", sig)
		}
		again, err := ParseBodySign(BodySignHeader(sig))
		if err != nil || again != sig {
			t.Fatalf("re-parse of %q: %q, %v", sig, again, err)
		}
	})
}

func BenchmarkVerifyBodySign(b *testing.B) {
	body := []byte(`{"resultCode":"000000","resultMsg":"success.","instanceId":"61e834ba-7b97-4418-b8f7-e5345137278c","appInfo":{"frontEndUrl":"https://saas.example.com/login","userName":"0123456789abcdef3skyNB7o5RcplcTHhYGNyA=="}}`)
	header := BodySignHeader(BodySign("xxxxxxx", body))
	b.ReportAllocs()
	for b.Loop() {
		if err := VerifyBodySign("xxxxxxx", header, body); err != nil {
			b.Fatal(err)
		}
	}
}
