package protocol

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	"github.com/kgsim/kgsim/simulator/vectors"
	"github.com/tidwall/gjson"
)

// rsa2048PublicPEM is below the marketplace minimum; embedded because
// generating it in every run is slow under -race.
const rsa2048PublicPEM = `-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAvBL06Er1TW8RA6QqaryI
t/QI9qe7XTzBwnTmL0tcPN1q7sUa9H+q31xs2DsmI100NTGZoEWdkFC1hP/HfiSr
79iU0S2WWaRzRUb8WrEn0bd95RduY012/m8IF5akyXi3j3/DCmSxzh22hNcUIka5
t6nSfV15v7loieQ/Qa3x2rey2JrPBqVAdbrxlreO7ih1Vv+pDrS9zkvBXN85x74b
46J17oAET9YD0u1y5CXPa0gSu/Z8FVchixKyxXBRsLkK3DUGPq6UoX+CAkbkihHn
yLuTnKvaael3VGCIYTRvohM/2dqDMnmqBbLwRmDhHUYdt3eDxMxiWetS9/m4wQOv
iwIDAQAB
-----END PUBLIC KEY-----
`

// r1Keys returns the 3072-bit key pair of vector R1, which R2 shares, and
// R1's ciphertext.
func r1Keys(tb testing.TB) (*rsa.PrivateKey, *rsa.PublicKey, string) {
	tb.Helper()
	r1 := vectors.Of(tb, "identity.json", "rsa-oaep-decrypt")[0]
	if id := r1.Get("id").String(); id != "R1" {
		tb.Fatalf("first rsa-oaep-decrypt vector is %s, want R1", id)
	}
	r1 = r1.Get("inputs")
	priv, err := ParsePrivateKeyPEM([]byte(r1.Get("privateKeyPkcs8Pem").String()))
	if err != nil {
		tb.Fatal(err)
	}
	pub, err := ParsePublicKeyPEM([]byte(r1.Get("publicKeySpkiPem").String()))
	if err != nil {
		tb.Fatal(err)
	}
	if !priv.PublicKey.Equal(pub) {
		tb.Fatal("R1's public key is not the public half of its private key")
	}
	return priv, pub, r1.Get("ciphertextBase64").String()
}

// vectorOAEPHash maps a vector's oaepHash and mgf1Hash to the setting.
func vectorOAEPHash(t *testing.T, in gjson.Result) OAEPHash {
	switch in.Get("oaepHash").String() + "/" + in.Get("mgf1Hash").String() {
	case "SHA-256/SHA-256":
		return OAEPSHA256
	case "SHA-1/SHA-1":
		return OAEPSHA1
	case "SHA-256/SHA-1":
		return OAEPSHA256MGF1SHA1
	}
	t.Fatalf("no setting for %s", in)
	return ""
}

func TestOAEPVectors(t *testing.T) {
	priv, _, _ := r1Keys(t)
	for _, v := range vectors.Of(t, "identity.json", "rsa-oaep-decrypt") {
		t.Run(v.Get("id").String(), func(t *testing.T) {
			if k := v.Get("inputs.privateKeyPkcs8Pem").String(); k != "same as R1" && !strings.Contains(k, "BEGIN PRIVATE KEY") {
				t.Fatalf("unexpected key %q", k)
			}
			if v.Get("inputs.label").String() != "" {
				t.Fatal("vectors with a label are not supported")
			}
			h := vectorOAEPHash(t, v.Get("inputs"))
			ct := v.Get("inputs.ciphertextBase64").String()
			got, err := DecryptSecret(priv, h, ct)
			if err != nil || got != v.Get("expected").String() {
				t.Fatalf("DecryptSecret(%s) = %q, %v; want %q", h, got, err, v.Get("expected"))
			}
			for _, wrong := range []OAEPHash{OAEPSHA256, OAEPSHA1, OAEPSHA256MGF1SHA1} {
				if wrong == h {
					continue
				}
				_, err := DecryptSecret(priv, wrong, ct)
				if !errors.Is(err, rsa.ErrDecryption) || !strings.Contains(err.Error(), "but does with "+string(h)+" ") {
					t.Errorf("DecryptSecret(%s) error = %v; want one naming %s", wrong, err, h)
				}
			}
		})
	}
}

