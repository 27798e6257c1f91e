package protocol

import (
	"crypto"
	"crypto/rsa"
	_ "crypto/sha1" // registers crypto.SHA1 for the sha1 settings
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"strings"
)

// OAEPHash names the OAEP and MGF1 digests of the kit clientSecret
// encryption, which the marketplace does not document (kit-sync.md §6).
type OAEPHash string

const (
	// OAEPSHA256 uses SHA-256 for OAEP and MGF1: the default [SIM guess].
	OAEPSHA256 OAEPHash = "sha256"
	// OAEPSHA1 uses SHA-1 for both, as Java's RSA/ECB/OAEPPadding does.
	OAEPSHA1 OAEPHash = "sha1"
	// OAEPSHA256MGF1SHA1 uses SHA-256 for OAEP and SHA-1 for MGF1, as
	// Java's OAEPWithSHA-256AndMGF1Padding does by default.
	OAEPSHA256MGF1SHA1 OAEPHash = "sha256-mgf1sha1"
)

// minKeyBits is the marketplace's minimum RSA key size (kit-sync.md §6).
const minKeyBits = 3072

// ParseOAEPHash reads the kit.oaepHash setting; empty means sha256.
func ParseOAEPHash(s string) (OAEPHash, error) {
	if s == "" {
		return OAEPSHA256, nil
	}
	h := OAEPHash(strings.ToLower(s))
	if _, err := h.options(); err != nil {
		return "", err
	}
	return h, nil
}

func (h OAEPHash) options() (*rsa.OAEPOptions, error) {
	switch h {
	case OAEPSHA256:
		return &rsa.OAEPOptions{Hash: crypto.SHA256, MGFHash: crypto.SHA256}, nil
	case OAEPSHA1:
		return &rsa.OAEPOptions{Hash: crypto.SHA1, MGFHash: crypto.SHA1}, nil
	case OAEPSHA256MGF1SHA1:
		return &rsa.OAEPOptions{Hash: crypto.SHA256, MGFHash: crypto.SHA1}, nil
	}
	return nil, malformed("kit.oaepHash", "%q is not one of sha256, sha1, sha256-mgf1sha1", string(h))
}

// describe spells a setting out for a merchant who knows the Java names.
func (h OAEPHash) describe() string {
	switch h {
	case OAEPSHA1:
		return "sha1 (OAEP and MGF1 SHA-1)"
	case OAEPSHA256MGF1SHA1:
		return "sha256-mgf1sha1 (OAEP SHA-256, MGF1 SHA-1)"
	}
	return "sha256 (OAEP and MGF1 SHA-256)"
}

// EncryptSecret encrypts a clientSecret for the merchant: RSA-OAEP with an
// empty label, as single-line standard Base64 with padding.
func EncryptSecret(random io.Reader, pub *rsa.PublicKey, h OAEPHash, plaintext string) (string, error) {
	opts, err := h.options()
	if err != nil {
		return "", err
	}
	ct, err := rsa.EncryptOAEPWithOptions(random, pub, []byte(plaintext), opts)
	if err != nil {
		return "", fmt.Errorf("clientSecret: OAEP %s encryption: %w", h, err)
	}
	return base64.StdEncoding.EncodeToString(ct), nil
}

// DecryptSecret decrypts a clientSecret as a merchant does. When it fails,
// it tries the other hash settings, because differing hashes are the usual
// cause, and names the one that works.
func DecryptSecret(priv *rsa.PrivateKey, h OAEPHash, b64 string) (string, error) {
	opts, err := h.options()
	if err != nil {
		return "", err
	}
	ct, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return "", malformed("clientSecret", "is not standard Base64 with padding: %v", err)
	}
	if len(ct) != priv.Size() {
		return "", malformed("clientSecret", "decodes to %d bytes, but a ciphertext for this %d-bit key has exactly %d: was it encrypted with the matching public key?",
			len(ct), priv.N.BitLen(), priv.Size())
	}
	pt, err := priv.Decrypt(nil, ct, opts)
	if err == nil {
		return string(pt), nil
	}
	if !errors.Is(err, rsa.ErrDecryption) {
		return "", fmt.Errorf("clientSecret: %w", err)
	}
	for _, other := range []OAEPHash{OAEPSHA256, OAEPSHA1, OAEPSHA256MGF1SHA1} {
		if other == h {
			continue
		}
		o, _ := other.options()
		if _, err := priv.Decrypt(nil, ct, o); err == nil {
			return "", fmt.Errorf("clientSecret does not decrypt with OAEP %s but does with %s: both sides must use the same OAEP and MGF1 hashes (kit.oaepHash=%s): %w",
				h.describe(), other.describe(), other, rsa.ErrDecryption)
		}
	}
	return "", fmt.Errorf("clientSecret does not decrypt with this private key under any OAEP setting (sha256, sha1, sha256-mgf1sha1): is it the key whose public half was uploaded? %w", rsa.ErrDecryption)
}

