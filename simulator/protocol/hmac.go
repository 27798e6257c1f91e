package protocol

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// hmacSHA256 is HMAC-SHA256 over the concatenation of parts, written one
// after another so that callers need not build the message.
func hmacSHA256(key string, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, []byte(key))
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

func hmacBase64(key string, parts ...[]byte) string {
	return base64.StdEncoding.EncodeToString(hmacSHA256(key, parts...))
}

func hmacHex(key string, parts ...[]byte) string {
	return hex.EncodeToString(hmacSHA256(key, parts...))
}

// equalBase64 compares two Base64 signatures exactly, in constant time.
func equalBase64(expected, received string) bool {
	return hmac.Equal([]byte(expected), []byte(received))
}

// equalHex compares two hex signatures ignoring case, in constant time: the
// marketplace sends upper or lower case (callbacks.md §4.2).
func equalHex(expected, received string) bool {
	e, err1 := hex.DecodeString(expected)
	r, err2 := hex.DecodeString(received)
	return err1 == nil && err2 == nil && hmac.Equal(e, r)
}

// suspect is one known way of getting a signature wrong: the signature that
// mistake would produce, and how to describe it to the merchant.
type suspect struct {
	cause string
	sign  func() string
}

// diagnose returns the cause of the first suspect whose signature equals
// the received one, or "" when none does. It runs only after a mismatch, so
// its cost never touches the success path.
func diagnose(received string, equal func(a, b string) bool, suspects ...suspect) string {
	for _, s := range suspects {
		if equal(s.sign(), received) {
			return s.cause
		}
	}
	return ""
}

// keySuspects are the mistakes about the key itself, common to every scheme.
func keySuspects(key string, sign func(key string) string) []suspect {
	if t := strings.TrimSpace(key); t != key {
		return []suspect{{"the access key given here has surrounding whitespace; the signature matches the trimmed key", func() string { return sign(t) }}}
	}
	return []suspect{{"the signer's access key ends with a newline (read from a file without trimming)", func() string { return sign(key + "\n") }}}
}