// TestOAEPRoundTrip encrypts with every setting and decrypts with every
// setting: only the same one works, and the others name it.
func TestOAEPRoundTrip(t *testing.T) {
	priv, pub, _ := r1Keys(t)
	settings := []OAEPHash{OAEPSHA256, OAEPSHA1, OAEPSHA256MGF1SHA1}
	const secret = "kgsimAbCdEfGhIjKlMnOpQrStUvWx012"
	for _, enc := range settings {
		ct, err := EncryptSecret(rand.Reader, pub, enc, secret)
		if err != nil {
			t.Fatal(err)
		}
		if raw, err := base64.StdEncoding.DecodeString(ct); err != nil || len(raw) != 384 || strings.ContainsAny(ct, "\r\n") {
			t.Errorf("%s: ciphertext %q is not single-line Base64 of 384 bytes", enc, ct)
		}
		for _, dec := range settings {
			got, err := DecryptSecret(priv, dec, ct)
			switch {
			case dec == enc && (err != nil || got != secret):
				t.Errorf("encrypt %s, decrypt %s: %q, %v", enc, dec, got, err)
			case dec != enc && (err == nil || !strings.Contains(err.Error(), "but does with "+string(enc)+" ")):
				t.Errorf("encrypt %s, decrypt %s: error %v does not name %s", enc, dec, err, enc)
			}
		}
	}
}

func TestDecryptSecretWrongKey(t *testing.T) {
	priv, _, _ := r1Keys(t)
	// A ciphertext of the right length that no OAEP setting accepts, as
	// one made with another merchant's public key would be.
	ct := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, priv.Size()))
	if _, err := DecryptSecret(priv, OAEPSHA256, ct); !errors.Is(err, rsa.ErrDecryption) || !strings.Contains(err.Error(), "any OAEP setting") {
		t.Errorf("error = %v, want one saying no setting works", err)
	}
}

func TestDecryptSecretMalformed(t *testing.T) {
	priv, _, _ := r1Keys(t)
	for _, c := range []struct{ name, in string }{
		{"not Base64", "not base64!"},
		{"URL-safe alphabet", strings.Repeat("-_", 256)},
		{"missing padding", "YWJj" + "YQ"},
		{"too short for the key", "YWJj"},
		{"empty", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			var m *MalformedError
			if _, err := DecryptSecret(priv, OAEPSHA256, c.in); !errors.As(err, &m) || m.Field != "clientSecret" {
				t.Errorf("error = %v, want MalformedError for clientSecret", err)
			}
		})
	}
}

func TestParseOAEPHash(t *testing.T) {
	for _, c := range []struct {
		in   string
		want OAEPHash
	}{
		{"", OAEPSHA256},
		{"sha256", OAEPSHA256},
		{"sha1", OAEPSHA1},
		{"sha256-mgf1sha1", OAEPSHA256MGF1SHA1},
		{"SHA256-MGF1SHA1", OAEPSHA256MGF1SHA1},
	} {
		if got, err := ParseOAEPHash(c.in); got != c.want || err != nil {
			t.Errorf("ParseOAEPHash(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{"sha-256", "md5", "sha512"} {
		var m *MalformedError
		_, err := ParseOAEPHash(in)
		if !errors.As(err, &m) || !strings.Contains(m.Reason, "sha256, sha1, sha256-mgf1sha1") {
			t.Errorf("ParseOAEPHash(%q) error = %v; want one naming the accepted values", in, err)
		}
	}
	var m *MalformedError
	if _, err := EncryptSecret(rand.Reader, nil, OAEPHash("md5"), "x"); !errors.As(err, &m) {
		t.Errorf("EncryptSecret with an unknown setting: %v", err)
	}
}

func TestOAEPKeyPEM(t *testing.T) {
	priv, pub, _ := r1Keys(t)
	pkcs1Pub := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(pub)})
	if got, err := ParsePublicKeyPEM(pkcs1Pub); err != nil || !got.Equal(pub) {
		t.Errorf("PKCS#1 public key: %v", err)
	}
	pkcs1Priv := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(priv)})
	if got, err := ParsePrivateKeyPEM(pkcs1Priv); err != nil || !got.Equal(priv) {
		t.Errorf("PKCS#1 private key: %v", err)
	}
	spki, err := MarshalPublicKeyPEM(pub)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ParsePublicKeyPEM(spki); err != nil || !got.Equal(pub) || !strings.HasPrefix(string(spki), "-----BEGIN PUBLIC KEY-----\n") {
		t.Errorf("MarshalPublicKeyPEM round trip: %v\n%s", err, spki)
	}
	pkcs8, err := MarshalPrivateKeyPEM(priv)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ParsePrivateKeyPEM(pkcs8); err != nil || !got.Equal(priv) || !strings.HasPrefix(string(pkcs8), "-----BEGIN PRIVATE KEY-----\n") {
		t.Errorf("MarshalPrivateKeyPEM round trip: %v\n%s", err, pkcs8)
	}
}