// ParsePublicKeyPEM reads an RSA public key of at least 3072 bits from a
// "PUBLIC KEY" (X.509 SubjectPublicKeyInfo) or "RSA PUBLIC KEY" (PKCS#1)
// PEM block.
func ParsePublicKeyPEM(data []byte) (*rsa.PublicKey, error) {
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, malformed("publicKey", "no PEM block found; paste the key with its -----BEGIN PUBLIC KEY----- and -----END PUBLIC KEY----- lines")
	}
	var pub *rsa.PublicKey
	switch b.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(b.Bytes)
		if err != nil {
			return nil, malformed("publicKey", "PUBLIC KEY block is not an X.509 SubjectPublicKeyInfo: %v", err)
		}
		rk, ok := k.(*rsa.PublicKey)
		if !ok {
			return nil, malformed("publicKey", "is a %T; the marketplace requires an RSA key", k)
		}
		pub = rk
	case "RSA PUBLIC KEY":
		k, err := x509.ParsePKCS1PublicKey(b.Bytes)
		if err != nil {
			return nil, malformed("publicKey", "RSA PUBLIC KEY block is not a PKCS#1 public key: %v", err)
		}
		pub = k
	default:
		return nil, malformed("publicKey", "PEM block is %q; expected PUBLIC KEY or RSA PUBLIC KEY", b.Type)
	}
	if n := pub.N.BitLen(); n < minKeyBits {
		return nil, malformed("publicKey", "the key has %d bits; the marketplace requires at least %d", n, minKeyBits)
	}
	return pub, nil
}

// ParsePrivateKeyPEM reads an RSA private key from a "PRIVATE KEY" (PKCS#8)
// or "RSA PRIVATE KEY" (PKCS#1) PEM block.
func ParsePrivateKeyPEM(data []byte) (*rsa.PrivateKey, error) {
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, malformed("privateKey", "no PEM block found; expected -----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----")
	}
	switch b.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
		if err != nil {
			return nil, malformed("privateKey", "PRIVATE KEY block is not PKCS#8: %v", err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, malformed("privateKey", "is a %T; the marketplace requires an RSA key", k)
		}
		return rk, nil
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(b.Bytes)
		if err != nil {
			return nil, malformed("privateKey", "RSA PRIVATE KEY block is not a PKCS#1 private key: %v", err)
		}
		return k, nil
	}
	return nil, malformed("privateKey", "PEM block is %q; expected PRIVATE KEY or RSA PRIVATE KEY (unencrypted)", b.Type)
}

// GenerateKey makes a key pair the marketplace accepts.
func GenerateKey(random io.Reader, bits int) (*rsa.PrivateKey, error) {
	if bits < minKeyBits {
		return nil, fmt.Errorf("RSA key of %d bits: the marketplace requires at least %d", bits, minKeyBits)
	}
	return rsa.GenerateKey(random, bits)
}

// MarshalPublicKeyPEM encodes pub as a "PUBLIC KEY" (SubjectPublicKeyInfo)
// block, the form merchants upload.
func MarshalPublicKeyPEM(pub *rsa.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// MarshalPrivateKeyPEM encodes priv as a "PRIVATE KEY" (PKCS#8) block.
func MarshalPrivateKeyPEM(priv *rsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}