func TestOAEPKeyPEMRefused(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecPub, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	ecPriv, _ := x509.MarshalPKCS8PrivateKey(ec)
	block := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }
	for _, c := range []struct {
		name, reason string
		public       bool
		in           []byte
	}{
		{"2048-bit public key", "the key has 2048 bits; the marketplace requires at least 3072", true, []byte(rsa2048PublicPEM)},
		{"bare Base64 without PEM lines", "no PEM block", true, []byte(strings.Join(strings.Split(rsa2048PublicPEM, "\n")[1:8], ""))},
		{"corrupt SubjectPublicKeyInfo", "not an X.509 SubjectPublicKeyInfo", true, block("PUBLIC KEY", []byte{0x30, 0x03, 1, 2, 3})},
		{"corrupt PKCS#1 public key", "not a PKCS#1 public key", true, block("RSA PUBLIC KEY", []byte("junk"))},
		{"EC public key", "requires an RSA key", true, block("PUBLIC KEY", ecPub)},
		{"certificate", `PEM block is "CERTIFICATE"`, true, block("CERTIFICATE", []byte("junk"))},
		{"private key given as public", `PEM block is "PRIVATE KEY"`, true, block("PRIVATE KEY", ecPriv)},
		{"no private PEM block", "no PEM block", false, []byte("MIIG/QIBADANBgkqhkiG9w0BAQEFAASCBucwggbjAgEAAoIBgQDVmw4JC")},
		{"corrupt PKCS#8", "not PKCS#8", false, block("PRIVATE KEY", []byte("junk"))},
		{"corrupt PKCS#1 private key", "not a PKCS#1 private key", false, block("RSA PRIVATE KEY", []byte("junk"))},
		{"EC private key", "requires an RSA key", false, block("PRIVATE KEY", ecPriv)},
		{"encrypted private key", "(unencrypted)", false, block("ENCRYPTED PRIVATE KEY", []byte("junk"))},
	} {
		t.Run(c.name, func(t *testing.T) {
			var err error
			if c.public {
				_, err = ParsePublicKeyPEM(c.in)
			} else {
				_, err = ParsePrivateKeyPEM(c.in)
			}
			var m *MalformedError
			if !errors.As(err, &m) || !strings.Contains(m.Reason, c.reason) {
				t.Errorf("error = %v; want a MalformedError saying %q", err, c.reason)
			}
		})
	}
}

func TestOAEPGenerateKeyRefusesSmallKeys(t *testing.T) {
	if _, err := GenerateKey(rand.Reader, 2048); err == nil || !strings.Contains(err.Error(), "at least 3072") {
		t.Errorf("GenerateKey(2048) error = %v; want one requiring 3072 bits", err)
	}
}

func FuzzDecryptSecret(f *testing.F) {
	priv, _, r1 := r1Keys(f)
	for _, s := range []string{
		r1,
		r1[:len(r1)-4],
		strings.Repeat("A", 512),
		strings.Repeat("/", 512),
		"",
		"====",
		"YWJj\nZA==",
		"not base64!",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := DecryptSecret(priv, OAEPSHA256, s)
		var m *MalformedError
		switch {
		case err == nil && got != "kgsim-client-secret-0001":
			t.Fatalf("%q decrypts to %q, which is not R1's plaintext", s, got)
		case err != nil && !errors.As(err, &m) && !errors.Is(err, rsa.ErrDecryption):
			t.Fatalf("%q: error %v is neither malformed input nor a decryption error", s, err)
		}
	})
}
